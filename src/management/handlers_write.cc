#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "crypto/aead.h"
#include "crypto/keyring.h"
#include "http/url.h"
#include "identity/validator.h"
#include "management/backends.h"
#include "management/certificates.h"
#include "management/connection_events.h"
#include "management/handlers.h"
#include "management/persistence.h"
#include "management/pipelines.h"
#include "management/policy_fragments.h"
#include "management/resources.h"
#include "management/token_persistence.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

Error NotFound(const std::string& what) {
  return MakeError(ErrorCode::kNotFound, what + " was not found", "ResourceNotFound");
}

std::string ParentKey(const std::string& key) {
  // The parent of "a/b/c/d" is "a/b"; top-level resources have no parent.
  size_t last = key.rfind('/');
  if (last == std::string::npos) return "";
  size_t collection = key.rfind('/', last - 1);
  if (collection == std::string::npos) return "";
  return key.substr(0, collection);
}

// Returns kNotFound when the parent of the resource at `path` does not exist. Top-level
// resources always have their parent.
Status CheckParentExists(const runtime::Snapshot& snapshot, const ResourcePath& path) {
  switch (path.kind) {
    case ResourceKind::kConnection:
      if (!snapshot.providers.contains(path.first)) {
        return NotFound("authorization provider '" + path.first + "'");
      }
      return OkStatus();
    case ResourceKind::kAccessPolicy: {
      std::string key = runtime::ConnectionKey(path.first, path.second);
      if (!snapshot.connections.contains(key)) return NotFound("authorization '" + key + "'");
      return OkStatus();
    }
    case ResourceKind::kOperation:
    case ResourceKind::kApiPolicy:
    case ResourceKind::kOperationPolicy: {
      auto api = snapshot.apis.find(path.first);
      if (api == snapshot.apis.end()) return NotFound("API '" + path.first + "'");
      if (path.kind == ResourceKind::kOperationPolicy &&
          !api->second->operations.contains(path.second)) {
        return NotFound("operation '" + path.second + "' of API '" + path.first + "'");
      }
      return OkStatus();
    }
    default:
      return OkStatus();
  }
}

bool HasConnections(const runtime::Snapshot& snapshot, const std::string& provider_id) {
  const std::string prefix = provider_id + "/";
  auto it = snapshot.connections.lower_bound(prefix);
  return it != snapshot.connections.end() && it->first.starts_with(prefix);
}

// Writes `record` on the store thread. The callable is a named local on purpose: g++ 12
// destroys a lambda's captures twice when the lambda is written inside a co_await expression.
awaitable<Result<store::ResourceRecord>> PutRecord(store::AsyncStore& store,
                                                   store::ResourceRecord record) {
  auto put = [record = std::move(record)](store::Store& s) { return s.Put(record); };
  co_return co_await store.Run(std::move(put));
}

}  // namespace

awaitable<Result<json::value>> Handlers::Put(const ResourcePath& path, const std::string& body,
                                            int& status) {
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) co_return parsed.error();
  switch (path.kind) {
    case ResourceKind::kProvider:
      co_return co_await PutProvider(path, *parsed, status);
    case ResourceKind::kConnection:
      co_return co_await PutConnection(path, *parsed, status);
    case ResourceKind::kAccessPolicy:
      co_return co_await PutAccessPolicy(path, *parsed, status);
    case ResourceKind::kTrustedIssuer:
      co_return co_await PutTrustedIssuer(path, *parsed, status);
    case ResourceKind::kApi:
      co_return co_await PutApi(path, *parsed, status);
    case ResourceKind::kOperation:
      co_return co_await PutOperation(path, *parsed, status);
    case ResourceKind::kGlobalPolicy:
    case ResourceKind::kApiPolicy:
    case ResourceKind::kOperationPolicy:
      co_return co_await PutPolicy(path, *parsed, status);
    case ResourceKind::kPolicyFragment:
      co_return co_await PutPolicyFragment(path, *parsed, status);
    case ResourceKind::kBackend:
      co_return co_await PutBackend(path, *parsed, status);
    case ResourceKind::kCertificate:
      co_return co_await PutCertificate(path, *parsed, status);
    default:
      co_return MakeError(ErrorCode::kMethodNotAllowed, "PUT is not supported on this resource",
                          "MethodNotAllowed");
  }
}

