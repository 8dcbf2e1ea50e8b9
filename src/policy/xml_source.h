// The source text of a policy document as pugixml parses it, with the positions needed to
// report errors by line and column. Internal to the policy module.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy::internal {

struct SourcePosition {
  int line = 1;    // 1-based.
  int column = 1;  // 1-based, in bytes.
};

class XmlSource {
 public:
  // Copies `original` and escapes the characters that XML forbids inside expressions: a quote
  // that matches the attribute's delimiter, '<', and an '&' that starts no entity reference.
  // APIM accepts such documents, so the escaping keeps them parseable by a strict parser.
  explicit XmlSource(std::string_view original);

  // The escaped text that pugixml parses (and modifies in place when parsing in situ).
  const std::string& text() const { return text_; }

  // Converts an offset in text() to a line and column of the original document.
  SourcePosition PositionOf(size_t offset) const;

  // Returns the offset in text() of the first byte of attribute `name`'s value, for the element
  // whose name starts at `element_offset`, or npos.
  size_t AttributeValueOffset(size_t element_offset, std::string_view name) const;
  // Same, for the attribute name.
  size_t AttributeNameOffset(size_t element_offset, std::string_view name) const;

  // Returns the offset in text() of the `decoded_index`-th byte of the entity-decoded value that
  // starts at `raw_offset`.
  size_t RawOffsetOf(size_t raw_offset, size_t decoded_index) const;

 private:
  size_t CopyExpression(size_t start, char quote);
  void Emit(char c, size_t original_offset);
  void EmitEscaped(std::string_view entity, size_t original_offset);

  std::string_view original_;
  std::string text_;
  std::vector<size_t> original_offsets_;  // original_offsets_[i] is the source of text_[i].
};

}  // namespace credgate::policy::internal
