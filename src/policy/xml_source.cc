#include "policy/xml_source.h"

#include <algorithm>

namespace credgate::policy::internal {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Returns whether `text` at `i` starts an entity reference such as &amp; or &#x22;.
bool StartsEntity(std::string_view text, size_t i) {
  size_t j = i + 1;
  if (j < text.size() && text[j] == '#') ++j;
  size_t name_start = j;
  while (j < text.size() && j - name_start < 10 &&
         (std::isalnum(static_cast<unsigned char>(text[j])) != 0)) {
    ++j;
  }
  return j > name_start && j < text.size() && text[j] == ';';
}

size_t Utf8Length(uint32_t code_point) {
  if (code_point < 0x80) return 1;
  if (code_point < 0x800) return 2;
  if (code_point < 0x10000) return 3;
  return 4;
}

}  // namespace

XmlSource::XmlSource(std::string_view original) : original_(original) {
  text_.reserve(original.size() + 64);
  original_offsets_.reserve(original.size() + 64);
  size_t i = 0;
  bool in_tag = false;
  while (i < original.size()) {
    std::string_view rest = original.substr(i);
    if (!in_tag) {
      std::string_view skip_end;
      if (rest.starts_with("<!--")) skip_end = "-->";
      if (rest.starts_with("<![CDATA[")) skip_end = "]]>";
      if (rest.starts_with("<?")) skip_end = "?>";
      if (!skip_end.empty()) {
        size_t end = original.find(skip_end, i);
        end = end == std::string_view::npos ? original.size() : end + skip_end.size();
        while (i < end) Emit(original[i], i), ++i;
        continue;
      }
      if (rest.starts_with("@(") || rest.starts_with("@{")) {
        i = CopyExpression(i, '<');
        continue;
      }
      if (original[i] == '<') in_tag = true;
      Emit(original[i], i);
      ++i;
      continue;
    }
    char c = original[i];
    if (c == '>') in_tag = false;
    if (c != '"' && c != '\'') {
      Emit(c, i);
      ++i;
      continue;
    }
    // An attribute value: copy it, escaping expressions inside.
    Emit(c, i);
    ++i;
    while (i < original.size() && original[i] != c) {
      if (original.substr(i).starts_with("@(") || original.substr(i).starts_with("@{")) {
        i = CopyExpression(i, c);
      } else {
        Emit(original[i], i);
        ++i;
      }
    }
    if (i < original.size()) Emit(original[i], i), ++i;
  }
}

// Copies the expression at `start` up to its matching close bracket and returns the offset
// after it. `quote` is the attribute delimiter, or '<' for element text. An unbalanced
// expression is copied unchanged up to the delimiter so that the parser reports it.
size_t XmlSource::CopyExpression(size_t start, char quote) {
  const size_t text_mark = text_.size();
  int depth = 0;
  size_t i = start + 1;
  for (; i < original_.size(); ++i) {
    char c = original_[i];
    if (c == '(' || c == '{' || c == '[') ++depth;
    if (c == ')' || c == '}' || c == ']') --depth;
    if (c == '"' || (c == '\'' && quote != '\'')) {
      // A C# string or char literal; @"..." doubles quotes instead of escaping them.
      bool verbatim = c == '"' && original_[i - 1] == '@';
      size_t j = i + 1;
      while (j < original_.size() && original_[j] != c) {
        if (!verbatim && original_[j] == '\\') ++j;
        ++j;
      }
      i = std::min(j, original_.size() - 1);
    }
    if (depth == 0) break;
  }
  if (depth != 0 || i >= original_.size()) {
    // Unbalanced: emit unchanged up to the delimiter.
    text_.resize(text_mark);
    original_offsets_.resize(text_mark);
    size_t end = original_.find(quote == '<' ? '<' : quote, start);
    end = end == std::string_view::npos ? original_.size() : end;
    for (size_t k = start; k < end; ++k) Emit(original_[k], k);
    return end;
  }
  for (size_t k = start; k <= i; ++k) {
    char c = original_[k];
    if (c == '<') {
      EmitEscaped("&lt;", k);
    } else if (c == '&' && !StartsEntity(original_, k)) {
      EmitEscaped("&amp;", k);
    } else if (c == '"' && quote == '"') {
      EmitEscaped("&quot;", k);
    } else if (c == '\'' && quote == '\'') {
      EmitEscaped("&apos;", k);
    } else {
      Emit(c, k);
    }
  }
  return i + 1;
}

void XmlSource::Emit(char c, size_t original_offset) {
  text_ += c;
  original_offsets_.push_back(original_offset);
}

void XmlSource::EmitEscaped(std::string_view entity, size_t original_offset) {
  for (char c : entity) Emit(c, original_offset);
}

SourcePosition XmlSource::PositionOf(size_t offset) const {
  size_t original =
      offset < original_offsets_.size() ? original_offsets_[offset] : original_.size();
  SourcePosition position;
  for (size_t i = 0; i < original && i < original_.size(); ++i) {
    if (original_[i] == '\n') {
      ++position.line;
      position.column = 1;
    } else {
      ++position.column;
    }
  }
  return position;
}

size_t XmlSource::AttributeNameOffset(size_t element_offset, std::string_view name) const {
  // Skip the element name, then walk name="value" pairs up to the end of the start tag.
  size_t i = element_offset;
  while (i < text_.size() && !IsSpace(text_[i]) && text_[i] != '>' && text_[i] != '/') ++i;
  while (i < text_.size()) {
    while (i < text_.size() && IsSpace(text_[i])) ++i;
    if (i >= text_.size() || text_[i] == '>' || text_[i] == '/') return std::string::npos;
    size_t name_start = i;
    while (i < text_.size() && !IsSpace(text_[i]) && text_[i] != '=') ++i;
    std::string_view found = std::string_view(text_).substr(name_start, i - name_start);
    while (i < text_.size() && (IsSpace(text_[i]) || text_[i] == '=')) ++i;
    if (i >= text_.size()) return std::string::npos;
    char quote = text_[i];
    size_t close = text_.find(quote, i + 1);
    if (found == name) return name_start;
    if (close == std::string::npos) return std::string::npos;
    i = close + 1;
  }
  return std::string::npos;
}

size_t XmlSource::AttributeValueOffset(size_t element_offset, std::string_view name) const {
  size_t i = AttributeNameOffset(element_offset, name);
  if (i == std::string::npos) return i;
  i += name.size();
  while (i < text_.size() && (IsSpace(text_[i]) || text_[i] == '=')) ++i;
  return i + 1;  // After the quote.
}

size_t XmlSource::RawOffsetOf(size_t raw_offset, size_t decoded_index) const {
  size_t raw = raw_offset;
  size_t decoded = 0;
  while (decoded < decoded_index && raw < text_.size()) {
    if (text_[raw] == '&' && StartsEntity(text_, raw)) {
      size_t semicolon = text_.find(';', raw);
      size_t length = 1;
      if (text_[raw + 1] == '#') {
        bool hex = text_[raw + 2] == 'x' || text_[raw + 2] == 'X';
        std::string digits = text_.substr(raw + (hex ? 3 : 2), semicolon - raw - (hex ? 3 : 2));
        length =
            Utf8Length(static_cast<uint32_t>(std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10)));
      }
      decoded += length;
      raw = semicolon + 1;
      continue;
    }
    ++decoded;
    ++raw;
  }
  return raw;
}

}  // namespace credgate::policy::internal