awaitable<Result<json::value>> Handlers::PutProvider(const ResourcePath& path,
                                                    const json::object& body, int& status) {
  auto resource = ParseProvider(path.first, body);
  if (!resource.ok()) co_return resource.error();
  auto snapshot = services_.config->Current();
  auto existing = snapshot->providers.find(path.first);
  status = existing == snapshot->providers.end() ? 201 : 200;
  if (existing != snapshot->providers.end() &&
      existing->second->resource.grant != resource->grant &&
      HasConnections(*snapshot, path.first)) {
    co_return MakeError(ErrorCode::kConflict,
                        "authorization provider '" + path.first +
                            "' has connections of its current grant type: delete them before "
                            "changing properties.oauth2.grantTypes",
                        "Conflict");
  }

  // A PUT without clientSecret keeps the stored one, so that GET-modify-PUT works although GET
  // never returns the secret.
  Secret secret = std::move(resource->client_secret);
  if (secret.empty() && existing != snapshot->providers.end()) {
    secret = existing->second->config.client_secret;
  }
  auto config = ToProviderConfig(*resource, secret);
  if (!config.ok()) co_return config.error();
  CREDGATE_CO_RETURN_IF_ERROR(ValidateProviderSettings(*config));

  const std::string key = StoreKey(path);
  auto record = ProviderRecord(key, *resource, secret, *services_.keyring);
  if (!record.ok()) co_return record.error();
  auto saved = co_await PutRecord(*services_.store, std::move(*record));
  if (!saved.ok()) co_return saved.error();

  auto entry = std::make_shared<runtime::ProviderEntry>();
  entry->resource = *resource;
  entry->config = std::move(*config);
  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    next.providers[path.first] = entry;
    return OkStatus();
  }));
  services_.tokens->SetProvider(std::make_shared<credentials::ProviderConfig>(entry->config));
  UpdateClientCredentialsConnections(*services_.config->Current(), *entry);
  co_return json::value(RenderProvider(entry->resource, services_.settings.CallbackUrl()));
}

awaitable<Result<json::value>> Handlers::PutConnection(const ResourcePath& path,
                                                      const json::object& body, int& status) {
  auto snapshot = services_.config->Current();
  auto provider = snapshot->providers.find(path.first);
  if (provider == snapshot->providers.end()) {
    co_return NotFound("authorization provider '" + path.first + "'");
  }
  auto resource = ParseConnection(path.first, path.second, body);
  if (!resource.ok()) co_return resource.error();
  const std::string connection_key = runtime::ConnectionKey(path.first, path.second);
  auto existing = snapshot->connections.find(connection_key);
  status = existing == snapshot->connections.end() ? 201 : 200;

  const bool client_credentials = resource->grant_type == GrantType::kClientCredentials;
  std::optional<credentials::ProviderConfig> config;
  if (client_credentials) {
    // Like the provider's secret, the connection's parameters are write-only, so a PUT without
    // them keeps the stored ones, and one without clientSecret keeps the stored secret.
    if (existing != snapshot->connections.end()) {
      const runtime::ConnectionEntry& stored = *existing->second;
      if (!resource->parameters_given) {
        resource->parameters = stored.parameters;
        resource->parameters_given = stored.parameters_given;
      } else if (resource->parameters->client_secret.empty() &&
                 !stored.parameters->client_secret.empty()) {
        resource->parameters.Mutable().client_secret = stored.parameters->client_secret;
      }
    }
    auto resolved = ClientCredentialsConfig(*provider->second, *resource);
    if (!resolved.ok()) {
      Error error = resolved.error();
      if (error.code == ErrorCode::kFailedPrecondition) error.code = ErrorCode::kInvalidArgument;
      co_return error;
    }
    config = std::move(*resolved);
  } else if (provider->second->resource.grant != credentials::GrantKind::kAuthorizationCode) {
    co_return MakeError(ErrorCode::kInvalidArgument,
                        "authorization provider '" + path.first +
                            "' uses the clientCredentials grant: set 'properties.oauth2grantType' "
                            "to 'ClientCredentials'",
                        "ValidationError");
  }

  const std::string key = StoreKey(path);
  auto record = ConnectionRecord(key, ParentKey(key), *resource, *services_.keyring);
  if (!record.ok()) co_return record.error();
  auto saved = co_await PutRecord(*services_.store, std::move(*record));
  if (!saved.ok()) co_return saved.error();

  auto entry = std::make_shared<runtime::ConnectionEntry>();
  if (existing != snapshot->connections.end()) *entry = *existing->second;
  entry->SetResource(*resource);
  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    if (!next.providers.contains(path.first)) {
      return Status(NotFound("authorization provider '" + path.first + "'"));
    }
    next.connections[connection_key] = entry;
    return OkStatus();
  }));
  if (config) co_await RequestClientCredentialsToken(connection_key, std::move(*config));
  co_return json::value(RenderConnection(entry->Resource(connection_key), services_.statuses->Get(connection_key)));
}

