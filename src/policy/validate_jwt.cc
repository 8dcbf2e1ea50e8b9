#include "policy/validate_jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "common/encoding.h"
#include "identity/jwt.h"
#include "policy/text.h"

namespace credgate::policy {

namespace {

JwtCheckFailure Failure(std::string_view reason, std::string message) {
  return JwtCheckFailure{std::string(reason), std::move(message)};
}

// Returns the value of query parameter `name`, percent-decoded, or nullopt.
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    if (PercentDecode(key, true) != std::string(name)) continue;
    if (equals == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(equals + 1), true);
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// Returns the HMAC digest name for HS256, HS384 and HS512 (RFC 7518 §3.2), or nullptr.
const char* HmacDigest(std::string_view alg) {
  if (alg == "HS256") return "SHA256";
  if (alg == "HS384") return "SHA384";
  if (alg == "HS512") return "SHA512";
  return nullptr;
}

bool HmacVerifies(const char* digest, const Secret& key, std::string_view input,
                  std::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t length = 0;
  const std::string_view key_bytes = key.Expose();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key_bytes.data(), key_bytes.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                sizeof(mac), &length) == nullptr) {
    return false;
  }
  return length == signature.size() && CRYPTO_memcmp(mac, signature.data(), length) == 0;
}

bool KidMatches(std::string_view token_kid, std::string_view key_kid) {
  return token_kid.empty() || key_kid.empty() || token_kid == key_kid;
}

// Verifies the signature of `jwt` with the keys of `check` and `configs`.
JwtCheckResult VerifySignature(
    const JwtCheck& check, const identity::DecodedJwt& jwt,
    std::span<const std::shared_ptr<const identity::OpenIdConfiguration>> configs) {
  JwtCheckResult result;
  if (jwt.alg == "none") {
    if (!check.require_signed_tokens) return result;
    result.failure = Failure("TokenSignatureInvalid", "the JWT is not signed (alg 'none')");
    return result;
  }
  bool key_found = false;
  if (const char* digest = HmacDigest(jwt.alg)) {
    for (const JwtSigningKey& key : check.signing_keys) {
      if (key.symmetric_key.empty() || !KidMatches(jwt.kid, key.id)) continue;
      key_found = true;
      if (HmacVerifies(digest, key.symmetric_key, jwt.signing_input, jwt.signature)) return result;
    }
  } else if (std::optional<identity::JwsAlgorithm> alg = identity::ParseJwsAlgorithm(jwt.alg)) {
    auto try_key = [&](const identity::VerificationKey& key) {
      if (!KidMatches(jwt.kid, key.kid()) || !key.Permits(*alg)) return false;
      key_found = true;
      return key.Verify(*alg, jwt.signing_input, jwt.signature).ok();
    };
    for (const JwtSigningKey& key : check.signing_keys) {
      if (key.public_key && try_key(*key.public_key)) return result;
    }
    for (const auto& config : configs) {
      if (!config) continue;
      for (const auto& key : config->keys->keys()) {
        if (try_key(*key)) return result;
      }
    }
  } else {
    result.failure =
        Failure("TokenSignatureInvalid", "the JWT's algorithm '" + jwt.alg + "' is not supported");
    return result;
  }
  if (!key_found) {
    result.unknown_kid = !jwt.kid.empty();
    result.failure = Failure("TokenSignatureKeyNotFound",
                             jwt.kid.empty() ? "no signing key fits the JWT's algorithm " + jwt.alg
                                             : "no signing key has the JWT's kid '" + jwt.kid +
                                                   "' and algorithm " + jwt.alg);
    return result;
  }
  result.failure = Failure("TokenSignatureInvalid", "the JWT's signature is invalid");
  return result;
}

