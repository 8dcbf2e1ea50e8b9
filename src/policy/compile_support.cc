#include "policy/compile_support.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view TrimView(std::string_view text, size_t* leading) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    *leading = text.size();
    return {};
  }
  size_t last = text.find_last_not_of(" \t\r\n");
  *leading = first;
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string ClosestName(std::string_view name, std::initializer_list<std::string_view> allowed) {
  std::string_view best;
  size_t best_distance = 3;  // Suggest only names within two edits.
  for (std::string_view candidate : allowed) {
    size_t distance = EditDistance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return std::string(best);
}

Error ElementReader::Fail(const std::string& message) const {
  SourcePosition at = position();
  return MakeError(ErrorCode::kInvalidArgument, "line " + std::to_string(at.line) + ", column " +
                                                    std::to_string(at.column) + ": " + message);
}

Error ElementReader::FailAt(std::string_view attribute, const std::string& message,
                            std::optional<size_t> value_index) const {
  size_t element = static_cast<size_t>(node_.offset_debug());
  size_t offset = value_index ? scope_.source.AttributeValueOffset(element, attribute)
                              : scope_.source.AttributeNameOffset(element, attribute);
  if (offset == std::string::npos) return Fail(message);
  if (value_index) offset = scope_.source.RawOffsetOf(offset, *value_index);
  SourcePosition at = scope_.source.PositionOf(offset);
  return MakeError(ErrorCode::kInvalidArgument, "line " + std::to_string(at.line) + ", column " +
                                                    std::to_string(at.column) + ": " + message);
}

Status ElementReader::CheckAttributes(std::initializer_list<std::string_view> allowed) const {
  for (pugi::xml_attribute attribute : node_.attributes()) {
    std::string_view name = attribute.name();
    if (name == "id" || std::find(allowed.begin(), allowed.end(), name) != allowed.end()) {
      continue;
    }
    std::string message =
        "unknown attribute '" + std::string(name) + "' on <" + std::string(this->name()) + ">";
    std::string closest = ClosestName(name, allowed);
    if (!closest.empty()) {
      message += "; did you mean '" + closest + "'?";
    } else {
      std::string names;
      for (std::string_view candidate : allowed) {
        names += (names.empty() ? "" : ", ") + std::string(candidate);
      }
      message += "; allowed attributes: " + (names.empty() ? std::string("id") : names + ", id");
    }
    return FailAt(name, message);
  }
  return OkStatus();
}

Status ElementReader::CheckNoChildren() const {
  for (pugi::xml_node child : node_.children()) {
    if (child.type() == pugi::node_element) {
      return ElementReader(child, scope_)
          .Fail("<" + std::string(name()) + "> takes no child elements; remove <" +
                std::string(child.name()) + ">");
    }
    size_t leading;
    if ((child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) &&
        !TrimView(child.value(), &leading).empty()) {
      return Fail("<" + std::string(name()) + "> takes no text content");
    }
  }
  return OkStatus();
}

std::optional<std::string_view> ElementReader::Attribute(std::string_view name) const {
  pugi::xml_attribute attribute = node_.attribute(std::string(name).c_str());
  if (!attribute) return std::nullopt;
  return std::string_view(attribute.value());
}

Result<std::string> ElementReader::RequiredAttribute(std::string_view name) const {
  auto value = Attribute(name);
  if (!value) {
    return Fail("missing required attribute '" + std::string(name) + "' on <" +
                std::string(this->name()) + ">");
  }
  if (value->empty()) {
    return FailAt(name, "attribute '" + std::string(name) + "' on <" + std::string(this->name()) +
                            "> must not be empty");
  }
  return std::string(*value);
}

Result<ValueTemplate> ElementReader::CompileAt(std::string_view text, size_t raw_offset,
                                               std::string_view where) const {
  size_t error_offset = 0;
  auto compiled = CompileValueTemplate(text, &error_offset);
  if (compiled.ok()) return compiled;
  size_t offset = scope_.source.RawOffsetOf(raw_offset, error_offset);
  SourcePosition at = scope_.source.PositionOf(offset);
  return MakeError(ErrorCode::kInvalidArgument,
                   "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                       ": invalid expression in " + std::string(where) + " of <" +
                       std::string(name()) + ">: " + compiled.error().message);
}

Result<std::optional<ValueTemplate>> ElementReader::TemplateAttribute(std::string_view name) const {
  auto value = Attribute(name);
  if (!value) return std::optional<ValueTemplate>();
  size_t element = static_cast<size_t>(node_.offset_debug());
  size_t raw = scope_.source.AttributeValueOffset(element, name);
  auto compiled = CompileAt(*value, raw, "attribute '" + std::string(name) + "'");
  if (!compiled.ok()) return compiled.error();
  return std::optional<ValueTemplate>(std::move(compiled).value());
}

Result<ValueTemplate> ElementReader::RequiredTemplateAttribute(std::string_view name) const {
  auto required = RequiredAttribute(name);
  if (!required.ok()) return required.error();
  auto compiled = TemplateAttribute(name);
  if (!compiled.ok()) return compiled.error();
  return std::move(**compiled);
}

Result<std::shared_ptr<const Expression>> ElementReader::ExpressionAttribute(
    std::string_view name) const {
  auto text = RequiredAttribute(name);
  if (!text.ok()) return text.error();
  if (!IsExpression(*text)) {
    return FailAt(name, "attribute '" + std::string(name) + "' on <" + std::string(this->name()) +
                            "> must be an expression such as \"@(context.Request.Method == "
                            "\"GET\")\"");
  }
  size_t element = static_cast<size_t>(node_.offset_debug());
  size_t raw = scope_.source.AttributeValueOffset(element, name);
  size_t error_offset = 0;
  auto compiled = CompileExpression(*text, &error_offset);
  if (compiled.ok()) return compiled;
  SourcePosition at = scope_.source.PositionOf(scope_.source.RawOffsetOf(raw, error_offset));
  return MakeError(ErrorCode::kInvalidArgument,
                   "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                       ": invalid expression in attribute '" + std::string(name) + "' of <" +
                       std::string(this->name()) + ">: " + compiled.error().message);
}

Result<bool> ElementReader::BoolAttribute(std::string_view name, bool fallback) const {
  auto value = Attribute(name);
  if (!value) return fallback;
  if (EqualsIgnoreCase(*value, "true")) return true;
  if (EqualsIgnoreCase(*value, "false")) return false;
  return FailAt(name, "invalid value '" + std::string(*value) + "' for attribute '" +
                          std::string(name) + "' on <" + std::string(this->name()) +
                          ">; use true or false");
}

Result<int64_t> ElementReader::IntegerAttribute(std::string_view name, int64_t fallback,
                                                int64_t min, int64_t max) const {
  auto text = Attribute(name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return FailAt(name, "invalid value '" + std::string(*text) + "' for attribute '" +
                            std::string(name) + "' on <" + std::string(this->name()) +
                            ">; use an integer from " + std::to_string(min) + " to " +
                            std::to_string(max));
  }
  return value;
}

Result<int64_t> ElementReader::RequiredIntegerAttribute(std::string_view name, int64_t min,
                                                        int64_t max) const {
  if (!Attribute(name)) {
    return Fail("missing required attribute '" + std::string(name) + "' on <" +
                std::string(this->name()) + ">");
  }
  return IntegerAttribute(name, 0, min, max);
}

Result<ValueTemplate> ElementReader::TextTemplate() const {
  pugi::xml_node text = node_.first_child();
  for (; text; text = text.next_sibling()) {
    if (text.type() == pugi::node_element) {
      return ElementReader(text, scope_)
          .Fail("<" + std::string(name()) + "> takes text only; remove <" +
                std::string(text.name()) + ">");
    }
    if (text.type() == pugi::node_pcdata || text.type() == pugi::node_cdata) break;
  }
  if (!text) return ValueTemplate(std::string());
  size_t leading = 0;
  std::string_view trimmed = TrimView(text.value(), &leading);
  size_t raw = static_cast<size_t>(text.offset_debug());
  if (text.type() == pugi::node_pcdata) {
    return CompileAt(trimmed, scope_.source.RawOffsetOf(raw, leading), "the text");
  }
  return CompileAt(trimmed, raw + leading, "the text");
}

std::string_view ElementReader::RawContent(size_t* offset) const {
  // One CDATA section, with only whitespace around it.
  pugi::xml_node cdata;
  bool only_cdata = true;
  for (pugi::xml_node child : node_.children()) {
    if (child.type() == pugi::node_cdata && !cdata) {
      cdata = child;
    } else if (child.type() != pugi::node_pcdata ||
               std::string_view(child.value()).find_first_not_of(" \t\r\n") !=
                   std::string_view::npos) {
      only_cdata = false;
    }
  }
  if (cdata && only_cdata) {
    *offset = static_cast<size_t>(cdata.offset_debug());
    return cdata.value();
  }

  // The content lies between the end of the start tag and the matching end tag.
  std::string_view text = scope_.source.text();
  size_t i = static_cast<size_t>(node_.offset_debug());
  char quote = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      break;
    }
  }
  *offset = i + 1;
  if (i >= text.size() || text[i - 1] == '/') return {};
  const std::string open = "<" + std::string(name());
  const std::string close = "</" + std::string(name());
  size_t depth = 1;
  for (size_t at = i + 1; at < text.size(); ++at) {
    if (text[at] != '<') continue;
    std::string_view rest = text.substr(at);
    auto ends_name = [&](size_t length) {
      return length < rest.size() &&
             std::string_view(" \t\r\n/>").find(rest[length]) != std::string_view::npos;
    };
    if (rest.starts_with(close) && ends_name(close.size())) {
      if (--depth == 0) return text.substr(i + 1, at - i - 1);
    } else if (rest.starts_with(open) && ends_name(open.size())) {
      size_t tag_end = text.find('>', at);
      if (tag_end != std::string_view::npos && text[tag_end - 1] != '/') ++depth;
    }
  }
  return {};
}

