// Adapts a provider's token response to RFC 6749 §5.1 before ParseTokenResponse reads it, and
// completes the parsed TokenSet with the provider's defaults and the values a connection keeps.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "common/encoding.h"
#include "credentials/model.h"
#include "http/client.h"

namespace credgate::credentials {

// A token response moved into RFC 6749 shape, with the kept values read from the original.
struct ShapedTokenResponse {
  http::ClientResponse response;
  boost::json::object kept;  // Kept values from the response and its id_token, by name.
};

// Reads the provider's kept values of source kTokenResponse and kIdToken from `response`. Then,
// for a JSON body, moves each member that `locations` (the provider's token_locations or
// refresh_token_locations) place elsewhere to its
// top-level RFC 6749 name, removing it at the old place so that no token is left in
// TokenSet::response, and removes the members whose location is empty. Any other body is
// returned unchanged. The id_token payload is decoded without verifying its signature, which
// OpenID Connect Core §3.1.3.7 allows for a token received directly from the token endpoint
// over TLS.
ShapedTokenResponse ShapeTokenResponse(http::ClientResponse response,
                                       const ProviderConfig& provider,
                                       const TokenLocations& locations);

// Completes `tokens` parsed from a response of `provider`: sets the expiry from the provider's
// default access token lifetime when the response had none, rewrites a comma-separated granted
// scope with spaces, and adds `kept` to tokens.response.
void CompleteTokenSet(TokenSet& tokens, const ProviderConfig& provider, boost::json::object kept);

// Adds the kept values of source kCallback from the sign-in callback's query parameters.
void KeepCallbackValues(TokenSet& tokens, const ProviderConfig& provider,
                        const FormFields& callback_parameters);

// Copies each kept value that `tokens.response` lacks from `previous`, the response of the
// tokens being refreshed, because refresh responses often leave such values out.
void CarryKeptValues(TokenSet& tokens, const ProviderConfig& provider,
                     const boost::json::object& previous);

// Returns the value at JSON pointer `pointer` (RFC 6901) in `root`, or null. "" is the root.
const boost::json::value* FindJsonPointer(const boost::json::value& root,
                                          std::string_view pointer);

}  // namespace credgate::credentials