awaitable<void> Handlers::RequestClientCredentialsToken(const std::string& connection_key,
                                                        credentials::ProviderConfig config) {
  auto shared = std::make_shared<const credentials::ProviderConfig>(std::move(config));
  services_.tokens->SetClientCredentials(connection_key, shared);
  StoreTokenPersistence persistence(services_);
  Result<credentials::TokenSet> tokens =
      co_await services_.token_client->RequestClientCredentials(*shared);
  if (!tokens.ok()) {
    spdlog::warn("client credentials token request failed connection={}: {}", connection_key,
                 tokens.error().message);
    // NOTE: the connection then has no token, and nothing retries the request: callers get
    // "not connected" until another PUT of the connection succeeds.
    // A named value: g++ 12 destroys a braced temporary written inside a co_await twice.
    credentials::ConnectionError error{"TokenRequestFailed", tokens.error().message};
    co_await persistence.MarkConnectionError(connection_key, std::move(error));
    co_return;
  }
  Result<int64_t> stored = co_await persistence.SaveTokens(connection_key, *tokens);
  if (!stored.ok()) {
    credentials::ConnectionError error{
        "TokensNotStored", "the token was issued but could not be stored: " +
                               stored.error().message + "; PUT the connection again"};
    co_await persistence.MarkConnectionError(connection_key, std::move(error));
    co_return;
  }
  tokens->version = *stored;
  services_.tokens->SetTokens(connection_key, std::move(*tokens));
  spdlog::info("client credentials connection connected connection={}", connection_key);
}

void Handlers::UpdateClientCredentialsConnections(const runtime::Snapshot& snapshot,
                                                  const runtime::ProviderEntry& provider) {
  const std::string prefix = provider.resource.id + "/";
  for (auto it = snapshot.connections.lower_bound(prefix);
       it != snapshot.connections.end() && it->first.starts_with(prefix); ++it) {
    if (it->second->grant_type != GrantType::kClientCredentials) continue;
    auto config = ClientCredentialsConfig(provider, it->second->Resource(it->first));
    if (!config.ok()) {
      // The connection keeps its previous settings, and its next PUT reports the error.
      spdlog::error("client credentials connection keeps its previous settings connection={}: {}",
                    it->first, config.error().message);
      continue;
    }
    services_.tokens->SetClientCredentials(
        it->first, std::make_shared<const credentials::ProviderConfig>(std::move(*config)));
  }
}

awaitable<Result<json::value>> Handlers::PutAccessPolicy(const ResourcePath& path,
                                                        const json::object& body, int& status) {
  const std::string connection_key = runtime::ConnectionKey(path.first, path.second);
  auto snapshot = services_.config->Current();
  auto connection = snapshot->connections.find(connection_key);
  if (connection == snapshot->connections.end()) {
    co_return NotFound("authorization '" + connection_key + "'");
  }
  auto resource = ParseAccessPolicy(path.first, path.second, path.third, body);
  if (!resource.ok()) co_return resource.error();
  status = connection->second->access_policies.Contains(path.third) ? 200 : 201;

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"accessPolicy", key, ParentKey(key),
                               json::serialize(RenderAccessPolicy(*resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    auto it = next.connections.find(connection_key);
    if (it == next.connections.end()) {
      return Status(NotFound("authorization '" + connection_key + "'"));
    }
    auto entry = std::make_shared<runtime::ConnectionEntry>(*it->second);
    UpsertAccessPolicy(*entry, *resource);
    it->second = std::move(entry);
    return OkStatus();
  }));
  co_return json::value(RenderAccessPolicy(*resource));
}

awaitable<Result<json::value>> Handlers::PutTrustedIssuer(const ResourcePath& path,
                                                         const json::object& body, int& status) {
  auto resource = ParseTrustedIssuer(path.first, body);
  if (!resource.ok()) co_return resource.error();
  auto snapshot = services_.config->Current();
  status = snapshot->trusted_issuers.contains(path.first) ? 200 : 201;

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"trustedIssuer", key, "",
                               json::serialize(RenderTrustedIssuer(*resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    next.trusted_issuers[path.first] = *resource;
    return OkStatus();
  }));
  ApplyTrustedIssuers(*services_.config->Current(), *services_.validator);
  co_return json::value(RenderTrustedIssuer(*resource));
}

