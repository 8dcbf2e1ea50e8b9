#include "policy/fragment.h"

#include <algorithm>
#include <pugixml.hpp>

#include "policy/document.h"
#include "policy/fragment_compiler.h"
#include "policy/statement_compilers.h"
#include "policy/wrapper_compilers.h"
#include "policy/xml_source.h"

namespace credgate::policy {

namespace internal {

namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Parses `xml` as a <fragment> document into `document`. Errors name the fragment, line and
// column.
Result<pugi::xml_node> ParseFragment(std::string_view id, const XmlSource& source,
                                     pugi::xml_document& document) {
  const std::string where = "policy fragment '" + std::string(id) + "', ";
  pugi::xml_parse_result parsed = document.load_buffer(source.text().data(), source.text().size(),
                                                       pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    SourcePosition at = source.PositionOf(static_cast<size_t>(parsed.offset));
    return Invalid(where + "line " + std::to_string(at.line) + ", column " +
                   std::to_string(at.column) + ": malformed XML: " + parsed.description());
  }
  pugi::xml_node root = document.document_element();
  if (!root) return Invalid(where + "line 1, column 1: the fragment is empty; its root is <fragment>");
  if (std::string_view(root.name()) != "fragment") {
    SourcePosition at = source.PositionOf(static_cast<size_t>(root.offset_debug()));
    return Invalid(where + "line " + std::to_string(at.line) + ", column " +
                   std::to_string(at.column) + ": the root element is <" + root.name() +
                   ">; a policy fragment's root is <fragment>");
  }
  if (root.first_attribute()) {
    SourcePosition at = source.PositionOf(static_cast<size_t>(root.offset_debug()));
    return Invalid(where + "line " + std::to_string(at.line) + ", column " +
                   std::to_string(at.column) + ": <fragment> takes no attributes");
  }
  return root;
}

// Compiles the statements of fragment `id` for `outer`'s scope and section. `outer_blocks` and
// `inside_wrapper` describe the place of the <include-fragment> (see CompileScope).
Result<StatementList> CompileFragmentStatements(std::string_view id, std::string_view xml,
                                                const CompileScope& outer, size_t outer_blocks,
                                                bool inside_wrapper, const std::string& prefix) {
  XmlSource source(xml);
  pugi::xml_document document;
  auto root = ParseFragment(id, source, document);
  if (!root.ok()) return root.error();
  CompileScope scope{source,        outer.scope,    outer.section, outer.fragments,
                     outer_blocks,  inside_wrapper};
  auto statements = CompileStatements(*root, scope, prefix, /*allow_base=*/false);
  if (!statements.ok()) {
    return Invalid("policy fragment '" + std::string(id) + "', " + statements.error().message);
  }
  return statements;
}

}  // namespace

Result<StatementList> CompileIncludeFragment(const ElementReader& element,
                                             const std::string& path) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"fragment-id"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  auto id_result = element.RequiredAttribute("fragment-id");
  if (!id_result.ok()) return id_result.error();
  const std::string id = std::move(id_result).value();

  FragmentContext* context = element.scope().fragments;
  auto not_found = [&] {
    return element.FailAt("fragment-id", "policy fragment '" + id +
                                             "' was not found; create it with PUT "
                                             "/policyFragments/" + id + " first");
  };
  if (context == nullptr) return not_found();
  auto& stack = context->stack;
  if (std::find(stack.begin(), stack.end(), id) != stack.end()) {
    std::string chain;
    for (const std::string& entry : stack) chain += entry + " -> ";
    return element.FailAt("fragment-id", "policy fragment '" + id + "' includes itself (" +
                                             chain + id + "); remove one <include-fragment>");
  }
  if (stack.size() >= kMaxFragmentNesting) {
    return element.FailAt("fragment-id", "policy fragments are included more than " +
                                             std::to_string(kMaxFragmentNesting) +
                                             " levels deep");
  }
  std::optional<std::string> xml;
  if (context->lookup != nullptr && *context->lookup) xml = (*context->lookup)(id);
  if (!xml) return not_found();

  const CompileScope& outer = element.scope();
  const size_t blocks = outer.outer_blocks + EnclosingBlockCount(element.node());
  const bool inside_wrapper = outer.inside_wrapper || InsideWrapper(element.node());
  stack.push_back(id);
  auto statements = CompileFragmentStatements(id, *xml, outer, blocks, inside_wrapper, path + "/");
  stack.pop_back();
  if (!statements.ok()) return element.Fail(statements.error().message);
  context->included.insert(id);
  if (xml->find("Request.Body") != std::string::npos) context->reads_request_body = true;
  if (xml->find("Response.Body") != std::string::npos) context->reads_response_body = true;
  return statements;
}

}  // namespace internal

Result<std::set<std::string>> CompilePolicyFragment(std::string_view id, std::string_view xml,
                                                    const FragmentLookup& fragments,
                                                    const CertificateLookup& certificates) {
  // Parse once first, so that a syntax error is reported once rather than per section.
  {
    internal::XmlSource source(xml);
    pugi::xml_document document;
    auto root = internal::ParseFragment(id, source, document);
    if (!root.ok()) return root.error();
  }
  std::optional<Error> first_error;
  for (Section section :
       {Section::kInbound, Section::kBackend, Section::kOutbound, Section::kOnError}) {
    internal::XmlSource source(xml);
    internal::FragmentContext context;
    if (fragments) context.lookup = &fragments;
    if (certificates) context.certificates = &certificates;
    context.stack.push_back(std::string(id));
    internal::CompileScope outer{source, PolicyScope::kOperation, section, &context, 0, false};
    auto statements =
        internal::CompileFragmentStatements(id, xml, outer, 0, false, "include-fragment[1]/");
    if (statements.ok()) return std::move(context.included);
    // A placement error ("is not allowed in <inbound>") reports only that the section is wrong,
    // so an error of another kind, from a later section, is more useful.
    const bool placement = statements.error().message.find("> is not allowed in <") !=
                           std::string::npos;
    if (!first_error || (!placement && first_error->message.find("> is not allowed in <") !=
                                           std::string::npos)) {
      first_error = statements.error();
    }
  }
  return *first_error;
}

}  // namespace credgate::policy
