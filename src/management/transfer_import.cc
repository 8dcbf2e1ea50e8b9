#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "crypto/export_seal.h"
#include "http/url.h"
#include "management/backends.h"
#include "management/certificates.h"
#include "management/persistence.h"
#include "management/pipelines.h"
#include "management/resources.h"
#include "management/transfer.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

constexpr std::string_view kTokensMember = "tokens";

template <typename T>
Status StatusOf(const Result<T>& result) {
  if (!result.ok()) return result.error();
  return OkStatus();
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

// Prefixes an error with the resource path it concerns.
Error AtPath(const std::string& path, const Error& error) {
  Error out = error;
  out.message = path + ": " + error.message;
  if (out.code != ErrorCode::kAlreadyExists) out.code = ErrorCode::kInvalidArgument;
  if (out.reason.empty()) out.reason = "ValidationError";
  return out;
}

// The order in which resources are applied, parents first.
int ApplyRank(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kTrustedIssuer:
      return 0;
    case ResourceKind::kProvider:
      return 1;
    case ResourceKind::kConnection:
      return 2;
    case ResourceKind::kAccessPolicy:
      return 3;
    case ResourceKind::kApi:
      return 4;
    case ResourceKind::kOperation:
      return 5;
    case ResourceKind::kBackend:
    case ResourceKind::kCertificate:
      return 6;
    case ResourceKind::kPolicyFragment:
      return 7;
    case ResourceKind::kGlobalPolicy:
      return 8;
    case ResourceKind::kApiPolicy:
      return 9;
    case ResourceKind::kOperationPolicy:
      return 10;
    default:
      return -1;
  }
}

// Sets `value` at the dotted `member` path of `body`, creating objects on the way. Fails when a
// step is not an object.
Status SetMember(json::object& body, std::string_view member, std::string_view value) {
  json::object* at = &body;
  while (true) {
    size_t dot = member.find('.');
    std::string_view step = member.substr(0, dot);
    if (dot == std::string_view::npos) {
      (*at)[step] = value;
      return OkStatus();
    }
    json::value& next = (*at)[step];
    if (next.is_null()) next = json::object();
    if (!next.is_object()) return Invalid("'" + std::string(member) + "' is not inside an object");
    at = &next.as_object();
    member.remove_prefix(dot + 1);
  }
}

// The exported status of a connection: nullopt for Connected.
std::optional<credentials::ConnectionError> ExportedError(const json::object& body) {
  const json::value* properties = body.if_contains("properties");
  if (properties == nullptr || !properties->is_object()) return std::nullopt;
  const json::value* status = properties->as_object().if_contains("status");
  if (status == nullptr || !status->is_string() || status->get_string() != "Error") {
    return std::nullopt;
  }
  credentials::ConnectionError error{"Error", ""};
  if (const json::value* e = properties->as_object().if_contains("error"); e && e->is_object()) {
    if (auto* code = e->as_object().if_contains("code"); code && code->is_string()) {
      error.code = std::string(code->get_string());
    }
    if (auto* message = e->as_object().if_contains("message"); message && message->is_string()) {
      error.message = std::string(message->get_string());
    }
  }
  return error;
}

bool Exists(const runtime::Snapshot& snapshot, const ResourcePath& path) {
  switch (path.kind) {
    case ResourceKind::kTrustedIssuer:
      return snapshot.trusted_issuers.contains(path.first);
    case ResourceKind::kProvider:
      return snapshot.providers.contains(path.first);
    case ResourceKind::kConnection:
      return snapshot.connections.contains(runtime::ConnectionKey(path.first, path.second));
    case ResourceKind::kAccessPolicy: {
      auto it = snapshot.connections.find(runtime::ConnectionKey(path.first, path.second));
      if (it == snapshot.connections.end()) return false;
      return it->second->access_policies.Contains(path.third);
    }
    case ResourceKind::kApi:
      return snapshot.apis.contains(path.first);
    case ResourceKind::kOperation: {
      auto it = snapshot.apis.find(path.first);
      return it != snapshot.apis.end() && it->second->operations.contains(path.second);
    }
    case ResourceKind::kBackend:
      return snapshot.backends.contains(path.first);
    case ResourceKind::kCertificate:
      return snapshot.certificates.contains(path.first);
    case ResourceKind::kPolicyFragment:
      return snapshot.policy_fragments.contains(path.first);
    case ResourceKind::kGlobalPolicy:
      return snapshot.global_policy.has_value();
    case ResourceKind::kApiPolicy: {
      auto it = snapshot.apis.find(path.first);
      return it != snapshot.apis.end() && it->second->policy.has_value();
    }
    case ResourceKind::kOperationPolicy: {
      auto it = snapshot.apis.find(path.first);
      if (it == snapshot.apis.end()) return false;
      auto op = it->second->operations.find(path.second);
      return op != it->second->operations.end() && op->second->policy.has_value();
    }
    default:
      return false;
  }
}

