#include "management/policy_fragments.h"

#include <memory>

#include "management/certificates.h"
#include "management/pipelines.h"
#include "policy/document.h"

namespace credgate::management {

namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

bool Includes(const std::shared_ptr<const policy::CompiledDocument>& document,
              std::string_view id) {
  return document != nullptr && document->fragments.contains(std::string(id));
}

// Recompiles `document` of `policy` at `path` when it includes fragment `id`.
Status Recompile(const runtime::Snapshot& snapshot, std::string_view id, const std::string& path,
                 const std::optional<PolicyResource>& policy, PolicyLevel level,
                 std::shared_ptr<const policy::CompiledDocument>& document) {
  if (!policy || !Includes(document, id)) return OkStatus();
  auto compiled = CompileDocument(policy->xml, level, snapshot);
  if (!compiled.ok()) {
    return Invalid("policy fragment '" + std::string(id) + "' would break the policy " + path +
                   ": " + compiled.error().message);
  }
  document = std::move(*compiled);
  return OkStatus();
}

}  // namespace

policy::FragmentLookup FragmentsOf(const runtime::Snapshot& snapshot) {
  return [&snapshot](std::string_view id) -> std::optional<std::string> {
    auto it = snapshot.policy_fragments.find(std::string(id));
    if (it == snapshot.policy_fragments.end()) return std::nullopt;
    return it->second->xml;
  };
}

Status SetPolicyFragment(runtime::Snapshot& snapshot, const PolicyFragmentResource& fragment,
                         int& status) {
  const std::string& id = fragment.id;
  auto& slot = snapshot.policy_fragments[id];
  status = slot ? 200 : 201;
  slot = std::make_shared<const PolicyFragmentResource>(fragment);

  CREDGATE_RETURN_IF_ERROR(Recompile(snapshot, id, "/policies/policy", snapshot.global_policy,
                                     PolicyLevel::kGlobal, snapshot.global_document));
  for (auto& [api_id, api] : snapshot.apis) {
    bool uses = Includes(api->document, id);
    for (const auto& [operation_id, operation] : api->operations) {
      uses = uses || Includes(operation->document, id);
    }
    if (!uses) continue;
    auto copy = std::make_shared<runtime::ApiEntry>(*api);
    CREDGATE_RETURN_IF_ERROR(Recompile(snapshot, id, "/apis/" + api_id + "/policies/policy",
                                       copy->policy, PolicyLevel::kApi, copy->document));
    for (auto& [operation_id, operation] : copy->operations) {
      if (!Includes(operation->document, id)) continue;
      auto entry = std::make_shared<runtime::OperationEntry>(*operation);
      CREDGATE_RETURN_IF_ERROR(Recompile(
          snapshot, id, "/apis/" + api_id + "/operations/" + operation_id + "/policies/policy",
          entry->policy, PolicyLevel::kOperation, entry->document));
      operation = std::move(entry);
    }
    api = std::move(copy);
  }
  return RecomposePipelines(snapshot, "");
}

std::vector<std::string> PolicyFragmentUsers(const runtime::Snapshot& snapshot,
                                             std::string_view id) {
  std::vector<std::string> users;
  if (Includes(snapshot.global_document, id)) users.push_back("/policies/policy");
  for (const auto& [api_id, api] : snapshot.apis) {
    if (Includes(api->document, id)) users.push_back("/apis/" + api_id + "/policies/policy");
    for (const auto& [operation_id, operation] : api->operations) {
      if (Includes(operation->document, id)) {
        users.push_back("/apis/" + api_id + "/operations/" + operation_id + "/policies/policy");
      }
    }
  }
  policy::FragmentLookup lookup = FragmentsOf(snapshot);
  for (const auto& [other_id, other] : snapshot.policy_fragments) {
    if (other_id == id) continue;
    auto includes =
        policy::CompilePolicyFragment(other_id, other->xml, lookup, CertificatesOf(snapshot));
    if (includes.ok() && includes->contains(std::string(id))) {
      users.push_back("/policyFragments/" + other_id);
    }
  }
  return users;
}

Status CheckPolicyFragment(const runtime::Snapshot& snapshot,
                           const PolicyFragmentResource& fragment) {
  runtime::Snapshot scratch = snapshot;
  // The fragments that include this one, found with the stored text before it changes.
  std::vector<std::string> including;
  for (const std::string& user : PolicyFragmentUsers(snapshot, fragment.id)) {
    constexpr std::string_view kPrefix = "/policyFragments/";
    if (user.starts_with(kPrefix)) including.push_back(user.substr(kPrefix.size()));
  }
  int status = 0;
  scratch.policy_fragments[fragment.id] =
      std::make_shared<const PolicyFragmentResource>(fragment);
  policy::FragmentLookup lookup = FragmentsOf(scratch);
  policy::CertificateLookup certificates = CertificatesOf(scratch);
  auto compiled = policy::CompilePolicyFragment(fragment.id, fragment.xml, lookup, certificates);
  if (!compiled.ok()) {
    return Invalid("the policy fragment is invalid: " + compiled.error().message);
  }
  for (const std::string& other : including) {
    auto recompiled = policy::CompilePolicyFragment(other, scratch.policy_fragments.at(other)->xml,
                                                    lookup, certificates);
    if (!recompiled.ok()) {
      return Invalid("policy fragment '" + fragment.id + "' would break policy fragment '" +
                     other + "': " + recompiled.error().message);
    }
  }
  return SetPolicyFragment(scratch, fragment, status);
}

}  // namespace credgate::management
