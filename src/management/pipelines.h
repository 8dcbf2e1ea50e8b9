// Policy compilation for the management API: compiles a saved policy document for its scope,
// and recomposes the effective pipeline (global → API → operation, through <base/>) of every
// operation that a change affects.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "policy/certificates.h"
#include "policy/fragment.h"
#include "runtime/state.h"

namespace credgate::management {

enum class PolicyLevel { kGlobal, kApi, kOperation };

// Compiles `xml`, including the policy fragments of `snapshot`, with its certificates. Errors are
// kInvalidArgument with the line, column and statement named.
Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const runtime::Snapshot& snapshot);
// Same, with the fragments that `fragments` returns and the certificates that `certificates`
// returns.
Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const policy::FragmentLookup& fragments,
    const policy::CertificateLookup& certificates = nullptr);

// Recomposes the pipelines of every operation of `api_id`, or of all APIs when `api_id` is
// empty, in `snapshot`. Fails without changing `snapshot` when a composition fails.
Status RecomposePipelines(runtime::Snapshot& snapshot, std::string_view api_id);

}  // namespace credgate::management
