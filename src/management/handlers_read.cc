#include <boost/json.hpp>

#include "credentials/catalogue.h"
#include "credentials/consent_codes.h"
#include "credentials/login_sessions.h"
#include "management/certificates.h"
#include "management/handlers.h"
#include "management/redirect_url.h"
#include "management/resources.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

Error NotFound(const std::string& what) {
  return MakeError(ErrorCode::kNotFound, what + " was not found", "ResourceNotFound");
}

json::value ListOf(json::array items) {
  json::object out;
  out["value"] = std::move(items);
  return out;
}

}  // namespace

Result<json::value> Handlers::List(const ResourcePath& path) {
  auto snapshot = services_.config->Current();
  json::array items;
  switch (path.kind) {
    case ResourceKind::kProviders:
      for (const auto& [id, provider] : snapshot->providers) {
        items.push_back(RenderProvider(provider->resource, services_.settings.CallbackUrl()));
      }
      break;
    case ResourceKind::kConnections: {
      if (!snapshot->providers.contains(path.first)) {
        return NotFound("authorization provider '" + path.first + "'");
      }
      std::string prefix = path.first + "/";
      for (auto it = snapshot->connections.lower_bound(prefix);
           it != snapshot->connections.end() && it->first.starts_with(prefix); ++it) {
        items.push_back(
            RenderConnection(it->second->Resource(it->first), services_.statuses->Get(it->first)));
      }
      break;
    }
    case ResourceKind::kAccessPolicies: {
      auto it = snapshot->connections.find(runtime::ConnectionKey(path.first, path.second));
      if (it == snapshot->connections.end()) {
        return NotFound("authorization '" + path.first + "/" + path.second + "'");
      }
      for (const auto& policy : it->second->AccessPolicyResources(it->first)) {
        items.push_back(RenderAccessPolicy(policy));
      }
      break;
    }
    case ResourceKind::kBackends:
      for (const auto& [id, backend] : snapshot->backends) {
        items.push_back(RenderBackend(backend->resource));
      }
      break;
    case ResourceKind::kCertificates:
      for (const auto& [id, certificate] : snapshot->certificates) {
        items.push_back(RenderCertificate(*certificate));
      }
      break;
    case ResourceKind::kPolicyFragments:
      for (const auto& [id, fragment] : snapshot->policy_fragments) {
        items.push_back(RenderPolicyFragment(*fragment));
      }
      break;
    case ResourceKind::kTrustedIssuers:
      for (const auto& [id, issuer] : snapshot->trusted_issuers) {
        items.push_back(RenderTrustedIssuer(issuer));
      }
      break;
    case ResourceKind::kApis:
      for (const auto& [id, api] : snapshot->apis) items.push_back(RenderApi(api->resource));
      break;
    case ResourceKind::kOperations: {
      auto it = snapshot->apis.find(path.first);
      if (it == snapshot->apis.end()) return NotFound("API '" + path.first + "'");
      for (const auto& [id, operation] : it->second->operations) {
        items.push_back(RenderOperation(operation->resource));
      }
      break;
    }
    default:
      break;
  }
  return ListOf(std::move(items));
}

