// The post-login redirect URL of a login link: the page the user's browser goes to after a
// sign-in. Because the browser follows it with the user's session, only URLs that an operator
// put on the allow-list are accepted, and the comparison with the list is exact after one
// normalisation that removes every way of spelling a different host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::management {

// Normalises `text` for the exact allow-list comparison (RFC 3986 §6.2.2): scheme and host
// lower-cased, one trailing dot of the host removed, the default port dropped, dot segments
// removed, percent-encoding of unreserved characters decoded, and an empty path made "/".
//
// Rejected, because a browser may read them as a different host or a script:
//  - any character outside printable ASCII (spaces, controls, a Unicode host: use its
//    xn-- A-label form), and '\' anywhere;
//  - a scheme other than http and https (javascript:, data:, ...), and relative or
//    scheme-relative references such as //host or /\host;
//  - a missing host, userinfo (https://allowed@evil), a port outside 1-65535, an IP literal
//    in brackets, a host with '%' or an empty label (host..com);
//  - the encoded forms %2f, %5c and %00-%1f, %7f anywhere, and a fragment.
// Errors: kInvalidArgument with reason "ValidationError" and a message naming the problem.
Result<std::string> NormalizeRedirectUrl(std::string_view text);

// Returns the normalised form of `url` when it equals the normalised form of an entry of
// `allow_list`. Entries that do not normalise match nothing. Errors: kInvalidArgument naming
// `url` and why it was rejected, or that it is not on the list and how to add it.
Result<std::string> CheckPostLoginRedirect(std::string_view url,
                                           const std::vector<std::string>& allow_list);

}  // namespace credgate::management
