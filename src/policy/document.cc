#include "policy/document.h"

#include <pugixml.hpp>

#include "policy/compile_support.h"
#include "policy/statement_compilers.h"
#include "policy/xml_source.h"

namespace credgate::policy {

namespace {

constexpr Section kSections[] = {Section::kInbound, Section::kBackend, Section::kOutbound,
                                 Section::kOnError};

// Reports whether a statement of `statements`, or of a block inside one, is a send-request
// that copies the current request and so its body.
bool CopiesRequest(const StatementList& statements) {
  for (const Statement& statement : statements) {
    if (const auto* send = std::get_if<SendRequestSpec>(&statement.spec)) {
      if (send->copy_mode) return true;
    } else if (const auto* choose = std::get_if<ChooseSpec>(&statement.spec)) {
      for (const WhenClause& clause : choose->when) {
        if (CopiesRequest(clause.statements)) return true;
      }
      if (choose->otherwise && CopiesRequest(*choose->otherwise)) return true;
    } else if (const auto* retry = std::get_if<RetrySpec>(&statement.spec)) {
      if (CopiesRequest(retry->statements)) return true;
    } else if (const auto* limit = std::get_if<LimitConcurrencySpec>(&statement.spec)) {
      if (CopiesRequest(limit->statements)) return true;
    }
  }
  return false;
}

// Adds the literal backend ids and the managed identity client ids that `statements` name to
// `document`, and marks it as reading the response body when it contains cache-store.
void CollectNamedResources(const StatementList& statements, CompiledDocument& document) {
  for (const Statement& statement : statements) {
    if (const auto* set = std::get_if<SetBackendServiceSpec>(&statement.spec)) {
      if (set->backend_id && !set->backend_id->is_expression()) {
        document.backends.insert(set->backend_id->literal());
      }
    } else if (std::holds_alternative<CacheStoreSpec>(statement.spec)) {
      // cache-store stores the whole response, so the gateway reads its body before outbound.
      document.reads_response_body = true;
    } else if (const auto* identity = std::get_if<ManagedIdentitySpec>(&statement.spec)) {
      if (!identity->client_id.empty()) {
        document.managed_identity_client_ids.insert(identity->client_id);
      }
    } else if (const auto* send = std::get_if<SendRequestSpec>(&statement.spec)) {
      if (send->managed_identity && !send->managed_identity->client_id.empty()) {
        document.managed_identity_client_ids.insert(send->managed_identity->client_id);
      }
    } else if (const auto* choose = std::get_if<ChooseSpec>(&statement.spec)) {
      for (const WhenClause& clause : choose->when) {
        CollectNamedResources(clause.statements, document);
      }
      if (choose->otherwise) CollectNamedResources(*choose->otherwise, document);
    } else if (const auto* retry = std::get_if<RetrySpec>(&statement.spec)) {
      CollectNamedResources(retry->statements, document);
    } else if (const auto* limit = std::get_if<LimitConcurrencySpec>(&statement.spec)) {
      CollectNamedResources(limit->statements, document);
    }
  }
}

Error FailAtOffset(const internal::XmlSource& source, size_t offset, const std::string& message) {
  internal::SourcePosition at = source.PositionOf(offset);
  return MakeError(ErrorCode::kInvalidArgument, "line " + std::to_string(at.line) + ", column " +
                                                    std::to_string(at.column) + ": " + message);
}

}  // namespace

std::string_view ScopeName(PolicyScope scope) {
  switch (scope) {
    case PolicyScope::kGlobal:
      return "global";
    case PolicyScope::kApi:
      return "api";
    case PolicyScope::kOperation:
      return "operation";
  }
  return "global";
}

std::string_view SectionName(Section section) {
  switch (section) {
    case Section::kInbound:
      return "inbound";
    case Section::kBackend:
      return "backend";
    case Section::kOutbound:
      return "outbound";
    case Section::kOnError:
      return "on-error";
  }
  return "inbound";
}

Result<CompiledDocument> CompilePolicyDocument(std::string_view xml, PolicyScope scope,
                                               const FragmentLookup& fragments,
                                               const CertificateLookup& certificates) {
  internal::XmlSource source(xml);
  pugi::xml_document document;
  // Comments and processing instructions are skipped by the default flags.
  pugi::xml_parse_result parsed = document.load_buffer(source.text().data(), source.text().size(),
                                                       pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return FailAtOffset(source, static_cast<size_t>(parsed.offset),
                        std::string("malformed XML: ") + parsed.description());
  }

  pugi::xml_node root = document.document_element();
  if (!root) return FailAtOffset(source, 0, "the document is empty; it needs a <policies> root");
  internal::CompileScope root_scope{source, scope, Section::kInbound, nullptr, 0, false};
  internal::ElementReader root_reader(root, root_scope);
  if (root_reader.name() != "policies") {
    return root_reader.Fail("the root element is <" + std::string(root_reader.name()) +
                            ">; a policy document's root is <policies>");
  }
  CREDGATE_RETURN_IF_ERROR(root_reader.CheckAttributes({}));

  internal::FragmentContext fragment_context;
  if (fragments) fragment_context.lookup = &fragments;
  if (certificates) fragment_context.certificates = &certificates;
  CompiledDocument compiled;
  compiled.scope = scope;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    internal::ElementReader element(child, root_scope);
    const Section* section = nullptr;
    for (const Section& candidate : kSections) {
      if (element.name() == SectionName(candidate)) section = &candidate;
    }
    if (section == nullptr) {
      std::string message = "unknown section <" + std::string(element.name()) + ">";
      std::string closest =
          internal::ClosestName(element.name(), {"inbound", "backend", "outbound", "on-error"});
      message += closest.empty() ? "; use inbound, backend, outbound or on-error"
                                 : "; did you mean <" + closest + ">?";
      return element.Fail(message);
    }
    auto& slot = compiled.sections[static_cast<size_t>(*section)];
    if (slot) {
      return element.Fail("repeated section <" + std::string(element.name()) +
                          ">; a document has each section at most once");
    }
    CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({}));
    internal::CompileScope section_scope{source, scope, *section, &fragment_context, 0, false};
    auto statements = internal::CompileStatements(child, section_scope, "", /*allow_base=*/true);
    if (!statements.ok()) return statements.error();
    slot = std::move(statements).value();
  }
  compiled.fragments = std::move(fragment_context.included);
  compiled.certificates = std::move(fragment_context.used_certificates);
  // A text search finds Request.Body in every expression, at the cost of also finding it in a
  // comment or a literal, which only makes the gateway read a body it did not need.
  compiled.reads_request_body =
      xml.find("Request.Body") != std::string_view::npos || fragment_context.reads_request_body;
  for (const auto& section : compiled.sections) {
    if (section && CopiesRequest(*section)) compiled.reads_request_body = true;
    if (section) CollectNamedResources(*section, compiled);
  }
  compiled.reads_response_body = compiled.reads_response_body ||
                                 xml.find("Response.Body") != std::string_view::npos ||
                                 fragment_context.reads_response_body;
  return compiled;
}

}  // namespace credgate::policy