// Reads NumericDate claim `name` (RFC 7519 §2). Returns false when present but not a number.
bool ReadTime(const boost::json::object& payload, std::string_view name,
              std::optional<int64_t>* out) {
  const boost::json::value* value = payload.if_contains(name);
  if (value == nullptr) return true;
  if (value->is_int64()) {
    *out = value->get_int64();
  } else if (value->is_uint64()) {
    *out = static_cast<int64_t>(std::min<uint64_t>(value->get_uint64(), INT64_MAX));
  } else if (value->is_double() && std::isfinite(value->get_double())) {
    *out = static_cast<int64_t>(std::floor(value->get_double()));
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> ClaimValues(const boost::json::value& claim, std::string_view separator) {
  std::vector<std::string> values;
  auto add = [&](const boost::json::value& item) {
    if (!item.is_string()) {
      values.push_back(boost::json::serialize(item));
      return;
    }
    std::string_view text = item.get_string();
    if (separator.empty()) {
      values.emplace_back(text);
      return;
    }
    while (true) {
      size_t at = text.find(separator);
      values.emplace_back(Trim(text.substr(0, at)));
      if (at == std::string_view::npos) break;
      text.remove_prefix(at + separator.size());
    }
  };
  if (claim.is_array()) {
    for (const auto& item : claim.get_array()) add(item);
  } else {
    add(claim);
  }
  return values;
}

// Checks the time, issuer, audience and required claims of a verified payload.
void CheckClaims(const JwtCheck& check, const boost::json::object& payload,
                 std::span<const std::shared_ptr<const identity::OpenIdConfiguration>> configs,
                 const PolicyContext& context, TimePoint now, JwtCheckResult& result) {
  const int64_t seconds = ToUnixSeconds(now);
  const int64_t skew = check.clock_skew.count();
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
  if (!ReadTime(payload, "exp", &exp) || !ReadTime(payload, "nbf", &nbf)) {
    result.failure = Failure("JwtInvalid", "the JWT's 'exp' or 'nbf' is not a number");
    return;
  }
  if (!exp && check.require_expiration_time) {
    result.failure = Failure("TokenClaimNotFound", "the JWT has no 'exp' claim");
    return;
  }
  if (exp && seconds > *exp + skew) {
    result.failure = Failure("TokenExpired", "the JWT expired");
    return;
  }
  if (nbf && seconds + skew < *nbf) {
    result.failure = Failure("JwtInvalid", "the JWT is not valid yet ('nbf')");
    return;
  }

  // Issuers: the listed ones plus those of the OpenID configurations.
  std::vector<std::string> issuers;
  for (const ValueTemplate& issuer : check.issuers) {
    auto text = issuer.EvaluateString(context);
    if (!text.ok()) {
      result.expression_error = text.error();
      return;
    }
    issuers.push_back(std::move(text).value());
  }
  for (const auto& config : configs) {
    if (config) issuers.push_back(config->issuer);
  }
  if (!issuers.empty()) {
    const boost::json::value* iss = payload.if_contains("iss");
    if (iss == nullptr || !iss->is_string() ||
        std::find(issuers.begin(), issuers.end(), std::string_view(iss->get_string())) ==
            issuers.end()) {
      result.failure = Failure("TokenIssuerNotAllowed", "the JWT's issuer is not allowed");
      return;
    }
  }

  if (!check.audiences.empty()) {
    const boost::json::value* aud = payload.if_contains("aud");
    std::vector<std::string> token_audiences =
        aud ? ClaimValues(*aud, "") : std::vector<std::string>();
    bool allowed = false;
    for (const ValueTemplate& audience : check.audiences) {
      auto text = audience.EvaluateString(context);
      if (!text.ok()) {
        result.expression_error = text.error();
        return;
      }
      if (std::find(token_audiences.begin(), token_audiences.end(), *text) !=
          token_audiences.end()) {
        allowed = true;
        break;
      }
    }
    if (!allowed) {
      result.failure = Failure("TokenAudienceNotAllowed", "the JWT's audience is not allowed");
      return;
    }
  }

  for (const RequiredClaim& claim : check.required_claims) {
    const boost::json::value* value = payload.if_contains(claim.name);
    if (value == nullptr) {
      result.failure = Failure("TokenClaimNotFound", "JWT token is missing the following claims: " +
                                                         claim.name + ". Access denied.");
      return;
    }
    if (claim.values.empty()) continue;
    std::vector<std::string> present = ClaimValues(*value, claim.separator);
    size_t matched = 0;
    for (const ValueTemplate& expected : claim.values) {
      auto text = expected.EvaluateString(context);
      if (!text.ok()) {
        result.expression_error = text.error();
        return;
      }
      if (std::find(present.begin(), present.end(), *text) != present.end()) ++matched;
    }
    const bool ok = claim.match_any ? matched > 0 : matched == claim.values.size();
    if (!ok) {
      result.failure = Failure("TokenClaimValueNotAllowed",
                               "the JWT's '" + claim.name + "' claim has no allowed value");
      return;
    }
  }
}

}  // namespace

JwtCheckCounters& ValidateJwtCounters() {
  static JwtCheckCounters counters;
  return counters;
}

Result<std::optional<std::string>> ExtractToken(const JwtCheck& check, const PolicyContext& context,
                                                JwtCheckFailure* failure) {
  std::string value;
  switch (check.source) {
    case TokenSource::kHeader: {
      std::optional<std::string_view> header = context.request.headers.Get(check.header_name);
      if (header) value = std::string(Trim(*header));
      break;
    }
    case TokenSource::kQueryParameter:
      value = QueryParameter(context.request.query_string, check.query_parameter_name)
                  .value_or(std::string());
      break;
    case TokenSource::kValue: {
      auto text = check.token_value->EvaluateString(context);
      if (!text.ok()) return text.error();
      value = std::string(Trim(*text));
      break;
    }
  }
  if (value.empty()) {
    *failure = Failure("TokenNotPresent", "JWT not present.");
    return std::optional<std::string>();
  }
  // "<scheme> <token>", as in an Authorization header (RFC 9110 §11.4).
  size_t space = value.find(' ');
  std::string_view scheme =
      space == std::string::npos ? std::string_view() : std::string_view(value).substr(0, space);
  if (!check.require_scheme.empty() && !EqualsIgnoreCase(scheme, check.require_scheme)) {
    *failure = Failure("JwtInvalid",
                       "the JWT must be sent with the scheme '" + check.require_scheme + "'");
    return std::optional<std::string>();
  }
  if (space != std::string::npos) value = std::string(Trim(std::string_view(value).substr(space)));
  if (value.empty()) {
    *failure = Failure("TokenNotPresent", "JWT not present.");
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(value));
}

JwtCheckResult CheckToken(
    const JwtCheck& check, std::string_view token,
    std::span<const std::shared_ptr<const identity::OpenIdConfiguration>> configs,
    const PolicyContext& context, TimePoint now) {
  JwtCheckResult result;
  std::shared_ptr<const identity::CallerIdentity> verified =
      check.verified ? check.verified->Find(token, now) : nullptr;
  if (verified) {
    ValidateJwtCounters().cache_hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    // A JWE is decrypted first (RFC 7516 §5.2), and its plaintext is the JWS checked below. The
    // cache keeps the outer token, so a cached JWE is not decrypted again.
    std::string decrypted;
    std::string_view jws = token;
    if (identity::IsCompactJwe(token)) {
      if (check.decryption_keys.empty()) {
        result.failure = Failure("JwtInvalid",
                                 "the token is an encrypted JWT (JWE), and <validate-jwt> has no "
                                 "<decryption-keys>");
        return result;
      }
      Result<Secret> plaintext = identity::DecryptJwe(token, check.decryption_keys);
      if (!plaintext.ok()) {
        result.failure = Failure("JwtInvalid", plaintext.error().message);
        return result;
      }
      decrypted = std::string(plaintext->Expose());
      jws = decrypted;
    }
    Result<identity::DecodedJwt> jwt = identity::DecodeJwt(jws);
    if (!jwt.ok()) {
      result.failure = Failure("JwtInvalid", jwt.error().message);
      return result;
    }
    result = VerifySignature(check, *jwt, configs);
    if (result.failure) return result;
    auto identity = std::make_shared<identity::CallerIdentity>();
    identity->payload = std::move(jwt->payload);
    std::optional<int64_t> exp;
    // Only signed tokens with a valid `exp` are cached, and only until then.
    if (jwt->alg != "none" && ReadTime(identity->payload, "exp", &exp) && exp) {
      identity->expires_at = FromUnixSeconds(*exp);
      if (check.verified) check.verified->Insert(token, identity, now);
    }
    verified = std::move(identity);
  }
  CheckClaims(check, verified->payload, configs, context, now, result);
  if (!result.failure && !result.expression_error) result.token = std::move(verified);
  return result;
}

}  // namespace credgate::policy
