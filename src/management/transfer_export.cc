#include <boost/json.hpp>
#include <ctime>

#include "crypto/export_seal.h"
#include "management/certificates.h"
#include "management/transfer.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

std::string Rfc3339(TimePoint now) {
  std::time_t seconds = static_cast<std::time_t>(ToUnixSeconds(now));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string_view GrantMemberOf(credentials::GrantKind grant) {
  return grant == credentials::GrantKind::kAuthorizationCode ? "authorizationCode"
                                                             : "clientCredentials";
}

// Builds the document's entries, sealing each secret for its path and member.
class Writer {
 public:
  Writer(const Secret& key, RandomSource& random) : key_(key), random_(random) {}

  // Adds a resource; `secrets` maps a sealed member name to its plaintext.
  Status Add(std::string path, json::object body, const std::map<std::string, Secret>& secrets) {
    json::object sealed;
    for (const auto& [member, plaintext] : secrets) {
      if (plaintext.empty()) continue;
      auto value = crypto::SealExportValue(key_, path, member, plaintext, random_);
      if (!value.ok()) return value.error();
      sealed[member] = *value;
    }
    json::object entry;
    entry["path"] = path;
    entry["body"] = std::move(body);
    if (!sealed.empty()) entry["sealed"] = std::move(sealed);
    resources_.push_back(std::move(entry));
    return OkStatus();
  }

  json::array Take() { return std::move(resources_); }

 private:
  const Secret& key_;
  RandomSource& random_;
  json::array resources_;
};

json::object ConnectionBody(std::string_view key, const runtime::ConnectionEntry& entry,
                            const ConnectionState& state) {
  json::object body = RenderConnection(entry.Resource(key), state);
  if (entry.parameters_given) {
    json::object parameters;
    for (const auto& [name, value] : entry.parameters->values) {
      parameters[name] = value;
    }
    body["properties"].as_object()["parameters"] = std::move(parameters);
  }
  return body;
}

}  // namespace

Result<ImportMode> ParseImportMode(std::string_view text) {
  if (text == "create-only") return ImportMode::kCreateOnly;
  if (text == "replace") return ImportMode::kReplace;
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid 'mode' '" + std::string(text) + "': use 'create-only' or 'replace'",
                   "ValidationError");
}

Result<json::object> BuildExportDocument(const runtime::Snapshot& snapshot,
                                         const std::map<std::string, credentials::TokenSet>& tokens,
                                         const runtime::ConnectionStatusTable& statuses,
                                         const Secret& export_key, TimePoint now,
                                         RandomSource& random) {
  Writer writer(export_key, random);
  const std::map<std::string, Secret> none;

  for (const auto& [id, issuer] : snapshot.trusted_issuers) {
    CREDGATE_RETURN_IF_ERROR(
        writer.Add("/trustedIssuers/" + id, RenderTrustedIssuer(issuer), none));
  }
  for (const auto& [id, provider] : snapshot.providers) {
    const std::string member = "properties.oauth2.grantTypes." +
                               std::string(GrantMemberOf(provider->resource.grant)) +
                               ".clientSecret";
    CREDGATE_RETURN_IF_ERROR(writer.Add("/authorizationProviders/" + id,
                                        RenderProvider(provider->resource, ""),
                                        {{member, provider->config.client_secret}}));
  }
  for (const auto& [key, connection] : snapshot.connections) {
    const auto [provider_id, connection_id] = runtime::SplitConnectionKey(key);
    const std::string path = "/authorizationProviders/" + std::string(provider_id) +
                             "/authorizations/" + std::string(connection_id);
    std::map<std::string, Secret> secrets;
    secrets["properties.parameters.clientSecret"] = connection->parameters->client_secret;
    if (auto it = tokens.find(key); it != tokens.end()) {
      secrets["tokens"] = credentials::SerializeTokenSet(it->second);
    }
    CREDGATE_RETURN_IF_ERROR(
        writer.Add(path, ConnectionBody(key, *connection, statuses.Get(key)), secrets));
  }
  for (const auto& [key, connection] : snapshot.connections) {
    for (const auto& policy : connection->AccessPolicyResources(key)) {
      const std::string path = "/authorizationProviders/" + policy.provider_id +
                               "/authorizations/" + policy.connection_id + "/accessPolicies/" +
                               policy.id;
      CREDGATE_RETURN_IF_ERROR(writer.Add(path, RenderAccessPolicy(policy), none));
    }
  }
  for (const auto& [id, api] : snapshot.apis) {
    CREDGATE_RETURN_IF_ERROR(writer.Add("/apis/" + id, RenderApi(api->resource), none));
  }
  for (const auto& [id, api] : snapshot.apis) {
    for (const auto& [op_id, operation] : api->operations) {
      CREDGATE_RETURN_IF_ERROR(writer.Add("/apis/" + id + "/operations/" + op_id,
                                          RenderOperation(operation->resource), none));
    }
  }
  for (const auto& [id, backend] : snapshot.backends) {
    std::map<std::string, Secret> secrets;
    if (backend->resource.has_credentials()) {
      secrets[std::string(kExportCredentialsMember)] =
          Secret(json::serialize(RenderBackendCredentials(backend->resource)));
    }
    CREDGATE_RETURN_IF_ERROR(
        writer.Add("/backends/" + id, RenderBackend(backend->resource), secrets));
  }
  for (const auto& [id, certificate] : snapshot.certificates) {
    const CertificateResource& resource = certificate->resource;
    CREDGATE_RETURN_IF_ERROR(writer.Add(
        "/certificates/" + id, RenderCertificate(*certificate),
        {{"properties.data", resource.data}, {"properties.password", resource.password}}));
  }
  for (const auto& [id, fragment] : snapshot.policy_fragments) {
    CREDGATE_RETURN_IF_ERROR(
        writer.Add("/policyFragments/" + id, RenderPolicyFragment(*fragment), none));
  }
  if (snapshot.global_policy) {
    CREDGATE_RETURN_IF_ERROR(writer.Add(
        "/policies/policy", RenderPolicy("/policies/policy", *snapshot.global_policy), none));
  }
  for (const auto& [id, api] : snapshot.apis) {
    if (api->policy) {
      const std::string path = "/apis/" + id + "/policies/policy";
      CREDGATE_RETURN_IF_ERROR(writer.Add(path, RenderPolicy(path, *api->policy), none));
    }
    for (const auto& [op_id, operation] : api->operations) {
      if (!operation->policy) continue;
      const std::string path = "/apis/" + id + "/operations/" + op_id + "/policies/policy";
      CREDGATE_RETURN_IF_ERROR(writer.Add(path, RenderPolicy(path, *operation->policy), none));
    }
  }

  json::object document;
  document["formatVersion"] = kExportFormatVersion;
  document["createdAt"] = Rfc3339(now);
  document["resources"] = writer.Take();
  return document;
}

}  // namespace credgate::management
