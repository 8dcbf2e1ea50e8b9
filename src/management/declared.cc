#include "management/declared.h"

#include "management/certificates.h"

namespace credgate::management {

namespace {

bool SameProvider(const runtime::ProviderEntry& stored, const ProviderResource& declared) {
  if (RenderProvider(stored.resource, "") != RenderProvider(declared, "")) return false;
  return declared.client_secret.empty() || declared.client_secret == stored.config.client_secret;
}

const runtime::OperationEntry* FindOperation(const runtime::Snapshot& snapshot,
                                             const ResourcePath& path) {
  auto api = snapshot.apis.find(path.first);
  if (api == snapshot.apis.end()) return nullptr;
  auto operation = api->second->operations.find(path.second);
  if (operation == api->second->operations.end()) return nullptr;
  return operation->second.get();
}

bool SamePolicy(const std::optional<PolicyResource>& stored, const boost::json::object& body) {
  if (!stored) return false;
  auto declared = ParsePolicy(body);
  return declared.ok() && declared->xml == stored->xml;
}

}  // namespace

bool MatchesStored(const runtime::Snapshot& snapshot, const ResourcePath& path,
                   const boost::json::object& body) {
  switch (path.kind) {
    case ResourceKind::kProvider: {
      auto stored = snapshot.providers.find(path.first);
      if (stored == snapshot.providers.end()) return false;
      auto declared = ParseProvider(path.first, body);
      return declared.ok() && SameProvider(*stored->second, *declared);
    }
    case ResourceKind::kConnection: {
      auto stored = snapshot.connections.find(runtime::ConnectionKey(path.first, path.second));
      if (stored == snapshot.connections.end()) return false;
      auto declared = ParseConnection(path.first, path.second, body);
      return declared.ok() &&
             RenderConnection(stored->second->Resource(stored->first), {}) == RenderConnection(*declared, {});
    }
    case ResourceKind::kAccessPolicy: {
      auto stored = snapshot.connections.find(runtime::ConnectionKey(path.first, path.second));
      if (stored == snapshot.connections.end()) return false;
      auto declared = ParseAccessPolicy(path.first, path.second, path.third, body);
      if (!declared.ok()) return false;
      auto policy = stored->second->FindAccessPolicyResource(stored->first, path.third);
      return policy.has_value() && RenderAccessPolicy(*policy) == RenderAccessPolicy(*declared);
    }
    case ResourceKind::kTrustedIssuer: {
      auto stored = snapshot.trusted_issuers.find(path.first);
      if (stored == snapshot.trusted_issuers.end()) return false;
      auto declared = ParseTrustedIssuer(path.first, body);
      return declared.ok() && RenderTrustedIssuer(stored->second) == RenderTrustedIssuer(*declared);
    }
    case ResourceKind::kApi: {
      auto stored = snapshot.apis.find(path.first);
      if (stored == snapshot.apis.end()) return false;
      auto declared = ParseApi(path.first, body);
      return declared.ok() && RenderApi(stored->second->resource) == RenderApi(*declared);
    }
    case ResourceKind::kOperation: {
      const runtime::OperationEntry* stored = FindOperation(snapshot, path);
      if (stored == nullptr) return false;
      auto declared = ParseOperation(path.first, path.second, body);
      return declared.ok() && RenderOperation(stored->resource) == RenderOperation(*declared);
    }
    case ResourceKind::kBackend: {
      auto stored = snapshot.backends.find(path.first);
      if (stored == snapshot.backends.end()) return false;
      auto declared = ParseBackend(path.first, body);
      // RenderBackend leaves the credential values out, so they are compared on their own.
      return declared.ok() &&
             RenderBackend(stored->second->resource) == RenderBackend(*declared) &&
             RenderBackendCredentials(stored->second->resource) ==
                 RenderBackendCredentials(*declared);
    }
    case ResourceKind::kCertificate: {
      auto stored = snapshot.certificates.find(path.first);
      if (stored == snapshot.certificates.end()) return false;
      auto declared = ParseCertificate(path.first, body);
      return declared.ok() && (*declared)->resource.data == stored->second->resource.data &&
             (*declared)->resource.password == stored->second->resource.password;
    }
    case ResourceKind::kPolicyFragment: {
      auto stored = snapshot.policy_fragments.find(path.first);
      if (stored == snapshot.policy_fragments.end()) return false;
      auto declared = ParsePolicyFragment(path.first, body);
      return declared.ok() &&
             RenderPolicyFragment(*stored->second) == RenderPolicyFragment(*declared);
    }
    case ResourceKind::kGlobalPolicy:
      return SamePolicy(snapshot.global_policy, body);
    case ResourceKind::kApiPolicy: {
      auto api = snapshot.apis.find(path.first);
      return api != snapshot.apis.end() && SamePolicy(api->second->policy, body);
    }
    case ResourceKind::kOperationPolicy: {
      const runtime::OperationEntry* stored = FindOperation(snapshot, path);
      return stored != nullptr && SamePolicy(stored->policy, body);
    }
    default:
      return false;
  }
}

}  // namespace credgate::management