awaitable<Result<json::value>> Handlers::PutApi(const ResourcePath& path, const json::object& body,
                                               int& status) {
  auto resource = ParseApi(path.first, body);
  if (!resource.ok()) co_return resource.error();
  auto snapshot = services_.config->Current();
  for (const auto& [id, api] : snapshot->apis) {
    if (id != path.first && api->resource.path == resource->path) {
      co_return MakeError(ErrorCode::kConflict,
                          "API '" + id + "' already uses the path '" + resource->path +
                              "': choose another 'properties.path'",
                          "Conflict");
    }
  }
  auto service = http::ParseHttpUrl(resource->service_url);
  if (!service.ok()) {
    co_return MakeError(ErrorCode::kInvalidArgument,
                        "invalid 'properties.serviceUrl': " + service.error().message,
                        "ValidationError");
  }
  status = snapshot->apis.contains(path.first) ? 200 : 201;

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"api", key, "", json::serialize(RenderApi(*resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    auto entry = std::make_shared<runtime::ApiEntry>();
    if (auto it = next.apis.find(path.first); it != next.apis.end()) *entry = *it->second;
    entry->resource = *resource;
    entry->service = *service;
    next.apis[path.first] = std::move(entry);
    return OkStatus();
  }));
  co_return json::value(RenderApi(*resource));
}

awaitable<Result<json::value>> Handlers::PutOperation(const ResourcePath& path,
                                                     const json::object& body, int& status) {
  auto snapshot = services_.config->Current();
  auto api = snapshot->apis.find(path.first);
  if (api == snapshot->apis.end()) co_return NotFound("API '" + path.first + "'");
  auto resource = ParseOperation(path.first, path.second, body);
  if (!resource.ok()) co_return resource.error();
  auto segments = runtime::ParseUrlTemplate(resource->url_template);
  if (!segments.ok()) co_return segments.error();
  status = api->second->operations.contains(path.second) ? 200 : 201;

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"operation", key, ParentKey(key),
                               json::serialize(RenderOperation(*resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    return UpsertOperation(next, *resource, std::move(*segments));
  }));
  co_return json::value(RenderOperation(*resource));
}

awaitable<Result<json::value>> Handlers::PutPolicy(const ResourcePath& path,
                                                  const json::object& body, int& status) {
  auto resource = ParsePolicy(body);
  if (!resource.ok()) co_return resource.error();
  PolicyLevel level = path.kind == ResourceKind::kGlobalPolicy ? PolicyLevel::kGlobal
                      : path.kind == ResourceKind::kApiPolicy  ? PolicyLevel::kApi
                                                               : PolicyLevel::kOperation;
  auto snapshot = services_.config->Current();
  auto document = CompileDocument(resource->xml, level, *snapshot);
  if (!document.ok()) co_return document.error();
  if (level != PolicyLevel::kGlobal && !snapshot->apis.contains(path.first)) {
    co_return NotFound("API '" + path.first + "'");
  }
  status = 201;

  // Publish first into a scratch snapshot, so that a composition error rejects the save before
  // anything is stored.
  runtime::Snapshot scratch = *snapshot;
  CREDGATE_CO_RETURN_IF_ERROR(SetPolicy(scratch, path, *resource, *document, status));

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"policy", key, ParentKey(key),
                               json::serialize(RenderPolicy("/" + key, *resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  int ignored = 0;
  std::optional<Error> broken;
  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    // A fragment, backend or certificate may have changed since the compile above, for example
    // through another gateway, so compile against `next`. The record is stored by now, so a
    // policy that no longer compiles makes its scope fail closed, as a reload would.
    auto current = CompileDocument(resource->xml, level, next);
    if (!current.ok()) {
      broken = current.error();
      current = RejectingDocument(level);
      if (!current.ok()) return Status(current.error());
    }
    return SetPolicy(next, path, *resource, *current, ignored);
  }));
  if (broken) {
    spdlog::error("saved policy no longer compiles, so requests of its scope get 500 key={}: {}",
                  key, broken->message);
    co_return MakeError(ErrorCode::kConflict,
                        "the policy was stored, but a change made meanwhile (for example through "
                        "another gateway) means it no longer compiles: " +
                            broken->message +
                            ". Requests of its scope get 500 until the policy is saved again.",
                        "Conflict");
  }
  co_return json::value(RenderPolicy("/" + key, *resource));
}

