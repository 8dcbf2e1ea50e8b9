// Compilers of rate-limit-by-key, quota-by-key and the cache-*-value statements. Internal to the
// policy module.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

Result<Statement> CompileRateLimitByKey(const ElementReader& element, const std::string& path);
Result<Statement> CompileQuotaByKey(const ElementReader& element, const std::string& path);
Result<Statement> CompileCacheLookupValue(const ElementReader& element, const std::string& path);
Result<Statement> CompileCacheStoreValue(const ElementReader& element, const std::string& path);
Result<Statement> CompileCacheRemoveValue(const ElementReader& element, const std::string& path);

}  // namespace credgate::policy::internal
