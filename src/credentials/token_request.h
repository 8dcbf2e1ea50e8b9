// Builds the HTTP request of a token endpoint call: the body in the provider's encoding and the
// client authentication of RFC 6749 §2.3.1.
#pragma once

#include <string>

#include "common/encoding.h"
#include "credentials/model.h"
#include "http/client.h"

namespace credgate::credentials {

// Returns a POST to `url` with `Accept: application/json` and `fields` as the body: form-encoded
// (RFC 6749 §4.1.3), or a JSON object of strings for providers whose token_request_encoding is
// kJson. The client authenticates with the provider's ClientAuthMethod: client_secret_basic
// sends `Authorization: Basic base64(form-encode(id) ":" form-encode(secret))`, and
// client_secret_post adds client_id and client_secret to the body. A provider without a client
// secret is a public client and adds only client_id (RFC 6749 §3.2.1). The plaintext copies of
// the field values are wiped before the function returns.
http::ClientRequest BuildTokenRequest(const ProviderConfig& provider, const std::string& url,
                                      FormFields fields);

}  // namespace credgate::credentials
