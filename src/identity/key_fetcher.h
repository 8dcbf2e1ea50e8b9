// Fetching of an issuer's signing keys: the OpenID Connect discovery document when no jwks_uri
// is configured, then the JWKS.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "common/result.h"
#include "http/client.h"
#include "identity/jwks.h"
#include "identity/trusted_issuer.h"

namespace credgate::identity {

// Upper bounds on the two response bodies. Real documents are a few KiB.
inline constexpr size_t kMaxDiscoveryBytes = 256 * 1024;
inline constexpr size_t kMaxJwksBytes = 512 * 1024;

// Fetches and parses the JWKS of `issuer` through `client`, which must outlive the call. Without
// issuer.jwks_uri, reads `jwks_uri` from DiscoveryUrl(issuer.issuer) first, and requires the
// document's `issuer` to equal issuer.issuer (OpenID Connect Discovery 1.0 §4.3) and its
// `jwks_uri` to pass IsAllowedKeyUrl(). Every failure (unreachable host, status other than 200,
// unparsable document, no usable key) is kUnavailable with reason "KeyFetchFailed" and names the
// issuer and URL.
boost::asio::awaitable<Result<std::shared_ptr<const KeySet>>> FetchKeySet(http::HttpClient& client,
                                                                          TrustedIssuer issuer);

}  // namespace credgate::identity
