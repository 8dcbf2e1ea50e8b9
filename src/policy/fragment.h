// Policy fragments: <fragment> documents of statements that a policy document inlines with
// <include-fragment fragment-id="..."/>, as in Azure API Management.
//
// A fragment is compiled again inside every document that includes it, for the section and scope
// of the <include-fragment>, so its statements obey the same section rules as the document's own.
// The compiled statements are copied into the including list, with paths such as
// "include-fragment[1]/set-header[1]" and the line and column of the fragment's source.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/certificates.h"

namespace credgate::policy {

// The deepest chain of fragments that include fragments, counting the outermost as 1.
inline constexpr size_t kMaxFragmentNesting = 8;

// Returns the XML of policy fragment `id`, or nullopt when there is none.
using FragmentLookup = std::function<std::optional<std::string>(std::string_view id)>;

// Compiles fragment `id` on its own, as it is saved, and returns the ids of the fragments it
// includes, directly or through another fragment. A fragment is valid when its statements
// compile in at least one section, with the certificates that `certificates` returns. Errors:
// kInvalidArgument for malformed XML, a root other than <fragment>, a statement that compiles in no
// section (the message is that of the first failing section whose error is not a section
// placement), a missing or cyclic included fragment, or includes nested deeper than
// kMaxFragmentNesting.
Result<std::set<std::string>> CompilePolicyFragment(
    std::string_view id, std::string_view xml, const FragmentLookup& fragments,
    const CertificateLookup& certificates = nullptr);

}  // namespace credgate::policy
