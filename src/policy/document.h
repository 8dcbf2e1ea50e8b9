// Policy documents: the <policies> XML of Azure API Management, compiled once when saved.
//
// A document has up to four sections (inbound, backend, outbound, on-error), each at most once
// and each optional. Compilation checks every statement, attribute and expression and rejects
// the document with an error that names the line and column, so nothing is parsed per request.
// Expressions inside attribute values may contain unescaped double quotes and '<', as APIM
// accepts, for example identity="@(x.Replace("Bearer ",""))".
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/certificates.h"
#include "policy/fragment.h"
#include "policy/statement.h"

namespace credgate::policy {

// The deepest nesting of <choose> statements, counting the outermost as 1.
inline constexpr size_t kMaxChooseNesting = 32;

struct CompiledDocument {
  PolicyScope scope = PolicyScope::kGlobal;
  // nullopt for an absent section, which inherits the enclosing scope's section unchanged.
  std::array<std::optional<StatementList>, kSectionCount> sections;
  // Every policy fragment that the document includes, directly or through another fragment.
  std::set<std::string> fragments;
  // The literal backend-id values of its set-backend-service statements (Dapr's "dapr" aside),
  // fragments included, which must name existing backends. An expression backend-id is
  // resolved only when it runs.
  std::set<std::string> backends;
  // The client-id values of its authentication-managed-identity statements, including those
  // inside send-request, which must name configured user-assigned identities.
  std::set<std::string> managed_identity_client_ids;
  // Every stored certificate that a statement of the document or of an included fragment names.
  std::set<std::string> certificates;
  // Whether running the document may read the caller's request body: an expression of the
  // document or of an included fragment names Request.Body, or a send-request copies the
  // request. The gateway then reads the body before inbound.
  bool reads_request_body = false;
  // Whether an expression of the document or of an included fragment names Response.Body. The
  // gateway then reads the backend's response body before outbound instead of streaming it.
  bool reads_response_body = false;

  const std::optional<StatementList>& section(Section s) const {
    return sections[static_cast<size_t>(s)];
  }
};

// Compiles `xml` as a document of `scope`. Errors: kInvalidArgument with a message that starts
// "line L, column C: " for malformed XML, a root other than <policies>, an unknown or repeated
// section, an unknown statement or attribute (with the closest valid name suggested), a statement
// outside the sections that allow it, a missing required attribute, an invalid enum or number,
// an invalid expression, <choose> nested deeper than kMaxChooseNesting, <base/> in a
// global-scope document or below a section, or an <include-fragment> whose fragment `fragments`
// does not return, includes itself, or does not compile where it is included, or a certificate id
// that `certificates` does not return. An error inside a fragment names the fragment and the line
// and column in it.
Result<CompiledDocument> CompilePolicyDocument(std::string_view xml, PolicyScope scope,
                                               const FragmentLookup& fragments = nullptr,
                                               const CertificateLookup& certificates = nullptr);

}  // namespace credgate::policy
