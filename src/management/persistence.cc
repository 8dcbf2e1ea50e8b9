#include "management/persistence.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>
#include <boost/json.hpp>

#include "common/parallel_for.h"

#include "credentials/catalogue.h"
#include "credentials/provider_resolution.h"
#include "credentials/token_manager.h"
#include "crypto/aead.h"
#include "crypto/keyring.h"
#include "http/url.h"
#include "identity/validator.h"
#include "management/backends.h"
#include "management/certificates.h"
#include "management/pipelines.h"
#include "management/policy_fragments.h"
#include "management/resource_fields.h"
#include "management/stored_record.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

// The records a load parses at once, and how many of them one thread takes at a time.
constexpr size_t kParseBatch = 8192;
constexpr size_t kParseChunk = 256;

// Load order: a resource's parent must be in the snapshot before the resource itself.
constexpr std::string_view kKindOrder[] = {
    "trustedIssuer", "provider", "connection", "accessPolicy",   "connectionState",
    "certificate",   "api",      "operation",  "backend",        "policyFragment",
    "policy"};
// The number of ranks: one per listed kind, and one after them for any other kind.
constexpr size_t kKindRanks = std::size(kKindOrder) + 1;

size_t KindRank(std::string_view kind) {
  auto it = std::find(std::begin(kKindOrder), std::end(kKindOrder), kind);
  return static_cast<size_t>(it - std::begin(kKindOrder));
}

// Returns the records in the order of KindRank, keeping the store's order within a kind.
// A counting sort over pointers: the load orders millions of records, and a comparison sort
// that moves whole records cost about a seventh of the configuration load's instructions.
std::vector<const store::ResourceRecord*> OrderByKind(
    const std::vector<store::ResourceRecord>& records) {
  std::vector<uint8_t> ranks(records.size());
  std::array<size_t, kKindRanks + 1> starts{};
  for (size_t i = 0; i < records.size(); ++i) {
    ranks[i] = static_cast<uint8_t>(KindRank(records[i].kind));
    ++starts[ranks[i] + 1];
  }
  for (size_t rank = 1; rank < starts.size(); ++rank) starts[rank] += starts[rank - 1];
  std::vector<const store::ResourceRecord*> ordered(records.size());
  for (size_t i = 0; i < records.size(); ++i) ordered[starts[ranks[i]]++] = &records[i];
  return ordered;
}