// Validates the resources of a document in apply order, remembering what earlier ones define
// so that a child can find its parent in the document.
class Validator {
 public:
  Validator(const runtime::Snapshot& current) : current_(current) {}

  Status Check(const ImportItem& item, const json::object& body) {
    const ResourcePath& path = item.path;
    switch (path.kind) {
      case ResourceKind::kTrustedIssuer:
        return StatusOf(ParseTrustedIssuer(path.first, body));
      case ResourceKind::kProvider:
        return CheckProvider(path, body);
      case ResourceKind::kConnection:
        return CheckConnection(path, body);
      case ResourceKind::kAccessPolicy: {
        const std::string key = runtime::ConnectionKey(path.first, path.second);
        if (!connections_.contains(key) && !current_.connections.contains(key)) {
          return Invalid("its authorization '" + key + "' is neither in the document nor stored");
        }
        return StatusOf(ParseAccessPolicy(path.first, path.second, path.third, body));
      }
      case ResourceKind::kApi:
        return CheckApi(path, body);
      case ResourceKind::kOperation: {
        CREDGATE_RETURN_IF_ERROR(RequireApi(path.first));
        auto operation = ParseOperation(path.first, path.second, body);
        if (!operation.ok()) return operation.error();
        operations_.insert(path.first + "/" + path.second);
        return StatusOf(runtime::ParseUrlTemplate(operation->url_template));
      }
      case ResourceKind::kBackend: {
        auto backend = ParseBackend(path.first, body);
        if (!backend.ok()) return backend.error();
        backends_.insert(path.first);
        runtime::Snapshot scratch;
        int status = 0;
        return SetBackend(scratch, *backend, status);
      }
      case ResourceKind::kCertificate: {
        auto entry = ParseCertificate(path.first, body);
        if (!entry.ok()) return entry.error();
        certificates_[path.first] = (*entry)->certificate;
        return OkStatus();
      }
      case ResourceKind::kPolicyFragment:
        return CheckPolicyFragment(path, body);
      case ResourceKind::kGlobalPolicy:
      case ResourceKind::kApiPolicy:
      case ResourceKind::kOperationPolicy:
        return CheckPolicy(path, body);
      default:
        return Invalid("this path cannot be imported");
    }
  }

 private:
  Status CheckProvider(const ResourcePath& path, const json::object& body) {
    auto resource = ParseProvider(path.first, body);
    if (!resource.ok()) return resource.error();
    auto config = ToProviderConfig(*resource, resource->client_secret);
    if (!config.ok()) return config.error();
    CREDGATE_RETURN_IF_ERROR(ValidateProviderSettings(*config));
    // As in PUT, a stored provider with connections keeps its grant type.
    auto stored = current_.providers.find(path.first);
    if (stored != current_.providers.end() && stored->second->resource.grant != resource->grant &&
        HasStoredConnections(path.first)) {
      return Invalid(
          "'properties.oauth2.grantTypes' changes the grant type of the stored provider, "
          "which has connections: delete them first");
    }
    runtime::ProviderEntry entry;
    entry.resource = std::move(*resource);
    entry.config = std::move(*config);
    providers_[path.first] = std::move(entry);
    return OkStatus();
  }

  Status CheckConnection(const ResourcePath& path, const json::object& body) {
    const runtime::ProviderEntry* provider = nullptr;
    if (auto it = providers_.find(path.first); it != providers_.end()) {
      provider = &it->second;
    } else if (auto stored = current_.providers.find(path.first);
               stored != current_.providers.end()) {
      provider = stored->second.get();
    } else {
      return Invalid("its authorization provider '" + path.first +
                     "' is neither in the document nor stored");
    }
    auto resource = ParseConnection(path.first, path.second, body);
    if (!resource.ok()) return resource.error();
    if (resource->grant_type == GrantType::kClientCredentials) {
      CREDGATE_RETURN_IF_ERROR(StatusOf(ClientCredentialsConfig(*provider, *resource)));
    } else if (provider->resource.grant != credentials::GrantKind::kAuthorizationCode) {
      return Invalid("'properties.oauth2grantType': authorization provider '" + path.first +
                     "' uses the clientCredentials grant");
    }
    connections_.insert(runtime::ConnectionKey(path.first, path.second));
    return OkStatus();
  }

