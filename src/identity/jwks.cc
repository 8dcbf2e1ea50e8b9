#include "identity/jwks.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

namespace credgate::identity {
namespace {

// Returns why `jwk` is not meant for signature verification, or "" when it is (RFC 7517 §4.2,
// §4.3).
std::string UnsuitableForVerification(const boost::json::object& jwk) {
  if (const boost::json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->as_string() != "sig") return "'use' is not 'sig'";
  }
  if (const boost::json::value* key_ops = jwk.if_contains("key_ops")) {
    if (!key_ops->is_array()) return "'key_ops' is not an array";
    for (const boost::json::value& op : key_ops->as_array()) {
      if (op.is_string() && op.as_string() == "verify") return {};
    }
    return "'key_ops' does not contain 'verify'";
  }
  return {};
}

}  // namespace

KeySet::KeySet(std::vector<std::shared_ptr<const VerificationKey>> keys,
               std::vector<std::string> skipped)
    : keys_(std::move(keys)), skipped_(std::move(skipped)) {}

std::vector<std::shared_ptr<const VerificationKey>> KeySet::FindByKid(std::string_view kid) const {
  std::vector<std::shared_ptr<const VerificationKey>> found;
  for (const auto& key : keys_) {
    if (key->kid() == kid) found.push_back(key);
  }
  return found;
}

Result<std::shared_ptr<const KeySet>> ParseJwks(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(json, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("JWKS is not valid JSON: {}", ec.message()));
  }
  const boost::json::value* keys_value =
      document.is_object() ? document.as_object().if_contains("keys") : nullptr;
  if (keys_value == nullptr || !keys_value->is_array()) {
    return MakeError(ErrorCode::kInvalidArgument, "JWKS is not an object with a 'keys' array");
  }
  const boost::json::array& jwks = keys_value->as_array();
  if (jwks.size() > kMaxJwksKeys) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("JWKS has {} keys, more than the limit of {}", jwks.size(), kMaxJwksKeys));
  }

  std::vector<std::shared_ptr<const VerificationKey>> keys;
  std::vector<std::string> skipped;
  for (size_t i = 0; i < jwks.size(); ++i) {
    if (!jwks[i].is_object()) {
      skipped.push_back(fmt::format("keys[{}]: not a JSON object", i));
      continue;
    }
    const boost::json::object& jwk = jwks[i].as_object();
    if (std::string reason = UnsuitableForVerification(jwk); !reason.empty()) {
      skipped.push_back(fmt::format("keys[{}]: {}", i, reason));
      continue;
    }
    Result<std::shared_ptr<const VerificationKey>> key = VerificationKey::FromJwk(jwk);
    if (!key.ok()) {
      skipped.push_back(fmt::format("keys[{}]: {}", i, key.error().message));
      continue;
    }
    keys.push_back(std::move(key).value());
  }

  if (keys.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("JWKS has no usable signing key ({} skipped: {})", skipped.size(),
                                 fmt::join(skipped, "; ")));
  }
  return std::make_shared<const KeySet>(std::move(keys), std::move(skipped));
}

}  // namespace credgate::identity
