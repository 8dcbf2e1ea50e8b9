// The store writes of a validated import, built before anything is written so that they can be
// committed in one transaction.
#include <boost/json.hpp>

#include "crypto/keyring.h"
#include "management/backend_resources.h"
#include "management/certificates.h"
#include "management/persistence.h"
#include "management/resources.h"
#include "management/token_persistence.h"
#include "management/transfer.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

// The parent of "a/b/c/d" is "a/b"; a top-level key has none.
std::string ParentKeyOf(const std::string& key) {
  const size_t last = key.rfind('/');
  if (last == std::string::npos) return "";
  const size_t collection = key.rfind('/', last - 1);
  if (collection == std::string::npos) return "";
  return key.substr(0, collection);
}

Result<store::ResourceRecord> ProviderImportRecord(const ImportItem& item, const json::object& body,
                                                   const runtime::Snapshot& current,
                                                   const crypto::Keyring& keyring) {
  auto resource = ParseProvider(item.path.first, body);
  if (!resource.ok()) return resource.error();
  // As in a PUT, a provider without clientSecret keeps the stored one.
  Secret secret = std::move(resource->client_secret);
  auto existing = current.providers.find(item.path.first);
  if (secret.empty() && existing != current.providers.end()) {
    secret = existing->second->config.client_secret;
  }
  return ProviderRecord(StoreKey(item.path), *resource, secret, keyring);
}

Result<store::ResourceRecord> ConnectionImportRecord(const ImportItem& item,
                                                     const json::object& body,
                                                     const runtime::Snapshot& current,
                                                     const crypto::Keyring& keyring) {
  auto resource = ParseConnection(item.path.first, item.path.second, body);
  if (!resource.ok()) return resource.error();
  // As in a PUT, a client credentials connection without parameters keeps the stored ones, and
  // one without clientSecret keeps the stored secret.
  auto existing =
      current.connections.find(runtime::ConnectionKey(item.path.first, item.path.second));
  if (resource->grant_type == GrantType::kClientCredentials &&
      existing != current.connections.end()) {
    const runtime::ConnectionEntry& stored = *existing->second;
    if (!resource->parameters_given) {
      resource->parameters = stored.parameters;
      resource->parameters_given = stored.parameters_given;
    } else if (resource->parameters->client_secret.empty() &&
               !stored.parameters->client_secret.empty()) {
      resource->parameters.Mutable().client_secret = stored.parameters->client_secret;
    }
  }
  const std::string key = StoreKey(item.path);
  return ConnectionRecord(key, ParentKeyOf(key), *resource, keyring);
}