  Status CheckApi(const ResourcePath& path, const json::object& body) {
    auto resource = ParseApi(path.first, body);
    if (!resource.ok()) return resource.error();
    auto service = http::ParseHttpUrl(resource->service_url);
    if (!service.ok())
      return Invalid("invalid 'properties.serviceUrl': " + service.error().message);
    auto [owner, added] = api_paths_.emplace(resource->path, path.first);
    if (!added) {
      return Invalid("'properties.path' '" + resource->path + "' is also the path of API '" +
                     owner->second + "' in the document");
    }
    for (const auto& [id, api] : current_.apis) {
      if (id != path.first && api->resource.path == resource->path) {
        return Invalid("'properties.path' '" + resource->path +
                       "' is the path of the stored API '" + id + "'");
      }
    }
    apis_.insert(path.first);
    return OkStatus();
  }

  Status CheckPolicy(const ResourcePath& path, const json::object& body) {
    PolicyLevel level = PolicyLevel::kGlobal;
    if (path.kind == ResourceKind::kApiPolicy) {
      level = PolicyLevel::kApi;
      CREDGATE_RETURN_IF_ERROR(RequireApi(path.first));
    } else if (path.kind == ResourceKind::kOperationPolicy) {
      level = PolicyLevel::kOperation;
      CREDGATE_RETURN_IF_ERROR(RequireApi(path.first));
      auto api = current_.apis.find(path.first);
      const bool stored =
          api != current_.apis.end() && api->second->operations.contains(path.second);
      if (!stored && !operations_.contains(path.first + "/" + path.second)) {
        return Invalid("its operation '" + path.second + "' is neither in the document nor stored");
      }
    }
    auto resource = ParsePolicy(body);
    if (!resource.ok()) return resource.error();
    // NOTE: only the document itself is compiled here. Composing it with the levels above it
    // (<base/>) happens when it is applied, so a composition error stops the import there.
    auto document = CompileDocument(resource->xml, level, Fragments(), Certificates());
    if (!document.ok()) return document.error();
    // Backends apply before policies, so a policy may name a backend of the document.
    CREDGATE_RETURN_IF_ERROR(RequireBackends(**document, [this](const std::string& id) {
      return backends_.contains(id) || current_.backends.contains(id);
    }));
    return RequireManagedIdentities(**document, current_.managed_identity_client_ids);
  }

  // Compiles a fragment against the document's fragments and the stored ones. Fragments apply
  // before policies, so a policy of the document can include a fragment of the document.
  // NOTE: a stored policy that includes a replaced fragment is recompiled only when the import
  // applies it, so an error there stops the import part way.
  Status CheckPolicyFragment(const ResourcePath& path, const json::object& body) {
    auto resource = ParsePolicyFragment(path.first, body);
    if (!resource.ok()) return resource.error();
    fragments_[path.first] = resource->xml;
    return StatusOf(
        policy::CompilePolicyFragment(path.first, resource->xml, Fragments(), Certificates()));
  }

  // Returns the document's certificates and the stored ones. Certificates apply before fragments
  // and policies, so those of the document can name a certificate of the document.
  policy::CertificateLookup Certificates() const {
    return [this](std::string_view id) -> std::shared_ptr<const crypto::Certificate> {
      if (auto it = certificates_.find(std::string(id)); it != certificates_.end()) {
        return it->second;
      }
      auto stored = current_.certificates.find(std::string(id));
      if (stored == current_.certificates.end()) return nullptr;
      return stored->second->certificate;
    };
  }

  policy::FragmentLookup Fragments() const {
    return [this](std::string_view id) -> std::optional<std::string> {
      if (auto it = fragments_.find(std::string(id)); it != fragments_.end()) return it->second;
      auto stored = current_.policy_fragments.find(std::string(id));
      if (stored == current_.policy_fragments.end()) return std::nullopt;
      return stored->second->xml;
    };
  }

  bool HasStoredConnections(const std::string& provider_id) const {
    const std::string prefix = provider_id + "/";
    auto it = current_.connections.lower_bound(prefix);
    return it != current_.connections.end() && it->first.starts_with(prefix);
  }

  Status RequireApi(const std::string& id) {
    if (apis_.contains(id) || current_.apis.contains(id)) return OkStatus();
    return Invalid("its API '" + id + "' is neither in the document nor stored");
  }

  const runtime::Snapshot& current_;
  std::map<std::string, runtime::ProviderEntry> providers_;
  std::set<std::string> connections_;
  std::set<std::string> apis_;
  std::set<std::string> operations_;
  std::map<std::string, std::string> api_paths_;  // API path → API id.
  std::map<std::string, std::string> fragments_;  // Fragment id → XML, from the document.
  std::set<std::string> backends_;                // Backend ids of the document.
  // Certificate id → certificate, from the document.
  std::map<std::string, std::shared_ptr<const crypto::Certificate>> certificates_;
};