// Applies one parsed record to `next`, the snapshot being built, and to the token manager and
// status table. A failure leaves `next` unchanged except for api, operation and policy records,
// whose callers restore the APIs and the global policy (ApplyRecordOrRestore).
Status ApplyParsedRecord(const store::ResourceRecord& record, ParsedRecord parsed,
                         runtime::Services& services, runtime::Snapshot& next) {
  const json::object* body = &parsed.body;
  if (record.kind == "connectionState") {
    auto connected = body->find("connected");
    management::ConnectionState state;
    state.connected = connected != body->end() && connected->value().is_bool() &&
                      connected->value().get_bool();
    if (auto code = body->find("code"); code != body->end() && code->value().is_string()) {
      state.error_code = std::string(code->value().get_string());
    }
    if (auto message = body->find("message");
        message != body->end() && message->value().is_string()) {
      state.error_message = std::string(message->value().get_string());
    }
    // The key is "<connection key in the store>/state".
    std::string_view connection_store_key = record.key;
    connection_store_key.remove_suffix(std::string_view("/state").size());
    auto path = PathOfKey(connection_store_key);
    if (!path.ok()) return path.error();
    const std::string connection_key = runtime::ConnectionKey(path->first, path->second);
    // A grant that another gateway found dead is not refreshed here either.
    if (state.error_code == credentials::kReloginRequired ||
        state.error_code == credentials::kRefreshTokenRotationLost) {
      services.tokens->MarkReloginRequired(
          connection_key, credentials::ConnectionError{state.error_code, state.error_message});
    }
    services.statuses->Set(connection_key, std::move(state));
    return OkStatus();
  }

  if (record.kind == "connection") {
    const ResourcePath& path = *parsed.path;
    ConnectionResource& resource = *parsed.connection;
    const std::string key = runtime::ConnectionKey(path.first, path.second);
    if (resource.grant_type == GrantType::kClientCredentials) {
      auto provider = next.providers.find(path.first);
      if (provider == next.providers.end()) {
        return MakeError(ErrorCode::kNotFound, "its provider is missing");
      }
      auto config = ClientCredentialsConfig(*provider->second, resource);
      if (!config.ok()) return config.error();
      services.tokens->SetClientCredentials(
          key, std::make_shared<const credentials::ProviderConfig>(std::move(*config)));
    }
    auto entry = std::make_shared<runtime::ConnectionEntry>();
    entry->SetResource(std::move(resource));
    // A connection stored again keeps its access policies, which are records of their own.
    auto& slot = next.connections[key];
    if (slot != nullptr) {
      entry->access_policies = slot->access_policies;
    }
    slot = std::move(entry);
    return OkStatus();
  }
  if (record.kind == "accessPolicy") {
    const ResourcePath& path = *parsed.path;
    auto it = next.connections.find(runtime::ConnectionKey(path.first, path.second));
    if (it == next.connections.end()) {
      return Status(MakeError(ErrorCode::kNotFound, "its connection is missing"));
    }
    // An entry that no published snapshot shares, such as one this load created, changes in
    // place. A shared one is copied, because readers of older snapshots still hold it.
    if (it->second.use_count() == 1) {
      UpsertAccessPolicy(const_cast<runtime::ConnectionEntry&>(*it->second),
                         *parsed.access_policy);
    } else {
      auto entry = std::make_shared<runtime::ConnectionEntry>(*it->second);
      UpsertAccessPolicy(*entry, *parsed.access_policy);
      it->second = std::move(entry);
    }
    return OkStatus();
  }

  auto path = PathOfKey(record.key);
  if (!path.ok()) return path.error();
  int status = 0;
  if (record.kind == "provider") {
    auto resource = ParseProvider(path->first, *body);
    if (!resource.ok()) return resource.error();
    Secret secret;
    auto sealed = body->find(kSealedSecretMember);
    if (sealed != body->end() && sealed->value().is_string()) {
      auto blob = crypto::SealedFromBase64(sealed->value().get_string());
      if (!blob.ok()) return blob.error();
      auto opened = services.keyring->Open(*blob, record.key);
      if (!opened.ok()) return opened.error();
      secret = std::move(*opened);
    }
    auto entry = std::make_shared<runtime::ProviderEntry>();
    entry->resource = std::move(*resource);
    auto config = ToProviderConfig(entry->resource, secret);
    if (!config.ok()) return config.error();
    entry->config = std::move(*config);
    services.tokens->SetProvider(std::make_shared<credentials::ProviderConfig>(entry->config));
    next.providers[path->first] = entry;
    return OkStatus();
  }
  if (record.kind == "trustedIssuer") {
    auto resource = ParseTrustedIssuer(path->first, *body);
    if (!resource.ok()) return resource.error();
    next.trusted_issuers[path->first] = std::move(*resource);
    return OkStatus();
  }
  if (record.kind == "api") {
    auto resource = ParseApi(path->first, *body);
    if (!resource.ok()) return resource.error();
    auto service = http::ParseHttpUrl(resource->service_url);
    if (!service.ok()) return service.error();
    auto entry = std::make_shared<runtime::ApiEntry>();
    entry->resource = std::move(*resource);
    entry->service = std::move(*service);
    // An API stored again keeps its operations and its policy, which are records of their own.
    auto& slot = next.apis[path->first];
    const bool replaced = slot != nullptr;
    if (replaced) {
      entry->policy = slot->policy;
      entry->document = slot->document;
      entry->operations = slot->operations;
    }
    slot = std::move(entry);
    return replaced ? RecomposePipelines(next, path->first) : OkStatus();
  }
  if (record.kind == "operation") {
    auto resource = ParseOperation(path->first, path->second, *body);
    if (!resource.ok()) return resource.error();
    auto segments = runtime::ParseUrlTemplate(resource->url_template);
    if (!segments.ok()) return segments.error();
    return UpsertOperation(next, *resource, std::move(*segments));
  }
  if (record.kind == "policy") {
    auto resource = ParsePolicy(*body);
    if (!resource.ok()) return resource.error();
    PolicyLevel level = path->kind == ResourceKind::kGlobalPolicy ? PolicyLevel::kGlobal
                        : path->kind == ResourceKind::kApiPolicy  ? PolicyLevel::kApi
                                                                  : PolicyLevel::kOperation;
    auto document = CompileDocument(resource->xml, level, next);
    if (!document.ok()) {
      // A policy saved while another gateway deleted what it names is stored but does not
      // compile here. Skipping it would let the scope's requests through without it.
      spdlog::error(
          "stored policy does not compile, so requests of its scope get 500 until the policy "
          "is saved again key={}: {}",
          record.key, document.error().message);
      document = RejectingDocument(level);
      if (!document.ok()) return document.error();
    }
    return SetPolicy(next, *path, *resource, *document, status);
  }
  if (record.kind == "backend") {
    auto resource = ParseStoredBackend(path->first, record.key, record.body_json, *services.keyring);
    if (!resource.ok()) return resource.error();
    return SetBackend(next, *resource, status);
  }
  if (record.kind == "certificate") {
    auto entry = OpenCertificateRecord(path->first, record, *body, *services.keyring);
    if (!entry.ok()) return entry.error();
    // Certificates load before policies, so at start this recompiles nothing. A certificate that
    // another gateway replaced recompiles the policies that name it here.
    return SetCertificate(next, std::move(*entry), status);
  }
  if (record.kind == "policyFragment") {
    auto resource = ParsePolicyFragment(path->first, *body);
    if (!resource.ok()) return resource.error();
    // Fragments load before policies, so at start this recompiles nothing. A fragment that
    // another gateway changed recompiles the policies that include it here.
    return SetPolicyFragment(next, *resource, status);
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown record kind '" + record.kind + "'");
}

// Parses one stored record and applies it to `next` (ApplyParsedRecord).
Status ApplyRecordTo(const store::ResourceRecord& record, runtime::Services& services,
                     runtime::Snapshot& next) {
  auto parsed = ParseRecord(record, *services.keyring);
  if (!parsed.ok()) return parsed.error();
  return ApplyParsedRecord(record, std::move(*parsed), services, next);
}

// Applies a parsed record to `next`. When an api, operation, policy, policyFragment or certificate
// record fails part way, restores the APIs, the global policy, the fragments and the
// certificates as they were, so that a skipped record changes nothing.
Status ApplyRecordOrRestore(const store::ResourceRecord& record, ParsedRecord parsed,
                            runtime::Services& services, runtime::Snapshot& next) {
  const bool touches_apis = record.kind == "api" || record.kind == "operation" ||
                            record.kind == "policy" || record.kind == "policyFragment" ||
                            record.kind == "certificate";
  if (!touches_apis) return ApplyParsedRecord(record, std::move(parsed), services, next);
  auto apis = next.apis;
  auto global_policy = next.global_policy;
  auto global_document = next.global_document;
  auto policy_fragments = next.policy_fragments;
  auto certificates = next.certificates;
  Status status = ApplyParsedRecord(record, std::move(parsed), services, next);
  if (!status.ok()) {
    next.apis = std::move(apis);
    next.global_policy = std::move(global_policy);
    next.global_document = std::move(global_document);
    next.policy_fragments = std::move(policy_fragments);
    next.certificates = std::move(certificates);
  }
  return status;
}

}  // namespace

