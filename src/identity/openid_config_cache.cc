#include "identity/openid_config_cache.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <map>
#include <mutex>
#include <optional>

#include "identity/async_event.h"
#include "identity/identity_errors.h"
#include "identity/key_fetcher.h"
#include "identity/trusted_issuer.h"

namespace credgate::identity {
namespace {

using ConfigResult = Result<std::shared_ptr<const OpenIdConfiguration>>;

Error FetchError(std::string_view url, std::string_view problem) {
  return MakeError(ErrorCode::kUnavailable,
                   fmt::format("fetching the OpenID configuration {} failed: {}", url, problem),
                   std::string(kReasonKeyFetchFailed));
}

boost::asio::awaitable<Result<std::string>> Get(http::HttpClient& client, std::string_view origin,
                                                std::string url, size_t max_body_bytes) {
  http::ClientRequest request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  request.max_response_body_bytes = max_body_bytes;
  Result<http::ClientResponse> response = co_await client.Send(std::move(request));
  // The discovery URL is in the message already; a JWKS URL is named before its problem.
  const std::string where = url == origin ? "" : url + ": ";
  if (!response.ok()) co_return FetchError(origin, where + response.error().message);
  if (response->status != 200) {
    co_return FetchError(origin, fmt::format("{}HTTP status {}", where, response->status));
  }
  co_return std::move(response->body);
}

struct Fetch {
  AsyncEvent done;
  ConfigResult result = MakeError(ErrorCode::kInternal, "the fetch did not finish");
};

struct Entry {
  std::atomic<std::shared_ptr<const OpenIdConfiguration>> config;
  std::mutex mutex;  // Guards the fields below.
  std::shared_ptr<Fetch> in_flight;
  std::optional<TimePoint> last_fetch_started;
  std::optional<TimePoint> loaded_at;
  std::optional<TimePoint> last_failure_at;
  std::optional<Error> last_failure;
};

}  // namespace

boost::asio::awaitable<ConfigResult> FetchOpenIdConfiguration(http::HttpClient& client,
                                                              std::string url) {
  Result<std::string> body = co_await Get(client, url, url, kMaxDiscoveryBytes);
  if (!body.ok()) co_return body.error();
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(*body, ec);
  if (ec || !document.is_object()) {
    co_return FetchError(url, "the discovery document is not a JSON object");
  }
  const boost::json::object& object = document.as_object();
  const boost::json::value* issuer = object.if_contains("issuer");
  const boost::json::value* jwks_uri = object.if_contains("jwks_uri");
  if (issuer == nullptr || !issuer->is_string() || issuer->as_string().empty()) {
    co_return FetchError(url, "the discovery document has no string 'issuer'");
  }
  if (jwks_uri == nullptr || !jwks_uri->is_string()) {
    co_return FetchError(url, "the discovery document has no string 'jwks_uri'");
  }
  std::string jwks_url(jwks_uri->as_string());
  if (!IsAllowedKeyUrl(jwks_url)) {
    co_return FetchError(url, fmt::format("'jwks_uri' {} is not an https URL", jwks_url));
  }
  Result<std::string> jwks = co_await Get(client, url, jwks_url, kMaxJwksBytes);
  if (!jwks.ok()) co_return jwks.error();
  Result<std::shared_ptr<const KeySet>> keys = ParseJwks(*jwks);
  if (!keys.ok()) co_return FetchError(url, jwks_url + ": " + keys.error().message);

  auto config = std::make_shared<OpenIdConfiguration>();
  config->url = std::move(url);
  config->issuer = std::string(issuer->as_string());
  config->keys = std::move(keys).value();
  co_return std::shared_ptr<const OpenIdConfiguration>(std::move(config));
}

struct OpenIdConfigCache::Impl : std::enable_shared_from_this<Impl> {
  Impl(http::HttpClient& client_in, std::shared_ptr<const Clock> clock_in,
       OpenIdConfigCacheOptions options_in)
      : client(client_in), clock(std::move(clock_in)), options(options_in) {}

  std::shared_ptr<Entry> FindEntry(std::string_view url) const {
    std::lock_guard lock(mutex);
    auto found = entries.find(url);
    return found == entries.end() ? nullptr : found->second;
  }

