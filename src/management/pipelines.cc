#include "management/pipelines.h"

#include "management/backends.h"
#include "management/certificates.h"
#include "management/policy_fragments.h"
#include "policy/document.h"
#include "policy/pipeline.h"

namespace credgate::management {

Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const runtime::Snapshot& snapshot) {
  auto document = CompileDocument(xml, level, FragmentsOf(snapshot), CertificatesOf(snapshot));
  if (!document.ok()) return document;
  CREDGATE_RETURN_IF_ERROR(RequireBackends(**document, [&snapshot](const std::string& id) {
    return snapshot.backends.contains(id);
  }));
  CREDGATE_RETURN_IF_ERROR(
      RequireManagedIdentities(**document, snapshot.managed_identity_client_ids));
  return document;
}

Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const policy::FragmentLookup& fragments,
    const policy::CertificateLookup& certificates) {
  policy::PolicyScope scope = level == PolicyLevel::kGlobal ? policy::PolicyScope::kGlobal
                              : level == PolicyLevel::kApi  ? policy::PolicyScope::kApi
                                                            : policy::PolicyScope::kOperation;
  auto document = policy::CompilePolicyDocument(xml, scope, fragments, certificates);
  if (!document.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the policy document is invalid: " + document.error().message,
                     "ValidationError");
  }
  return std::shared_ptr<const policy::CompiledDocument>(
      std::make_shared<policy::CompiledDocument>(std::move(*document)));
}

Status RequireManagedIdentities(const policy::CompiledDocument& document,
                                const std::set<std::string>& client_ids) {
  for (const std::string& id : document.managed_identity_client_ids) {
    if (client_ids.contains(id)) continue;
    return MakeError(ErrorCode::kInvalidArgument,
                     "authentication-managed-identity names client-id '" + id +
                         "', which managedIdentity.userAssigned in the configuration does not "
                         "list: add it there with the token provider of that identity",
                     "ValidationError");
  }
  return OkStatus();
}

Status RecomposePipelines(runtime::Snapshot& snapshot, std::string_view api_id) {
  // Compose everything first and publish only when all compositions succeeded.
  std::map<std::string, std::shared_ptr<const runtime::ApiEntry>> updated = snapshot.apis;
  for (auto& [id, api] : updated) {
    if (!api_id.empty() && id != api_id) continue;
    auto copy = std::make_shared<runtime::ApiEntry>(*api);
    for (auto& [operation_id, operation] : copy->operations) {
      auto pipeline =
          policy::ComposePipeline(snapshot.global_document, copy->document, operation->document);
      if (!pipeline.ok()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "the policies of operation '" + id + "/" + operation_id +
                             "' cannot be composed: " + pipeline.error().message,
                         "ValidationError");
      }
      auto entry = std::make_shared<runtime::OperationEntry>(*operation);
      entry->pipeline = std::move(*pipeline);
      operation = std::move(entry);
    }
    api = std::move(copy);
  }
  snapshot.apis = std::move(updated);
  return OkStatus();
}

Result<std::shared_ptr<const policy::CompiledDocument>> RejectingDocument(PolicyLevel level) {
  static constexpr std::string_view kXml =
      R"(<policies><inbound><return-response>)"
      R"(<set-status code="500" reason="Internal Server Error"/>)"
      R"(<set-header name="Content-Type" exists-action="override">)"
      R"(<value>application/json; charset=utf-8</value></set-header>)"
      R"(<set-body>{"statusCode": 500, "message": "The stored policy of this scope does not )"
      R"(compile, so its requests are rejected. An administrator must save the policy again."})"
      R"(</set-body></return-response></inbound></policies>)";
  return CompileDocument(kXml, level, policy::FragmentLookup{});
}

}  // namespace credgate::management