Status ApplyStoredRecord(const store::ResourceRecord& record, runtime::Services& services) {
  return services.config->Update(
      [&](runtime::Snapshot& next) { return ApplyRecordTo(record, services, next); });
}

Result<credentials::ProviderConfig> ToProviderConfig(const ProviderResource& resource,
                                                     const Secret& client_secret) {
  auto entry = FindIdentityProvider(resource.identity_provider);
  if (!entry.ok()) return entry.error();
  auto config = credentials::ResolveProviderConfig(
      **entry, resource.grant, ProviderParameterValues(resource, client_secret), resource.id,
      resource.display_name);
  if (!config.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, config.error().message, "ValidationError");
  }
  // The templates may put a parameter into the host, so the resolved URLs get the same check as
  // URL parameters.
  struct ResolvedUrl {
    const char* field;
    const std::string* url;
  };
  for (const ResolvedUrl& resolved : {ResolvedUrl{"authorizationUrl", &config->authorization_url},
                                      ResolvedUrl{"tokenUrl", &config->token_url},
                                      ResolvedUrl{"refreshUrl", &config->refresh_url}}) {
    if (resolved.url->empty()) continue;
    CREDGATE_RETURN_IF_ERROR(internal::ValidateEndpointUrl(
        *resolved.url, std::string(resolved.field) + "' of identity provider '" +
                           resource.identity_provider));
  }
  return config;
}

