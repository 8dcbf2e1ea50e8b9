// Fuzzes the parser of token endpoint responses: JSON and form bodies, error bodies in the
// shapes of RFC 6749 §5.2, Slack and Facebook, and the redaction of error bodies.
//
// Input layout: byte 0 selects the HTTP status, byte 1 the Content-Type header, and the rest is
// the body.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "credentials/token_response.h"
#include "http/client.h"

namespace {

constexpr std::array<int, 8> kStatuses = {200, 201, 400, 401, 403, 429, 500, 503};
constexpr std::array<std::string_view, 5> kContentTypes = {
    "", "application/json", "application/x-www-form-urlencoded", "text/plain",
    "text/html; charset=utf-8"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  credgate::http::ClientResponse response;
  response.status = kStatuses[data[0] % kStatuses.size()];
  const std::string_view content_type = kContentTypes[data[1] % kContentTypes.size()];
  if (!content_type.empty()) response.headers.emplace_back("Content-Type", content_type);
  response.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);

  const credgate::TimePoint now = credgate::FromUnixSeconds(1'700'000'000);
  auto tokens = credgate::credentials::ParseTokenResponse(response, "repo user", now, "github");
  // A parsed token set always has an access token (RFC 6749 §5.1 makes it required).
  if (tokens.ok() && tokens->access_token.empty()) __builtin_trap();
  return 0;
}