Error ElementReader::FailAtSourceOffset(size_t offset, const std::string& message) const {
  SourcePosition at = scope_.source.PositionOf(offset);
  return MakeError(ErrorCode::kInvalidArgument, "line " + std::to_string(at.line) + ", column " +
                                                    std::to_string(at.column) + ": " + message);
}

Statement ElementReader::NewStatement(StatementSpec spec) const {
  Statement statement;
  statement.name = name();
  if (auto id = Attribute("id")) statement.id = *id;
  SourcePosition at = position();
  statement.line = at.line;
  statement.column = at.column;
  statement.spec = std::move(spec);
  return statement;
}

Result<std::shared_ptr<const crypto::Certificate>> StoredCertificate(const ElementReader& element,
                                                                     std::string_view attribute,
                                                                     const std::string& key) {
  const std::string name(attribute);
  if (IsExpression(key)) {
    return element.FailAt(attribute, "attribute '" + name + "' on <" +
                                         std::string(element.name()) + "> must be a literal");
  }
  FragmentContext* context = element.scope().fragments;
  std::shared_ptr<const crypto::Certificate> certificate;
  if (context != nullptr && context->certificates != nullptr && *context->certificates) {
    certificate = (*context->certificates)(key);
  }
  if (!certificate) {
    if (key.starts_with(kThumbprintPrefix)) {
      return element.FailAt(attribute, "no stored certificate has the thumbprint " +
                                           key.substr(kThumbprintPrefix.size()) +
                                           "; upload it with PUT /certificates/{id} first");
    }
    return element.FailAt(attribute, "certificate '" + key +
                                         "' was not found; create it with PUT /certificates/" +
                                         key + " first");
  }
  context->used_certificates.insert(key);
  return certificate;
}

}  // namespace credgate::policy::internal