// Returns the record of a kind without secrets: the rendered resource.
Result<store::ResourceRecord> PlainImportRecord(const ImportItem& item, const json::object& body) {
  const std::string key = StoreKey(item.path);
  const ResourcePath& path = item.path;
  switch (path.kind) {
    case ResourceKind::kAccessPolicy: {
      auto resource = ParseAccessPolicy(path.first, path.second, path.third, body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{"accessPolicy",
                                   key,
                                   ParentKeyOf(key),
                                   json::serialize(RenderAccessPolicy(*resource)),
                                   0,
                                   0};
    }
    case ResourceKind::kTrustedIssuer: {
      auto resource = ParseTrustedIssuer(path.first, body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{
          "trustedIssuer", key, "", json::serialize(RenderTrustedIssuer(*resource)), 0, 0};
    }
    case ResourceKind::kApi: {
      auto resource = ParseApi(path.first, body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{"api", key, "", json::serialize(RenderApi(*resource)), 0, 0};
    }
    case ResourceKind::kOperation: {
      auto resource = ParseOperation(path.first, path.second, body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{
          "operation", key, ParentKeyOf(key), json::serialize(RenderOperation(*resource)), 0, 0};
    }
    case ResourceKind::kGlobalPolicy:
    case ResourceKind::kApiPolicy:
    case ResourceKind::kOperationPolicy: {
      auto resource = ParsePolicy(body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{
          "policy", key, ParentKeyOf(key), json::serialize(RenderPolicy("/" + key, *resource)),
          0,        0};
    }
    case ResourceKind::kPolicyFragment: {
      auto resource = ParsePolicyFragment(path.first, body);
      if (!resource.ok()) return resource.error();
      return store::ResourceRecord{
          "policyFragment", key, "", json::serialize(RenderPolicyFragment(*resource)), 0, 0};
    }
    default:
      return MakeError(ErrorCode::kInvalidArgument,
                       "a document entry of this kind cannot be imported", "ValidationError");
  }
}

Result<store::ResourceRecord> ImportRecord(const ImportItem& item, const runtime::Snapshot& current,
                                           const crypto::Keyring& keyring) {
  auto body = ParseJsonBody(item.body.Expose());
  if (!body.ok()) return body.error();
  switch (item.path.kind) {
    case ResourceKind::kProvider:
      return ProviderImportRecord(item, *body, current, keyring);
    case ResourceKind::kConnection:
      return ConnectionImportRecord(item, *body, current, keyring);
    case ResourceKind::kBackend: {
      // A backend's credential values are sealed in its record, as a PUT stores them.
      auto resource = ParseBackend(item.path.first, *body);
      if (!resource.ok()) return resource.error();
      const std::string key = StoreKey(item.path);
      auto record_body = BackendRecordBody(key, *resource, keyring);
      if (!record_body.ok()) return record_body.error();
      return store::ResourceRecord{"backend", key, "", std::move(*record_body), 0, 0};
    }
    case ResourceKind::kCertificate: {
      auto entry = ParseCertificate(item.path.first, *body);
      if (!entry.ok()) return entry.error();
      return CertificateRecord(StoreKey(item.path), **entry, keyring);
    }
    default:
      return PlainImportRecord(item, *body);
  }
}

bool IsClientCredentials(const ImportItem& item) {
  auto body = ParseJsonBody(item.body.Expose());
  if (!body.ok()) return false;
  auto resource = ParseConnection(item.path.first, item.path.second, *body);
  return resource.ok() && resource->grant_type == GrantType::kClientCredentials;
}

// Returns the connection's status record, as StoreTokenPersistence writes it.
store::ResourceRecord ConnectionStateRecord(const std::string& store_key,
                                            const ConnectionState& state, int64_t now_seconds) {
  json::object body;
  body["connected"] = state.connected;
  body["code"] = state.error_code;
  body["message"] = state.error_message;
  return store::ResourceRecord{
      "connectionState", store_key + "/state", store_key, json::serialize(body), 0, now_seconds};
}

}  // namespace

Result<ImportBatch> BuildImportBatch(const std::vector<ImportItem>& items,
                                     const runtime::Snapshot& current,
                                     const crypto::Keyring& keyring, TimePoint now) {
  ImportBatch batch;
  std::vector<store::ResourceRecord> states;
  for (const ImportItem& item : items) {
    auto record = ImportRecord(item, current, keyring);
    if (!record.ok()) {
      Error error = record.error();
      error.message = item.path_text + ": " + error.message;
      return error;
    }
    batch.writes.resources.push_back(std::move(*record));
    if (item.path.kind != ResourceKind::kConnection) continue;
    if (IsClientCredentials(item)) {
      // Such a connection requests a new token after the commit instead of importing one.
      batch.client_credentials.push_back(runtime::ConnectionKey(item.path.first, item.path.second));
      continue;
    }
    if (!item.tokens) continue;

    const std::string store_key = StoreKey(item.path);
    auto sealed = keyring.Seal(credentials::SerializeTokenSet(*item.tokens), store_key);
    if (!sealed.ok()) return sealed.error();
    store::TokenRecord tokens;
    tokens.connection_key = store_key;
    tokens.sealed_tokens = std::move(*sealed);
    tokens.expires_at = item.tokens->expires_at ? ToUnixSeconds(*item.tokens->expires_at) : 0;
    tokens.updated_at = ToUnixSeconds(now);
    batch.writes.tokens.push_back(std::move(tokens));

    ConnectionState state{true, "", ""};
    if (item.error_status) state = {false, item.error_status->code, item.error_status->message};
    states.push_back(ConnectionStateRecord(store_key, state, ToUnixSeconds(now)));
    batch.token_sets.push_back(ImportBatch::Tokens{
        runtime::ConnectionKey(item.path.first, item.path.second), *item.tokens, std::move(state)});
  }
  // Status records go last, after every connection they belong to.
  for (store::ResourceRecord& state : states) batch.writes.resources.push_back(std::move(state));
  return batch;
}

}  // namespace credgate::management
