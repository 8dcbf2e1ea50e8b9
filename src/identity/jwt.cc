#include "identity/jwt.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <optional>

#include "common/encoding.h"
#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

// RFC 7515 §2 defines BASE64URL without '=' padding, so padded parts are rejected even though
// Base64UrlDecode would accept them.
std::optional<std::string> DecodePart(std::string_view part) {
  if (part.find('=') != std::string_view::npos) return std::nullopt;
  return Base64UrlDecode(part);
}

Result<boost::json::object> ParseObject(std::string_view json, std::string_view part_name) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec, {}, options);
  if (ec) {
    return JwtError(fmt::format("JWT {} is not valid JSON within depth {}: {}", part_name,
                                kMaxJsonDepth, ec.message()));
  }
  if (!value.is_object()) return JwtError(fmt::format("JWT {} is not a JSON object", part_name));
  return std::move(value.as_object());
}

}  // namespace

Result<DecodedJwt> DecodeJwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return JwtError(
        fmt::format("token is {} bytes, over the limit of {} bytes", token.size(), kMaxTokenBytes));
  }
  const auto dots = std::count(token.begin(), token.end(), '.');
  if (dots == 4) return JwtError("token is an encrypted JWT (JWE), which is not supported");
  if (dots != 2) {
    return JwtError(fmt::format("token has {} parts, but a signed JWT has 3", dots + 1));
  }

  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);

  std::optional<std::string> header_json = DecodePart(header_part);
  if (!header_json) return JwtError("JWT header is not unpadded base64url");
  std::optional<std::string> payload_json = DecodePart(payload_part);
  if (!payload_json) return JwtError("JWT payload is not unpadded base64url");
  std::optional<std::string> signature = DecodePart(signature_part);
  if (!signature) return JwtError("JWT signature is not unpadded base64url");

  Result<boost::json::object> header = ParseObject(*header_json, "header");
  if (!header.ok()) return header.error();
  Result<boost::json::object> payload = ParseObject(*payload_json, "payload");
  if (!payload.ok()) return payload.error();

  DecodedJwt jwt;
  const boost::json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return JwtError("JWT header has no string 'alg'");
  }
  jwt.alg = alg->as_string();
  if (const boost::json::value* kid = header->if_contains("kid")) {
    if (!kid->is_string()) return JwtError("JWT header 'kid' is not a string");
    jwt.kid = kid->as_string();
  }
  if (header->contains("crit")) {
    return JwtError("JWT header has 'crit', but no JWS extension is supported");
  }

  jwt.header = std::move(header).value();
  jwt.payload = std::move(payload).value();
  jwt.signing_input = std::string(token.substr(0, second_dot));
  jwt.signature = std::move(*signature);
  return jwt;
}

}  // namespace credgate::identity
