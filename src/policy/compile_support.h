// Helpers that the document compiler and the statement compilers share: reading an element's
// attributes and children with errors positioned at line and column. Internal to the policy
// module.
#pragma once

#include <initializer_list>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/statement.h"
#include "policy/xml_source.h"

namespace credgate::policy::internal {

struct CompileScope {
  const XmlSource& source;
  PolicyScope scope;
  Section section;
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
  // Compiles the element's text, trimmed of surrounding whitespace, as a literal or expression.
  Result<ValueTemplate> TextTemplate() const;

  // Fills the fields that every statement has: name, id, position.
  Statement NewStatement(StatementSpec spec) const;

 private:
  Result<ValueTemplate> CompileAt(std::string_view text, size_t raw_offset,
                                  std::string_view where) const;

  pugi::xml_node node_;
  const CompileScope& scope_;
};

}  // namespace credgate::policy::internal
