// The Jwt object of APIM policy expressions: what validate-jwt stores in its
// output-token-variable-name, and what AsJwt() can return.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "policy/value.h"

namespace credgate::policy {

// Returns a Jwt (TypeName "Jwt") of a decoded token's `payload`. Members: Id (`jti`), Issuer,
// Subject (strings, "" when absent), Audiences (list of strings), ExpirationTime, NotBefore and
// IssuedAt (Unix seconds as Int64, null when absent; APIM returns DateTime?), and Claims: a
// dictionary whose indexer returns the claim's values as a list of strings and whose
// GetValueOrDefault(name[, default]) returns them joined with ',' as APIM's extension does,
// with ContainsKey, Count and Keys.
std::shared_ptr<const Object> MakeJwt(const boost::json::object& payload);

}  // namespace credgate::policy
