// The compiler of <include-fragment>. Internal to the policy module.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Compiles the fragment that `element` names for the element's scope and section, and returns
// its statements with paths below `path`. Adds the fragment to scope.fragments->included.
Result<StatementList> CompileIncludeFragment(const ElementReader& element, const std::string& path);

}  // namespace credgate::policy::internal