  static boost::asio::awaitable<void> RunFetch(std::shared_ptr<Impl> self,
                                               std::shared_ptr<Entry> entry, std::string url,
                                               std::shared_ptr<Fetch> fetch) {
    ConfigResult result = MakeError(ErrorCode::kInternal, "the fetch did not run");
    try {
      result = co_await FetchOpenIdConfiguration(self->client, url);
    } catch (const std::exception& e) {
      // HttpClient reports failures as Results. This catch keeps the waiters from hanging if
      // one throws anyway.
      result = FetchError(url, e.what());
    }
    const TimePoint now = self->clock->Now();
    if (result.ok()) {
      spdlog::info("identity: loaded {} keys of OpenID configuration {} (issuer {})",
                   (*result)->keys->keys().size(), url, (*result)->issuer);
      entry->config.store(*result);
    } else {
      spdlog::warn("identity: {}", result.error().message);
    }
    {
      std::lock_guard lock(entry->mutex);
      entry->in_flight.reset();
      if (result.ok()) {
        entry->loaded_at = now;
      } else {
        entry->last_failure_at = now;
        entry->last_failure = result.error();
      }
    }
    fetch->result = std::move(result);
    fetch->done.Set();
  }

  http::HttpClient& client;
  std::shared_ptr<const Clock> clock;
  OpenIdConfigCacheOptions options;
  mutable std::mutex mutex;  // Guards `entries`; entries are never removed.
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries;
};

OpenIdConfigCache::OpenIdConfigCache(http::HttpClient& client, std::shared_ptr<const Clock> clock,
                                     OpenIdConfigCacheOptions options)
    : impl_(std::make_shared<Impl>(client, std::move(clock), options)) {}

OpenIdConfigCache::~OpenIdConfigCache() = default;

std::shared_ptr<const OpenIdConfiguration> OpenIdConfigCache::Find(std::string_view url) const {
  std::shared_ptr<Entry> entry = impl_->FindEntry(url);
  return entry ? entry->config.load() : nullptr;
}

boost::asio::awaitable<ConfigResult> OpenIdConfigCache::Get(std::string url, bool unknown_kid) {
  std::shared_ptr<Impl> impl = impl_;
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(impl->mutex);
    auto found = impl->entries.find(url);
    if (found != impl->entries.end()) {
      entry = found->second;
    } else if (impl->entries.size() >= impl->options.max_urls) {
      co_return MakeError(ErrorCode::kResourceExhausted,
                          fmt::format("more than {} OpenID configuration URLs are in use; {} is "
                                      "not fetched",
                                      impl->options.max_urls, url));
    } else {
      entry = std::make_shared<Entry>();
      impl->entries.emplace(url, entry);
    }
  }

  std::shared_ptr<const OpenIdConfiguration> current = entry->config.load();
  std::shared_ptr<Fetch> fetch;
  bool start = false;
  {
    std::lock_guard lock(entry->mutex);
    const TimePoint now = impl->clock->Now();
    const bool refresh_due =
        current && (!entry->loaded_at || now - *entry->loaded_at >= impl->options.refresh_interval);
    const bool refetch_allowed =
        !entry->last_fetch_started ||
        now - *entry->last_fetch_started >= impl->options.unknown_kid_refetch_interval;
    if (entry->in_flight) {
      fetch = entry->in_flight;
    } else if (current && !(unknown_kid && refetch_allowed) && !refresh_due) {
      co_return current;
    } else if (!current && entry->last_failure_at &&
               now - *entry->last_failure_at < impl->options.failed_fetch_retry_interval) {
      co_return *entry->last_failure;
    } else {
      fetch = std::make_shared<Fetch>();
      entry->in_flight = fetch;
      entry->last_fetch_started = now;
      start = true;
    }
  }
  if (start) {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          Impl::RunFetch(impl, entry, url, fetch), boost::asio::detached);
  }
  // A due refresh runs in the background while the loaded configuration stays in use.
  if (current && !unknown_kid) co_return current;
  co_await fetch->done.Wait();
  if (!fetch->result.ok() && current) co_return current;
  co_return fetch->result;
}

}  // namespace credgate::identity
