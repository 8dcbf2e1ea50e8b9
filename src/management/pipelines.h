// Policy compilation for the management API: compiles a saved policy document for its scope,
// and recomposes the effective pipeline (global → API → operation, through <base/>) of every
// operation that a change affects.
#pragma once

#include <memory>
#include <set>
#include <string_view>

#include "common/result.h"
#include "policy/certificates.h"
#include "policy/fragment.h"
#include "runtime/state.h"

namespace credgate::management {

enum class PolicyLevel { kGlobal, kApi, kOperation };

// Compiles `xml`, including the policy fragments of `snapshot`, with its certificates, and checks
// that every backend its set-backend-service statements name and every managed identity
// client-id exist in `snapshot`. Errors are kInvalidArgument with the line, column and statement
// named, or naming the missing backend or client id.
Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const runtime::Snapshot& snapshot);
// Same, with the fragments that `fragments` returns and the certificates that `certificates`
// returns, and without the backend and client id checks.
Result<std::shared_ptr<const policy::CompiledDocument>> CompileDocument(
    std::string_view xml, PolicyLevel level, const policy::FragmentLookup& fragments,
    const policy::CertificateLookup& certificates = nullptr);

// Returns the document that takes the place of a stored policy that no longer compiles, for
// example one that names a certificate another gateway deleted while the policy was being saved.
// It responds to every request of its scope with 500, so the scope fails closed instead of running
// without the statements the administrator wrote.
Result<std::shared_ptr<const policy::CompiledDocument>> RejectingDocument(PolicyLevel level);

// Checks that `client_ids` contains every managed identity client-id of `document`. Errors:
// kInvalidArgument with reason ValidationError naming the first missing one.
Status RequireManagedIdentities(const policy::CompiledDocument& document,
                                const std::set<std::string>& client_ids);

// Recomposes the pipelines of every operation of `api_id`, or of all APIs when `api_id` is
// empty, in `snapshot`. Fails without changing `snapshot` when a composition fails.
Status RecomposePipelines(runtime::Snapshot& snapshot, std::string_view api_id);

}  // namespace credgate::management
