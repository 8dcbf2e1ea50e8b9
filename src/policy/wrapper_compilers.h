// Compilers of the statements that contain statements: retry and limit-concurrency. Internal to
// the policy module.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Both reject a <forward-request> among their statements, because the gateway sends the request
// to the backend once, after the backend section, and streams its body.
Result<Statement> CompileRetry(const ElementReader& element, const std::string& path);
Result<Statement> CompileLimitConcurrency(const ElementReader& element, const std::string& path);

// Returns how many <choose>, <retry> and <limit-concurrency> elements enclose `node` in its own
// document. Callers add CompileScope::outer_blocks for a node inside a fragment.
size_t EnclosingBlockCount(pugi::xml_node node);

// Returns true when a <retry> or <limit-concurrency> element encloses `node`.
bool InsideWrapper(pugi::xml_node node);

}  // namespace credgate::policy::internal