Result<credentials::ProviderConfig> ClientCredentialsConfig(const runtime::ProviderEntry& provider,
                                                            const ConnectionResource& connection) {
  const ProviderResource& resource = provider.resource;
  if (resource.grant != credentials::GrantKind::kClientCredentials) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "authorization provider '" + resource.id +
                         "' uses the authorizationCode grant: a 'ClientCredentials' connection "
                         "needs a provider with properties.oauth2.grantTypes.clientCredentials",
                     "ValidationError");
  }
  auto entry = FindIdentityProvider(resource.identity_provider);
  if (!entry.ok()) return entry.error();
  const credentials::GrantSpec* grant = (*entry)->Grant(credentials::GrantKind::kClientCredentials);
  auto merged = credentials::MergeConnectionParameters(
      *grant, ProviderParameterValues(resource, provider.config.client_secret),
      *connection.parameters, "properties.parameters.");
  if (!merged.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, merged.error().message, "ValidationError");
  }
  auto applied = credentials::ApplyParameterSpecs(*grant, std::move(*merged), false,
                                                  "properties.parameters.");
  if (!applied.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, applied.error().message, "ValidationError");
  }
  auto config = credentials::ResolveProviderConfig(**entry, credentials::GrantKind::kClientCredentials,
                                                   *applied, resource.id, resource.display_name);
  if (!config.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, config.error().message, "ValidationError");
  }
  Status valid = credentials::ValidateProviderConfig(*config);
  if (!valid.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "connection '" + resource.id + "/" + connection.id + "': " +
                         valid.error().message +
                         " (set it on the provider or in properties.parameters)",
                     "ValidationError");
  }
  return config;
}

Result<store::ResourceRecord> ProviderRecord(const std::string& key,
                                             const ProviderResource& resource,
                                             const Secret& client_secret,
                                             const crypto::Keyring& keyring) {
  json::object body = RenderProvider(resource, "");
  if (!client_secret.empty()) {
    auto sealed = keyring.Seal(client_secret, key);
    if (!sealed.ok()) return sealed.error();
    body[kSealedSecretMember] = crypto::SealedToBase64(*sealed);
  }
  return store::ResourceRecord{"provider", key, "", json::serialize(body), 0, 0};
}

Result<store::ResourceRecord> ConnectionRecord(const std::string& key, const std::string& parent,
                                               const ConnectionResource& resource,
                                               const crypto::Keyring& keyring) {
  json::object body = RenderConnection(resource, {});
  const credentials::ParameterValues& parameters = *resource.parameters;
  if (!parameters.values.empty() || !parameters.client_secret.empty()) {
    json::object plain;
    for (const auto& [name, value] : parameters.values) plain[name] = value;
    if (!parameters.client_secret.empty()) {
      plain[credentials::kClientSecretParameter] = parameters.client_secret.Expose();
    }
    Secret serialized(json::serialize(plain));
    auto sealed = keyring.Seal(serialized, key);
    if (!sealed.ok()) return sealed.error();
    body[kSealedParametersMember] = crypto::SealedToBase64(*sealed);
  }
  return store::ResourceRecord{"connection", key, parent, json::serialize(body), 0, 0};
}

