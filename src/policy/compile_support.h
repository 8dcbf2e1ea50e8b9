// Helpers that the document compiler and the statement compilers share: reading an element's
// attributes and children with errors positioned at line and column. Internal to the policy
// module.
#pragma once

#include <initializer_list>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policy/certificates.h"
#include "policy/fragment.h"
#include "policy/statement.h"
#include "policy/xml_source.h"

namespace credgate::policy::internal {

// The policy fragments that <include-fragment> can include while one document compiles, and the
// stored certificates that its statements name.
struct FragmentContext {
  const FragmentLookup* lookup = nullptr;  // Null: no fragments exist.
  const CertificateLookup* certificates = nullptr;  // Null: no certificates exist.
  std::set<std::string> used_certificates;          // Every certificate id a statement named.
  std::vector<std::string> stack;          // The fragments being compiled, outermost first.
  std::set<std::string> included;          // Every fragment included so far.
  bool reads_request_body = false;         // An included fragment's text names Request.Body.
  bool reads_response_body = false;        // An included fragment's text names Response.Body.
};

struct CompileScope {
  const XmlSource& source;
  PolicyScope scope;
  Section section;
  FragmentContext* fragments = nullptr;  // Null: <include-fragment> finds no fragment.
  // The <choose>, <retry> and <limit-concurrency> blocks around the <include-fragment> whose
  // fragment this source is, which count towards kMaxChooseNesting. 0 in a policy document.
  size_t outer_blocks = 0;
  // True when that <include-fragment> is inside <retry> or <limit-concurrency>, where
  // <forward-request> sends the request when it runs.
  bool inside_wrapper = false;
};

// Returns the allowed name closest to `name` by edit distance when it is close enough to be a
// likely typo, or "".
std::string ClosestName(std::string_view name, std::initializer_list<std::string_view> allowed);

class ElementReader {
 public:
  ElementReader(pugi::xml_node node, const CompileScope& scope) : node_(node), scope_(scope) {}

  pugi::xml_node node() const { return node_; }
  std::string_view name() const { return node_.name(); }
  SourcePosition position() const {
    return scope_.source.PositionOf(static_cast<size_t>(node_.offset_debug()));
  }
  const CompileScope& scope() const { return scope_; }

  // Returns an error "line L, column C: <message>" at the element name.
  Error Fail(const std::string& message) const;
  // Same, at attribute `attribute` (its name, or byte `value_index` of its value when given).
  Error FailAt(std::string_view attribute, const std::string& message,
               std::optional<size_t> value_index = std::nullopt) const;

  // Rejects attributes outside `allowed` (plus "id"), suggesting the closest allowed name.
  Status CheckAttributes(std::initializer_list<std::string_view> allowed) const;
  // Rejects child elements, and text other than whitespace, for statements that take none.
  Status CheckNoChildren() const;

  std::optional<std::string_view> Attribute(std::string_view name) const;
  Result<std::string> RequiredAttribute(std::string_view name) const;
  // Compiles attribute `name` as a literal or expression; nullopt when absent.
  Result<std::optional<ValueTemplate>> TemplateAttribute(std::string_view name) const;
  Result<ValueTemplate> RequiredTemplateAttribute(std::string_view name) const;
  // Compiles the attribute as an expression that must be one, as when's condition.
  Result<std::shared_ptr<const Expression>> ExpressionAttribute(std::string_view name) const;
  // Reads "true"/"false" (case-insensitive); `fallback` when absent.
  Result<bool> BoolAttribute(std::string_view name, bool fallback) const;
  // Reads an integer from `min` to `max`; `fallback` when absent.
  Result<int64_t> IntegerAttribute(std::string_view name, int64_t fallback, int64_t min,
                                   int64_t max) const;
  // Same, for a required attribute.
  Result<int64_t> RequiredIntegerAttribute(std::string_view name, int64_t min, int64_t max) const;
  // Compiles the element's text, trimmed of surrounding whitespace, as a literal or expression.
  Result<ValueTemplate> TextTemplate() const;

  // Returns the element's content as written in the document, markup included, and sets
  // `*offset` to its offset in the source text. A content made of one CDATA section gives the
  // section's text. Used for Liquid templates, whose text may contain XML elements.
  std::string_view RawContent(size_t* offset) const;
  // Converts an offset in the source text to an error "line L, column C: <message>".
  Error FailAtSourceOffset(size_t offset, const std::string& message) const;

  // Fills the fields that every statement has: name, id, position.
  Statement NewStatement(StatementSpec spec) const;

 private:
  Result<ValueTemplate> CompileAt(std::string_view text, size_t raw_offset,
                                  std::string_view where) const;

  pugi::xml_node node_;
  const CompileScope& scope_;
};

// Calls `visit(ElementReader)` for each child element of `element`, rejecting text and elements
// not named `child_name`. Returns the first error.
template <typename Visit>
Status ForEachChild(const ElementReader& element, std::string_view child_name, Visit visit) {
  for (pugi::xml_node node : element.node().children()) {
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (std::string_view(node.value()).find_first_not_of(" \t\r\n") != std::string_view::npos) {
        return element.Fail("<" + std::string(element.name()) + "> takes no text; use <" +
                            std::string(child_name) + "> elements");
      }
      continue;
    }
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    if (child.name() != child_name) {
      return child.Fail("unknown element <" + std::string(child.name()) + "> in <" +
                        std::string(element.name()) + ">; only <" + std::string(child_name) +
                        "> is allowed");
    }
    CREDGATE_RETURN_IF_ERROR(visit(child));
  }
  return OkStatus();
}

// Same as ForEachChild for children that contain only a literal text, which `visit` receives.
template <typename Visit>
Status ForEachChildText(const ElementReader& element, std::string_view child_name, Visit visit) {
  return ForEachChild(element, child_name, [&](const ElementReader& child) -> Status {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    auto text = child.TextTemplate();
    if (!text.ok()) return text.error();
    if (text->is_expression()) {
      return child.Fail("<" + std::string(child_name) +
                        "> takes a literal value, not an expression");
    }
    return visit(child, text->literal());
  });
}

// Returns the stored certificate that `key` names (an id, or "thumbprint:<HEX>"), and records
// in the document's FragmentContext that the document uses it. Errors, at attribute
// `attribute` of `element`: `key` is an expression, or no stored certificate has it.
Result<std::shared_ptr<const crypto::Certificate>> StoredCertificate(const ElementReader& element,
                                                                     std::string_view attribute,
                                                                     const std::string& key);

}  // namespace credgate::policy::internal
