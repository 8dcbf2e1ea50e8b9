// JwtValidator: validation of callers' JWTs against the configured trusted issuers, with the
// issuers' keys fetched on demand and validated tokens cached until they expire.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "http/client.h"
#include "identity/claims.h"
#include "identity/token_cache.h"
#include "identity/trusted_issuer.h"

namespace credgate::identity {

struct JwtValidatorOptions {
  // Upper bound on cached identities. Each costs about the size of its token's payload.
  size_t cache_max_entries = TokenCache::kDefaultMaxEntries;
  // Minimum time between two JWKS fetches of one issuer caused by an unknown `kid`, so that
  // tokens with random kids cannot cause a fetch storm.
  std::chrono::seconds unknown_kid_refetch_interval{30};
  // Time after a failed fetch during which an issuer without keys is not fetched again, and its
  // tokens fail with that fetch's error.
  std::chrono::seconds failed_fetch_retry_interval{5};
  // Age after which loaded keys are fetched again in the background by the next Validate() that
  // verifies a signature with them, so that keys removed from the JWKS stop being trusted. The
  // old keys stay in use until the new set arrives, and also when the fetch fails.
  std::chrono::seconds key_refresh_interval{3600};
};

// Totals since construction, for metrics.
struct JwtValidatorCounters {
  uint64_t accepted = 0;  // Includes cache hits.
  uint64_t cache_hits = 0;
  uint64_t rejected = 0;  // Every failed ValidateCached() or Validate(), whatever the reason.
  uint64_t key_fetches = 0;
  uint64_t key_fetch_failures = 0;
};

// Thread-safe: any number of coroutines on any threads may call ValidateCached() and Validate()
// while SetTrustedIssuers() replaces the configuration. The issuers and their keys live in an
// immutable snapshot that readers load from one atomic pointer. The token cache is sharded with
// one short mutex per shard.
//
// Errors returned by both entry points are kUnauthenticated with a reason from
// identity_errors.h ("InvalidJwt" or a more specific one) and a message that names the problem
// but never contains the token, except:
// - kUnavailable "KeysNotLoaded" (ValidateCached only): the issuer's keys were never fetched.
// - kUnavailable "KeyFetchFailed" (Validate only): fetching the discovery document or JWKS failed.
class JwtValidator {
 public:
  // `client` sends discovery and JWKS requests. Fetches run as coroutines spawned on the
  // executor of the Validate() call that starts them and share ownership of `client` and of the
  // validator's state, so they may finish after the validator is destroyed.
  JwtValidator(std::shared_ptr<http::HttpClient> client, std::shared_ptr<const Clock> clock,
               JwtValidatorOptions options = {});
  ~JwtValidator();
  JwtValidator(const JwtValidator&) = delete;
  JwtValidator& operator=(const JwtValidator&) = delete;

  // Replaces the trusted issuers after checking each with ValidateTrustedIssuer(), and clears the
  // token cache. Keys already loaded for an issuer with unchanged `issuer` and `jwks_uri` are
  // kept. Errors (kInvalidArgument): an invalid issuer, or two issuers sharing an `id` or an
  // `issuer`. On error the previous configuration stays in force.
  Status SetTrustedIssuers(std::vector<TrustedIssuer> issuers);

  // Validates `token` without I/O, from the cache or with keys already loaded. The token's `iss`
  // selects the trusted issuer. A non-empty `issuer_ids` restricts the choice to those
  // TrustedIssuer ids. Returns "KeysNotLoaded" or "UnknownKeyId" when Validate() would fetch keys.
  Result<std::shared_ptr<const CallerIdentity>> ValidateCached(
      std::string_view token, std::span<const std::string> issuer_ids = {});

  // Validates `token` like ValidateCached(). When the issuer's keys are not loaded, or the token's
  // `kid` is unknown and the last fetch is older than unknown_kid_refetch_interval, fetches the
  // keys and retries once. Concurrent callers for one issuer share a single fetch. Keys older
  // than key_refresh_interval are refreshed without delaying the call. `token` and
  // `issuer_ids` must stay valid until the returned awaitable completes.
  boost::asio::awaitable<Result<std::shared_ptr<const CallerIdentity>>> Validate(
      std::string_view token, std::span<const std::string> issuer_ids = {});

  JwtValidatorCounters counters() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace credgate::identity