void UpsertAccessPolicy(runtime::ConnectionEntry& connection, const AccessPolicyResource& policy) {
  connection.access_policies.Upsert(
      credentials::AccessPolicy{policy.id, policy.tenant_id, policy.object_id, policy.app_ids});
}

Status UpsertOperation(runtime::Snapshot& snapshot, const OperationResource& operation,
                       std::vector<runtime::TemplateSegment> segments) {
  auto api_it = snapshot.apis.find(operation.api_id);
  if (api_it == snapshot.apis.end()) {
    return MakeError(ErrorCode::kNotFound, "API '" + operation.api_id + "' was not found",
                     "ResourceNotFound");
  }
  auto api = std::make_shared<runtime::ApiEntry>(*api_it->second);
  auto entry = std::make_shared<runtime::OperationEntry>();
  if (auto it = api->operations.find(operation.id); it != api->operations.end()) {
    *entry = *it->second;
  }
  entry->resource = operation;
  entry->segments = std::move(segments);
  api->operations[operation.id] = std::move(entry);
  api_it->second = std::move(api);
  return RecomposePipelines(snapshot, operation.api_id);
}

Status SetPolicy(runtime::Snapshot& snapshot, const ResourcePath& path,
                 const PolicyResource& policy,
                 std::shared_ptr<const policy::CompiledDocument> document, int& status) {
  auto not_found = [](const std::string& what) {
    return Status(
        MakeError(ErrorCode::kNotFound, what + " was not found", "ResourceNotFound"));
  };
  if (path.kind == ResourceKind::kGlobalPolicy) {
    status = snapshot.global_policy ? 200 : 201;
    snapshot.global_policy = policy;
    snapshot.global_document = std::move(document);
    return RecomposePipelines(snapshot, "");
  }
  auto api_it = snapshot.apis.find(path.first);
  if (api_it == snapshot.apis.end()) return not_found("API '" + path.first + "'");
  auto api = std::make_shared<runtime::ApiEntry>(*api_it->second);
  if (path.kind == ResourceKind::kApiPolicy) {
    status = api->policy ? 200 : 201;
    api->policy = policy;
    api->document = std::move(document);
  } else {
    auto op_it = api->operations.find(path.second);
    if (op_it == api->operations.end()) {
      return not_found("operation '" + path.second + "' of API '" + path.first + "'");
    }
    auto operation = std::make_shared<runtime::OperationEntry>(*op_it->second);
    status = operation->policy ? 200 : 201;
    operation->policy = policy;
    operation->document = std::move(document);
    op_it->second = std::move(operation);
  }
  api_it->second = std::move(api);
  return RecomposePipelines(snapshot, path.first);
}