Result<json::value> Handlers::Get(const ResourcePath& path) {
  auto snapshot = services_.config->Current();
  const std::string resource_path = "/" + StoreKey(path);
  switch (path.kind) {
    case ResourceKind::kProvider: {
      auto it = snapshot->providers.find(path.first);
      if (it == snapshot->providers.end()) {
        return NotFound("authorization provider '" + path.first + "'");
      }
      return json::value(RenderProvider(it->second->resource, services_.settings.CallbackUrl()));
    }
    case ResourceKind::kConnection: {
      std::string key = runtime::ConnectionKey(path.first, path.second);
      auto it = snapshot->connections.find(key);
      if (it == snapshot->connections.end()) return NotFound("authorization '" + key + "'");
      return json::value(RenderConnection(it->second->Resource(key), services_.statuses->Get(key)));
    }
    case ResourceKind::kAccessPolicy: {
      std::string key = runtime::ConnectionKey(path.first, path.second);
      auto it = snapshot->connections.find(key);
      if (it == snapshot->connections.end()) return NotFound("authorization '" + key + "'");
      if (auto policy = it->second->FindAccessPolicyResource(key, path.third)) {
        return json::value(RenderAccessPolicy(*policy));
      }
      return NotFound("access policy '" + path.third + "' of authorization '" + key + "'");
    }
    case ResourceKind::kTrustedIssuer: {
      auto it = snapshot->trusted_issuers.find(path.first);
      if (it == snapshot->trusted_issuers.end()) {
        return NotFound("trusted issuer '" + path.first + "'");
      }
      return json::value(RenderTrustedIssuer(it->second));
    }
    case ResourceKind::kApi: {
      auto it = snapshot->apis.find(path.first);
      if (it == snapshot->apis.end()) return NotFound("API '" + path.first + "'");
      return json::value(RenderApi(it->second->resource));
    }
    case ResourceKind::kOperation: {
      auto api = snapshot->apis.find(path.first);
      if (api == snapshot->apis.end()) return NotFound("API '" + path.first + "'");
      auto it = api->second->operations.find(path.second);
      if (it == api->second->operations.end()) {
        return NotFound("operation '" + path.second + "' of API '" + path.first + "'");
      }
      return json::value(RenderOperation(it->second->resource));
    }
    case ResourceKind::kIdentityProviders: {
      // A collection that ManagementService does not list among its collections, so its GET
      // arrives here.
      json::array items;
      for (const auto& [id, entry] : credentials::BuiltinCatalogue().entries()) {
        items.push_back(RenderIdentityProvider(entry));
      }
      return ListOf(std::move(items));
    }
    case ResourceKind::kIdentityProvider: {
      const credentials::CatalogueEntry* entry = credentials::BuiltinCatalogue().Find(path.first);
      if (entry == nullptr) return NotFound("identity provider '" + path.first + "'");
      return json::value(RenderIdentityProvider(*entry));
    }
    case ResourceKind::kBackend: {
      auto it = snapshot->backends.find(path.first);
      if (it == snapshot->backends.end()) return NotFound("backend '" + path.first + "'");
      return json::value(RenderBackend(it->second->resource));
    }
    case ResourceKind::kCertificate: {
      auto it = snapshot->certificates.find(path.first);
      if (it == snapshot->certificates.end()) return NotFound("certificate '" + path.first + "'");
      return json::value(RenderCertificate(*it->second));
    }
    case ResourceKind::kPolicyFragment: {
      auto it = snapshot->policy_fragments.find(path.first);
      if (it == snapshot->policy_fragments.end()) {
        return NotFound("policy fragment '" + path.first + "'");
      }
      return json::value(RenderPolicyFragment(*it->second));
    }
    case ResourceKind::kGlobalPolicy:
      if (!snapshot->global_policy) return NotFound("global policy");
      return json::value(RenderPolicy(resource_path, *snapshot->global_policy));
    case ResourceKind::kApiPolicy: {
      auto api = snapshot->apis.find(path.first);
      if (api == snapshot->apis.end() || !api->second->policy) {
        return NotFound("policy of API '" + path.first + "'");
      }
      return json::value(RenderPolicy(resource_path, *api->second->policy));
    }
    case ResourceKind::kOperationPolicy: {
      auto api = snapshot->apis.find(path.first);
      if (api != snapshot->apis.end()) {
        auto it = api->second->operations.find(path.second);
        if (it != api->second->operations.end() && it->second->policy) {
          return json::value(RenderPolicy(resource_path, *it->second->policy));
        }
      }
      return NotFound("policy of operation '" + path.first + "/" + path.second + "'");
    }
    default:
      return NotFound("resource '" + resource_path + "'");
  }
}

Result<json::value> Handlers::CreateLoginLink(const ResourcePath& path, const std::string& body,
                                              const std::string& caller) {
  auto snapshot = services_.config->Current();
  std::string key = runtime::ConnectionKey(path.first, path.second);
  auto connection = snapshot->connections.find(key);
  if (connection == snapshot->connections.end()) return NotFound("authorization '" + key + "'");
  if (connection->second->grant_type == GrantType::kClientCredentials) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "authorization '" + key +
                         "' uses the client credentials grant, which needs no sign-in: PUT it "
                         "again to request a new token",
                     "ValidationError");
  }

  std::string redirect;
  if (!body.empty()) {
    auto parsed = ParseJsonBody(body);
    if (!parsed.ok()) return parsed.error();
    auto it = parsed->find("postLoginRedirectUrl");
    if (it != parsed->end() && !it->value().is_null()) {
      if (!it->value().is_string()) {
        return MakeError(ErrorCode::kInvalidArgument, "'postLoginRedirectUrl' must be a string",
                         "ValidationError");
      }
      redirect = std::string(it->value().get_string());
    }
  }
  if (!redirect.empty()) {
    auto allowed = CheckPostLoginRedirect(redirect, services_.settings.post_login_redirect_allow);
    if (!allowed.ok()) return allowed.error();
    redirect = std::move(*allowed);
  }
  auto token =
      services_.login_sessions->CreateLoginLink(path.first, path.second, redirect, caller);
  if (!token.ok()) return token.error();
  json::object out;
  out["loginLink"] = services_.settings.public_url + "/.credgate/login/" + *token;
  return json::value(std::move(out));
}

Result<json::value> Handlers::ConfirmConsentCode(const ResourcePath& path,
                                                 const std::string& body) {
  auto snapshot = services_.config->Current();
  const std::string key = runtime::ConnectionKey(path.first, path.second);
  if (!snapshot->connections.contains(key)) return NotFound("authorization '" + key + "'");

  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) return parsed.error();
  auto it = parsed->find("consentCode");
  if (it == parsed->end() || !it->value().is_string() || it->value().get_string().empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'consentCode' is missing: send {\"consentCode\": \"<the consentCode "
                     "parameter of the post-login redirect>\"}",
                     "ValidationError");
  }
  Status confirmed = services_.consent_codes->Confirm(key, it->value().get_string());
  if (!confirmed.ok()) return confirmed.error();
  return json::value(nullptr);
}

}  // namespace credgate::management
