// OpenIdConfigCache: signing keys and issuer read from OpenID Connect discovery documents by
// their full URL, as the validate-jwt policy's <openid-config url="..."/> names them. Each
// document and its JWKS are fetched once and kept in memory, so a request only reads a pointer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "http/client.h"
#include "identity/jwks.h"

namespace credgate::identity {

// The parts of one discovery document (OpenID Connect Discovery 1.0 §3) that token validation
// uses. Immutable, shared by every request until a refresh replaces it.
struct OpenIdConfiguration {
  std::string url;     // The discovery document's URL.
  std::string issuer;  // The document's `issuer`.
  std::shared_ptr<const KeySet> keys;
};

struct OpenIdConfigCacheOptions {
  // Age after which a configuration is fetched again in the background by the next Get(), while
  // the old one stays in use.
  std::chrono::seconds refresh_interval{3600};
  // Minimum time between two fetches of one URL that Get(url, /*unknown_kid=*/true) causes.
  std::chrono::seconds unknown_kid_refetch_interval{30};
  // Time after a failed fetch during which Get() fails at once with that fetch's error.
  std::chrono::seconds failed_fetch_retry_interval{5};
  // Upper bound on distinct URLs. URLs come from saved policies, never from requests.
  size_t max_urls = 256;
};

// Thread-safe. Fetches run as coroutines spawned on the executor of the Get() call that starts
// them; concurrent Get() calls for one URL share one fetch. `client` must outlive the cache and
// every fetch it started.
class OpenIdConfigCache {
 public:
  OpenIdConfigCache(http::HttpClient& client, std::shared_ptr<const Clock> clock,
                    OpenIdConfigCacheOptions options = {});
  ~OpenIdConfigCache();
  OpenIdConfigCache(const OpenIdConfigCache&) = delete;
  OpenIdConfigCache& operator=(const OpenIdConfigCache&) = delete;

  // Returns the configuration loaded for `url` without I/O, or nullptr.
  std::shared_ptr<const OpenIdConfiguration> Find(std::string_view url) const;

  // Returns the configuration for `url`, fetching it first when none is loaded. With
  // `unknown_kid`, fetches again unless the last fetch is younger than
  // unknown_kid_refetch_interval, so that a rotated key is found. Errors: kUnavailable with
  // reason "KeyFetchFailed" naming the URL (unreachable, status other than 200, a document
  // without string `issuer` and `jwks_uri`, a `jwks_uri` that is not https, no usable key), and
  // kResourceExhausted when max_urls distinct URLs are cached already.
  boost::asio::awaitable<Result<std::shared_ptr<const OpenIdConfiguration>>> Get(
      std::string url, bool unknown_kid = false);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Fetches the discovery document at `url` and then its JWKS. Errors as for Get().
boost::asio::awaitable<Result<std::shared_ptr<const OpenIdConfiguration>>> FetchOpenIdConfiguration(
    http::HttpClient& client, std::string url);

}  // namespace credgate::identity