Status RemoveResource(runtime::Snapshot& snapshot, const ResourcePath& path,
                      std::vector<std::string>& removed_connections) {
  switch (path.kind) {
    case ResourceKind::kProvider: {
      snapshot.providers.erase(path.first);
      const std::string prefix = path.first + "/";
      for (auto it = snapshot.connections.lower_bound(prefix);
           it != snapshot.connections.end() && it->first.starts_with(prefix);) {
        removed_connections.push_back(it->first);
        it = snapshot.connections.erase(it);
      }
      return OkStatus();
    }
    case ResourceKind::kConnection: {
      std::string key = runtime::ConnectionKey(path.first, path.second);
      if (snapshot.connections.erase(key) > 0) removed_connections.push_back(key);
      return OkStatus();
    }
    case ResourceKind::kAccessPolicy: {
      auto it = snapshot.connections.find(runtime::ConnectionKey(path.first, path.second));
      if (it == snapshot.connections.end()) return OkStatus();
      auto entry = std::make_shared<runtime::ConnectionEntry>(*it->second);
      entry->access_policies.Erase(path.third);
      it->second = std::move(entry);
      return OkStatus();
    }
    case ResourceKind::kTrustedIssuer:
      snapshot.trusted_issuers.erase(path.first);
      return OkStatus();
    case ResourceKind::kApi:
      snapshot.apis.erase(path.first);
      return OkStatus();
    case ResourceKind::kOperation: {
      auto api_it = snapshot.apis.find(path.first);
      if (api_it == snapshot.apis.end()) return OkStatus();
      auto api = std::make_shared<runtime::ApiEntry>(*api_it->second);
      api->operations.erase(path.second);
      api_it->second = std::move(api);
      return OkStatus();
    }
    case ResourceKind::kBackend:
      // A DELETE is refused while a policy names the backend, so no document changes here.
      snapshot.backends.erase(path.first);
      return OkStatus();
    case ResourceKind::kCertificate:
      // A DELETE is refused while a policy names the certificate, so no document changes here.
      snapshot.certificates.erase(path.first);
      return OkStatus();
    case ResourceKind::kPolicyFragment:
      // A DELETE is refused while a policy includes the fragment, so no document changes here.
      snapshot.policy_fragments.erase(path.first);
      return OkStatus();
    case ResourceKind::kGlobalPolicy:
      snapshot.global_policy.reset();
      snapshot.global_document.reset();
      return RecomposePipelines(snapshot, "");
    case ResourceKind::kApiPolicy: {
      auto api_it = snapshot.apis.find(path.first);
      if (api_it == snapshot.apis.end()) return OkStatus();
      auto api = std::make_shared<runtime::ApiEntry>(*api_it->second);
      api->policy.reset();
      api->document.reset();
      api_it->second = std::move(api);
      return RecomposePipelines(snapshot, path.first);
    }
    case ResourceKind::kOperationPolicy: {
      auto api_it = snapshot.apis.find(path.first);
      if (api_it == snapshot.apis.end()) return OkStatus();
      auto api = std::make_shared<runtime::ApiEntry>(*api_it->second);
      auto op_it = api->operations.find(path.second);
      if (op_it != api->operations.end()) {
        auto operation = std::make_shared<runtime::OperationEntry>(*op_it->second);
        operation->policy.reset();
        operation->document.reset();
        op_it->second = std::move(operation);
      }
      api_it->second = std::move(api);
      return RecomposePipelines(snapshot, path.first);
    }
    default:
      return MakeError(ErrorCode::kMethodNotAllowed, "DELETE is not supported on this resource",
                       "MethodNotAllowed");
  }
}

void ApplyTrustedIssuers(const runtime::Snapshot& snapshot, identity::JwtValidator& validator) {
  std::vector<identity::TrustedIssuer> issuers;
  for (const auto& [id, resource] : snapshot.trusted_issuers) {
    identity::TrustedIssuer issuer;
    issuer.id = resource.id;
    issuer.issuer = resource.issuer;
    issuer.audiences = resource.audiences;
    if (!resource.jwks_uri.empty()) issuer.jwks_uri = resource.jwks_uri;
    issuer.claims.object_id = resource.object_id_claim;
    issuer.claims.tenant_id = resource.tenant_id_claim;
    issuer.claims.groups = resource.groups_claim;
    issuer.claims.app_id = resource.app_id_claim;
    issuer.clock_skew = std::chrono::seconds(resource.clock_skew_seconds);
    issuers.push_back(std::move(issuer));
  }
  Status applied = validator.SetTrustedIssuers(std::move(issuers));
  if (!applied.ok()) {
    spdlog::error("trusted issuers were not applied: {}", applied.error().message);
  }
}

