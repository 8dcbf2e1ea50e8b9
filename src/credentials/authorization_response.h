// Checks of an authorization response (the query of the sign-in callback) that do not depend on
// the login session: the authorization server's issuer identifier (RFC 9207).
#pragma once

#include "common/encoding.h"
#include "common/result.h"
#include "credentials/model.h"

namespace credgate::credentials {

// Checks the `iss` parameter of `response` against `provider` (RFC 9207 §2.4). RFC 9207 §2.4
// requires the check for error responses too, so call it before reading `code` or `error`.
//  - With an `iss`, it must equal provider.issuer character for character (RFC 3986 §6.2.1
//    simple string comparison). When the issuer is unknown, `iss` is accepted unchecked.
//  - Without an `iss`, the response is rejected only when provider.require_iss_parameter is set.
// Errors: kPermissionDenied with reason "IssuerMismatch" or "IssuerMissing", kInvalidArgument
// with reason "IssuerDuplicated" for more than one `iss`. Messages name the expected issuer and
// never the received value, which comes from the browser's URL.
Status CheckAuthorizationResponseIssuer(const ProviderConfig& provider, const FormFields& response);

}  // namespace credgate::credentials
