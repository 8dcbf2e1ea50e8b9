// Response caching: cache-lookup and cache-store, as in Azure API Management, in the internal
// cache only. That is the ValueCache of cache-store-value, and response keys start with a control
// character that policy keys do not start with unless a policy builds one on purpose.
//
// cache-lookup in inbound looks up GET and HEAD requests without an Authorization header (or
// with one when allow-private-response-caching="true"). The key is the API, operation, method
// and path, the values of the vary-by-query-parameter parameters and of the vary-by-header
// fields. A hit responds with the stored status, fields and body. A miss lets cache-store in
// outbound store the response for its duration: only a 200 unless cache-response="true".
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/context.h"
#include "policy/request_statements.h"
#include "policy/statement.h"

namespace credgate::policy {

struct ResponseCacheCounters {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  // Lookups that did not use the cache: a method other than GET and HEAD, or an Authorization
  // header without allow-private-response-caching.
  std::atomic<uint64_t> bypassed{0};
  std::atomic<uint64_t> stores{0};
};

// Returns the counters of every cache-lookup and cache-store of the process.
ResponseCacheCounters& ProcessResponseCacheCounters();

namespace internal {

// Rejects vary-by-developer and vary-by-developer-groups set to true (credgate has no
// developers), caching-type="external" and the attributes APIM does not define.
Result<Statement> CompileCacheLookup(const ElementReader& element, const std::string& path);
Result<Statement> CompileCacheStore(const ElementReader& element, const std::string& path);

StatementOutcome ApplyCacheLookup(const CacheLookupSpec& spec, PolicyContext& context,
                                  TimePoint now);
StatementOutcome ApplyCacheStore(const CacheStoreSpec& spec, PolicyContext& context, TimePoint now);

}  // namespace internal
}  // namespace credgate::policy