awaitable<Result<json::value>> Handlers::PutPolicyFragment(const ResourcePath& path,
                                                          const json::object& body, int& status) {
  auto resource = ParsePolicyFragment(path.first, body);
  if (!resource.ok()) co_return resource.error();
  auto snapshot = services_.config->Current();
  CREDGATE_CO_RETURN_IF_ERROR(CheckPolicyFragment(*snapshot, *resource));

  const std::string key = StoreKey(path);
  store::ResourceRecord record{"policyFragment", key, "",
                               json::serialize(RenderPolicyFragment(*resource)), 0, 0};
  auto saved = co_await PutRecord(*services_.store, std::move(record));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update([&](runtime::Snapshot& next) {
    return SetPolicyFragment(next, *resource, status);
  }));
  co_return json::value(RenderPolicyFragment(*resource));
}

awaitable<Result<json::value>> Handlers::Delete(const ResourcePath& path, int& status) {
  if (path.kind == ResourceKind::kIdentityProvider) {
    co_return MakeError(ErrorCode::kMethodNotAllowed,
                        "method DELETE is not supported on this resource: the identity providers "
                        "are built in",
                        "MethodNotAllowed");
  }
  auto snapshot = services_.config->Current();
  const std::string key = StoreKey(path);
  bool exists = Get(path).ok();
  if (!exists) {
    CREDGATE_CO_RETURN_IF_ERROR(CheckParentExists(*snapshot, path));
    status = 204;
    co_return json::value(nullptr);
  }
  if (path.kind == ResourceKind::kPolicyFragment) {
    std::vector<std::string> users = PolicyFragmentUsers(*snapshot, path.first);
    if (!users.empty()) {
      std::string names;
      for (const std::string& user : users) names += (names.empty() ? "" : ", ") + user;
      co_return MakeError(ErrorCode::kConflict,
                          "policy fragment '" + path.first + "' is included by " + names +
                              ": remove its <include-fragment> from them first",
                          "Conflict");
    }
  }
  if (path.kind == ResourceKind::kBackend) {
    std::vector<std::string> users = BackendUsers(*snapshot, path.first);
    if (!users.empty()) {
      std::string names;
      for (const std::string& user : users) names += (names.empty() ? "" : ", ") + user;
      co_return MakeError(ErrorCode::kConflict,
                          "backend '" + path.first + "' is named by set-backend-service in " +
                              names + ": change those policies first",
                          "Conflict");
    }
  }
  if (path.kind == ResourceKind::kCertificate) {
    std::vector<std::string> users = CertificateUsers(*snapshot, path.first);
    if (!users.empty()) {
      std::string names;
      for (const std::string& user : users) names += (names.empty() ? "" : ", ") + user;
      co_return MakeError(ErrorCode::kConflict,
                          "certificate '" + path.first + "' is used by " + names +
                              ": remove its certificate-id from them first",
                          "Conflict");
    }
  }
  auto delete_tree = [key](store::Store& s) { return s.DeleteTree(key); };
  auto deleted = co_await services_.store->Run(std::move(delete_tree));
  if (!deleted.ok()) co_return deleted.error();

  CREDGATE_CO_RETURN_IF_ERROR(ForgetResource(path, services_));
  if (path.kind == ResourceKind::kProvider || path.kind == ResourceKind::kConnection) {
    // A token write that ran between the first DeleteTree and the configuration update found the
    // connection and stored its tokens, so this second pass on the same store thread removes
    // them. Writes queued later find the connection gone and store nothing.
    auto delete_again = [key](store::Store& s) { return s.DeleteTree(key); };
    auto again = co_await services_.store->Run(std::move(delete_again));
    if (!again.ok()) {
      spdlog::error("second delete of connection records failed key={}: {}", key,
                    again.error().message);
    }
  }
  // The connections deleted with the resource: the connection itself, or all of a provider's.
  std::vector<std::string> deleted_connections;
  if (path.kind == ResourceKind::kConnection) {
    deleted_connections.push_back(runtime::ConnectionKey(path.first, path.second));
  } else if (path.kind == ResourceKind::kProvider) {
    const std::string prefix = path.first + "/";
    for (auto it = snapshot->connections.lower_bound(prefix);
         it != snapshot->connections.end() && it->first.starts_with(prefix); ++it) {
      deleted_connections.push_back(it->first);
    }
  }
  const ConnectionState gone;
  for (const std::string& connection_key : deleted_connections) {
    co_await RecordConnectionEvent(services_, connection_key, events::EventType::kDeleted, gone);
  }
  status = 200;
  co_return json::value(nullptr);
}

}  // namespace credgate::management
