#include "identity/jwt.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "common/encoding.h"
#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

std::string Part(std::string_view json) { return Base64UrlEncode(json); }

std::string Token(std::string_view header, std::string_view payload,
                  std::string_view signature = "sig") {
  return Part(header) + "." + Part(payload) + "." + Part(signature);
}

constexpr std::string_view kHeader = R"({"alg":"RS256","kid":"k1"})";
constexpr std::string_view kPayload = R"({"iss":"https://issuer.example","sub":"alice"})";

TEST(DecodeJwt, SplitsParts) {
  Result<DecodedJwt> jwt = DecodeJwt(Token(kHeader, kPayload));
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_EQ(jwt->alg, "RS256");
  EXPECT_EQ(jwt->kid, "k1");
  EXPECT_EQ(jwt->payload.at("sub").as_string(), "alice");
  EXPECT_EQ(jwt->signing_input, Part(kHeader) + "." + Part(kPayload));
  EXPECT_EQ(jwt->signature, "sig");
}

TEST(DecodeJwt, KidIsOptional) {
  Result<DecodedJwt> jwt = DecodeJwt(Token(R"({"alg":"ES256"})", kPayload));
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_EQ(jwt->kid, "");
}

struct RejectCase {
  std::string name;
  std::string token;
  std::string message_part;
};

class DecodeJwtReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(DecodeJwtReject, FailsWithInvalidJwt) {
  Result<DecodedJwt> jwt = DecodeJwt(GetParam().token);
  ASSERT_FALSE(jwt.ok());
  EXPECT_EQ(jwt.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(jwt.error().reason, kReasonInvalidJwt);
  EXPECT_NE(jwt.error().message.find(GetParam().message_part), std::string::npos)
      << jwt.error().message;
}

std::string Nested(int depth) {
  std::string json = R"({"iss":"x","a":)";
  for (int i = 0; i < depth; ++i) json += "[";
  for (int i = 0; i < depth; ++i) json += "]";
  return json + "}";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DecodeJwtReject,
    ::testing::Values(
        RejectCase{"TwoParts", Part(kHeader) + "." + Part(kPayload), "has 2 parts"},
        RejectCase{"Jwe", "a.b.c.d.e", "JWE"},
        RejectCase{"Padded", Part(kHeader) + "." + Part(kPayload) + ".c2lnMQ==", "unpadded"},
        RejectCase{"BadBase64", "@@@." + Part(kPayload) + ".c2ln", "header is not"},
        RejectCase{"HeaderNotJson", Token("not json", kPayload), "not valid JSON"},
        RejectCase{"PayloadArray", Token(kHeader, "[1,2]"), "payload is not a JSON object"},
        RejectCase{"NoAlg", Token(R"({"kid":"k1"})", kPayload), "no string 'alg'"},
        RejectCase{"AlgNumber", Token(R"({"alg":256})", kPayload), "no string 'alg'"},
        RejectCase{"KidNumber", Token(R"({"alg":"RS256","kid":7})", kPayload), "'kid'"},
        RejectCase{"Crit", Token(R"({"alg":"RS256","crit":["exp"],"exp":1})", kPayload), "crit"},
        RejectCase{"DeeplyNested", Token(kHeader, Nested(40)), "depth"},
        RejectCase{"Oversized",
                   Token(kHeader, std::string(R"({"pad":")") + std::string(13000, 'a') + "\"}"),
                   "over the limit"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) { return info.param.name; });

TEST(DecodeJwt, AcceptsNestingWithinLimit) {
  Result<DecodedJwt> jwt = DecodeJwt(Token(kHeader, Nested(10)));
  EXPECT_TRUE(jwt.ok()) << jwt.error().message;
}

TEST(DecodeJwt, IgnoresKeyUrlHeaders) {
  Result<DecodedJwt> jwt = DecodeJwt(
      Token(R"({"alg":"RS256","jku":"https://evil.example/jwks","x5u":"https://evil.example/x"})",
            kPayload));
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_TRUE(jwt->header.contains("jku"));
}

TEST(DecodeJwt, MessageOmitsToken) {
  const std::string token = Token(R"({"kid":"k1"})", kPayload);
  Result<DecodedJwt> jwt = DecodeJwt(token);
  ASSERT_FALSE(jwt.ok());
  EXPECT_EQ(jwt.error().message.find(token), std::string::npos);
}

}  // namespace
}  // namespace credgate::identity