// Reads one entry of "resources": its path, its body with the sealed secrets put in, and a
// connection's tokens and status.
Result<ImportItem> ReadEntry(const json::value& entry, size_t index, const Secret& key,
                             json::object& body) {
  const std::string where = "resources[" + std::to_string(index) + "]";
  if (!entry.is_object()) return Invalid(where + " must be an object");
  const json::object& object = entry.as_object();
  const json::value* path_value = object.if_contains("path");
  if (path_value == nullptr || !path_value->is_string()) {
    return Invalid(where + ".path must be a string");
  }
  const std::string path_text(path_value->get_string());
  auto path = ParseResourcePath(path_text);
  if (!path.ok() || ApplyRank(path->kind) < 0 || "/" + StoreKey(*path) != path_text) {
    return Invalid(where + ".path '" + path_text + "' is not the path of an importable resource");
  }
  const json::value* body_value = object.if_contains("body");
  if (body_value == nullptr || !body_value->is_object()) {
    return Invalid(path_text + ": 'body' must be an object");
  }
  body = body_value->as_object();

  ImportItem item;
  item.path = *path;
  item.path_text = path_text;
  if (path->kind == ResourceKind::kConnection) item.error_status = ExportedError(body);
  if (const json::value* sealed = object.if_contains("sealed"); sealed != nullptr) {
    if (!sealed->is_object()) return Invalid(path_text + ": 'sealed' must be an object");
    for (const auto& [member, value] : sealed->as_object()) {
      if (!value.is_string()) {
        return Invalid(path_text + ": sealed '" + std::string(member) + "' must be a string");
      }
      auto opened = crypto::OpenExportValue(key, path_text, member, value.get_string());
      if (!opened.ok()) return opened.error();
      if (member == kTokensMember) {
        if (path->kind != ResourceKind::kConnection) {
          return Invalid(path_text + ": only an authorization carries sealed 'tokens'");
        }
        auto tokens = credentials::ParseTokenSet(opened->Expose());
        if (!tokens.ok()) return AtPath(path_text, tokens.error());
        item.tokens = std::move(*tokens);
        continue;
      }
      if (member == kExportCredentialsMember && path->kind == ResourceKind::kBackend) {
        // A backend's credentials are sealed whole, as the JSON object of the PUT body.
        boost::system::error_code error;
        json::value credentials = json::parse(opened->Expose(), error);
        json::value* properties = body.if_contains("properties");
        if (error || !credentials.is_object() || properties == nullptr ||
            !properties->is_object()) {
          return Invalid(path_text + ": sealed '" + std::string(member) +
                         "' must open to a JSON object and 'body.properties' must be an object");
        }
        properties->as_object()["credentials"] = std::move(credentials);
        continue;
      }
      CREDGATE_RETURN_IF_ERROR(SetMember(body, member, opened->Expose()));
    }
  }
  return item;
}

}  // namespace

Result<std::vector<ImportItem>> ValidateImportDocument(const json::value& document,
                                                       const Secret& export_key,
                                                       const runtime::Snapshot& current,
                                                       ImportMode mode) {
  if (!document.is_object()) return Invalid("the document must be a JSON object");
  const json::object& root = document.as_object();
  const json::value* version = root.if_contains("formatVersion");
  if (version == nullptr || !version->is_int64() || version->as_int64() != kExportFormatVersion) {
    return Invalid("'formatVersion' must be " + std::to_string(kExportFormatVersion) +
                   ": this credgate reads only that version of the export document");
  }
  const json::value* resources = root.if_contains("resources");
  if (resources == nullptr || !resources->is_array()) {
    return Invalid("'resources' must be an array");
  }

  std::vector<ImportItem> items;
  std::vector<json::object> bodies;
  std::set<std::string> seen;
  const json::array& entries = resources->as_array();
  for (size_t i = 0; i < entries.size(); ++i) {
    json::object body;
    auto item = ReadEntry(entries[i], i, export_key, body);
    if (!item.ok()) return item.error();
    if (!seen.insert(item->path_text).second) {
      return Invalid(item->path_text + ": the document lists this resource twice");
    }
    item->replaces = Exists(current, item->path);
    if (item->replaces && mode == ImportMode::kCreateOnly) {
      return MakeError(ErrorCode::kAlreadyExists,
                       item->path_text +
                           ": the resource exists already; import with mode "
                           "'replace' to overwrite it",
                       "Conflict");
    }
    items.push_back(std::move(*item));
    bodies.push_back(std::move(body));
  }

  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ApplyRank(items[a].path.kind) < ApplyRank(items[b].path.kind);
  });

  Validator validator(current);
  std::vector<ImportItem> ordered;
  ordered.reserve(items.size());
  for (size_t i : order) {
    Status valid = validator.Check(items[i], bodies[i]);
    if (!valid.ok()) return AtPath(items[i].path_text, valid.error());
    items[i].body = Secret(json::serialize(bodies[i]));
    ordered.push_back(std::move(items[i]));
  }
  return ordered;
}

}  // namespace credgate::management
