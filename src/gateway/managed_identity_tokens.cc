#include "gateway/managed_identity_tokens.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "credentials/token_client.h"

namespace credgate::gateway {

namespace {

// Tokens a response gave no lifetime for are reused this long.
constexpr std::chrono::minutes kAssumedLifetime{5};
// A token is not handed out when it expires within this margin.
constexpr std::chrono::minutes kExpiryMargin{1};
// Resources are usually literals, so a policy names few; the cache starts over beyond this.
constexpr size_t kMaxCachedResources = 256;
constexpr size_t kMaxResourceLength = 1000;

Error NotConfigured(const std::string& message) {
  return MakeError(ErrorCode::kInternal, message, "ManagedIdentityNotConfigured");
}

}  // namespace

std::string ScopeForResource(std::string_view resource) {
  constexpr std::string_view kDefault = "/.default";
  if (resource.ends_with(kDefault)) return std::string(resource);
  std::string scope(resource);
  if (!scope.ends_with('/')) scope += '/';
  return scope + ".default";
}

std::optional<Secret> ManagedIdentityTokens::Find(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end() || it->second.expires_at - kExpiryMargin <= now) return std::nullopt;
  return it->second.access_token;
}

void ManagedIdentityTokens::Store(const std::string& key, CachedToken token) {
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCachedResources && !cache_.contains(key)) cache_.clear();
  cache_.insert_or_assign(key, std::move(token));
}

boost::asio::awaitable<Result<Secret>> ManagedIdentityTokens::Get(std::string resource,
                                                                 std::string client_id) {
  auto fail = [this](Error error) -> Result<Secret> {
    counters_.failed.fetch_add(1, std::memory_order_relaxed);
    return error;
  };
  const bool invalid_char = std::any_of(resource.begin(), resource.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (resource.empty() || resource.size() > kMaxResourceLength || invalid_char) {
    co_return fail(MakeError(ErrorCode::kInvalidArgument,
                             "authentication-managed-identity got the resource '" + resource +
                                 "': use 1 to 1000 characters without spaces",
                             "ManagedIdentityResourceInvalid"));
  }
  // The setting that names the provider, for error messages.
  std::string setting = "managedIdentity.tokenProvider";
  std::string provider_id = services_.settings.managed_identity_token_provider;
  if (!client_id.empty()) {
    const auto& user_assigned = services_.settings.managed_identity_user_assigned;
    auto found = user_assigned.find(client_id);
    if (found == user_assigned.end()) {
      co_return fail(NotConfigured("the user-assigned identity '" + client_id +
                                   "' is not in managedIdentity.userAssigned of the "
                                   "configuration"));
    }
    setting = "managedIdentity.userAssigned." + client_id;
    provider_id = found->second;
  }
  if (provider_id.empty()) {
    co_return fail(NotConfigured(
        "the gateway has no managed identity token source; set managedIdentity.tokenProvider "
        "in the configuration"));
  }
  const std::string cache_key = client_id + "\n" + resource;
  const TimePoint now = services_.clock->Now();
  if (std::optional<Secret> cached = Find(cache_key, now)) {
    counters_.issued.fetch_add(1, std::memory_order_relaxed);
    co_return std::move(*cached);
  }

  auto snapshot = services_.config->Current();
  auto provider = snapshot->providers.find(provider_id);
  if (provider == snapshot->providers.end()) {
    co_return fail(NotConfigured("authorization provider '" + provider_id + "' that " + setting +
                                 " names does not exist"));
  }
  credentials::ProviderConfig config = provider->second->config;
  if (config.grant != credentials::GrantKind::kClientCredentials || config.client_id.empty() ||
      config.client_secret.empty()) {
    co_return fail(NotConfigured(
        "authorization provider '" + provider_id + "' that " + setting +
        " names needs the clientCredentials grant with its own clientId and clientSecret"));
  }
  if (services_.settings.managed_identity_resource_parameter) {
    config.scopes.clear();
    config.token_parameters.emplace_back("resource", resource);
  } else {
    config.scopes = ScopeForResource(resource);
  }

  // NOTE: concurrent requests that miss the cache for one resource each send a token request;
  // the last response is kept.
  counters_.requested.fetch_add(1, std::memory_order_relaxed);
  Result<credentials::TokenSet> tokens =
      co_await services_.token_client->RequestClientCredentials(std::move(config));
  if (!tokens.ok()) {
    spdlog::warn("managed identity token request failed provider={} client_id={} resource={}: {}",
                 provider_id, client_id, resource, tokens.error().message);
    co_return fail(MakeError(ErrorCode::kUnavailable,
                             "the managed identity token request to authorization provider '" +
                                 provider_id + "' failed",
                             "ManagedIdentityTokenRequestFailed"));
  }
  const TimePoint expires_at = tokens->expires_at.value_or(now + kAssumedLifetime);
  Store(cache_key, CachedToken{tokens->access_token, expires_at});
  counters_.issued.fetch_add(1, std::memory_order_relaxed);
  co_return std::move(tokens->access_token);
}

}  // namespace credgate::gateway
