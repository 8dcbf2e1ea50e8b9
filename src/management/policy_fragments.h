// Policy fragments as management resources: the lookup that policy compilation uses, and the
// snapshot edits that keep the documents which include a fragment compiled against its current
// text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policy/fragment.h"
#include "runtime/state.h"

namespace credgate::management {

// Returns a lookup of the fragments in `snapshot`, which must outlive it.
policy::FragmentLookup FragmentsOf(const runtime::Snapshot& snapshot);

// Stores `fragment` in `snapshot`, recompiles every policy document that includes it (directly or
// through another fragment) and recomposes the pipelines. Sets `status` to 200 when a fragment
// was replaced and 201 when it is new. Errors: kInvalidArgument naming the first policy that no
// longer compiles; `snapshot` may then be partly changed, so callers edit a copy.
Status SetPolicyFragment(runtime::Snapshot& snapshot, const PolicyFragmentResource& fragment,
                         int& status);

// Returns the resource paths of the policies and fragments that include fragment `id`, directly
// or through another fragment, for example "/apis/echo/policies/policy".
std::vector<std::string> PolicyFragmentUsers(const runtime::Snapshot& snapshot,
                                             std::string_view id);

// Validates a fragment as PUT saves it: it compiles alone, every fragment that includes it still
// compiles, and so does every policy that includes it (SetPolicyFragment on a copy). Errors:
// kInvalidArgument with reason ValidationError naming the fragment or policy.
Status CheckPolicyFragment(const runtime::Snapshot& snapshot,
                           const PolicyFragmentResource& fragment);

}  // namespace credgate::management
