// KeySet: the usable signing keys of one issuer's JWKS (RFC 7517 §5), decoded once and shared
// by every validation until the next fetch replaces the whole set.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "identity/verification_key.h"

namespace credgate::identity {

// Immutable, so thread-safe.
class KeySet {
 public:
  KeySet(std::vector<std::shared_ptr<const VerificationKey>> keys,
         std::vector<std::string> skipped);

  // Returns every key whose `kid` equals `kid`. A JWKS may reuse a kid across key types, so the
  // caller picks the one that permits the token's algorithm.
  std::vector<std::shared_ptr<const VerificationKey>> FindByKid(std::string_view kid) const;

  const std::vector<std::shared_ptr<const VerificationKey>>& keys() const { return keys_; }
  // One line per JWK that was left out and why, for the log of the fetch.
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  std::vector<std::shared_ptr<const VerificationKey>> keys_;
  std::vector<std::string> skipped_;
};

// An upper bound on keys decoded from one JWKS, so that a hostile document cannot make a fetch
// decode thousands of RSA keys. Entra ID and common OIDC servers publish fewer than ten.
inline constexpr size_t kMaxJwksKeys = 64;

// Parses a JWKS document. Keys with `use` other than "sig", with `key_ops` that lack "verify",
// or of an unsupported type, curve or algorithm are skipped and listed in skipped(), so that one
// encryption or unknown key does not disable the issuer. Errors (kInvalidArgument): the text is
// not a JSON object with a `keys` array, it has more than kMaxJwksKeys keys, or no key is usable.
Result<std::shared_ptr<const KeySet>> ParseJwks(std::string_view json);

}  // namespace credgate::identity