Status ForgetResource(const ResourcePath& path, runtime::Services& services) {
  std::vector<std::string> removed_connections;
  CREDGATE_RETURN_IF_ERROR(services.config->Update([&](runtime::Snapshot& next) {
    return RemoveResource(next, path, removed_connections);
  }));
  if (path.kind == ResourceKind::kProvider) services.tokens->RemoveProvider(path.first);
  for (const auto& connection_key : removed_connections) {
    services.statuses->Remove(connection_key);
    services.tokens->Remove(connection_key);
  }
  if (path.kind == ResourceKind::kTrustedIssuer) {
    ApplyTrustedIssuers(*services.config->Current(), *services.validator);
  }
  return OkStatus();
}

Status LoadFromStore(store::Store& store, runtime::Services& services) {
  // The catalogue is compiled in, so an error here means that the binary was built from an
  // invalid catalogue file. The start stops with the file and field before any provider is read.
  const Result<credentials::Catalogue>& catalogue = credentials::LoadBuiltinCatalogue();
  if (!catalogue.ok()) {
    return MakeError(ErrorCode::kInternal,
                     "the built-in provider catalogue is invalid: " + catalogue.error().message);
  }
  spdlog::info("provider catalogue loaded identity_providers={}", catalogue->entries().size());
  auto records = store.ListAll();
  if (!records.ok()) return records.error();
  const std::vector<const store::ResourceRecord*> ordered = OrderByKind(*records);
  // One snapshot copy for the whole load, because a copy per record would make the load
  // quadratic in the number of connections. The records are parsed a batch at a time on every
  // core and applied in order on this thread. Each chunk's JSON bodies take their memory from
  // one arena, freed with the next batch, so the bodies cost no malloc or free of their own.
  size_t loaded = 0;
  std::vector<std::unique_ptr<json::monotonic_resource>> arenas(
      (kParseBatch + kParseChunk - 1) / kParseChunk);
  std::vector<std::optional<Result<ParsedRecord>>> parsed;
  CREDGATE_RETURN_IF_ERROR(services.config->Update([&](runtime::Snapshot& next) {
    for (size_t begin = 0; begin < ordered.size(); begin += kParseBatch) {
      const size_t count = std::min(kParseBatch, ordered.size() - begin);
      parsed.assign(count, std::nullopt);
      ParallelFor(count, kParseChunk, [&](size_t first, size_t end) {
        // A new arena, not release(): Boost.JSON 1.81's release() keeps the size of the next
        // block, which doubles with every block, so a reused arena soon fails with bad_alloc.
        std::unique_ptr<json::monotonic_resource>& arena = arenas[first / kParseChunk];
        arena = std::make_unique<json::monotonic_resource>();
        for (size_t i = first; i < end; ++i) {
          parsed[i].emplace(ParseRecord(*ordered[begin + i], *services.keyring, arena.get()));
        }
      });
      for (size_t i = 0; i < count; ++i) {
        const store::ResourceRecord& record = *ordered[begin + i];
        Result<ParsedRecord>& result = *parsed[i];
        Status status = result.ok()
                            ? ApplyRecordOrRestore(record, std::move(*result), services, next)
                            : Status(result.error());
        if (!status.ok()) {
          spdlog::error("stored resource skipped kind={} key={}: {}", record.kind, record.key,
                        status.error().message);
          continue;
        }
        ++loaded;
      }
    }
    return OkStatus();
  }));
  ApplyTrustedIssuers(*services.config->Current(), *services.validator);
  spdlog::info("configuration loaded from the store resources={} skipped={}", loaded,
               records->size() - loaded);
  return OkStatus();
}

Status ValidateProviderSettings(const credentials::ProviderConfig& config) {
  const bool connections_supply_client =
      config.grant == credentials::GrantKind::kClientCredentials &&
      (config.client_id.empty() || config.client_secret.empty());
  if (!connections_supply_client) return credentials::ValidateProviderConfig(config);
  CREDGATE_RETURN_IF_ERROR(credentials::ValidateScopes("scopes", config.scopes));
  return credentials::ValidateEndpointUrl("tokenUrl", config.token_url);
}

}  // namespace credgate::management
