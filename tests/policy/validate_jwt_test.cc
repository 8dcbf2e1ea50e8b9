#include "policy/validate_jwt.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>

#include "../crypto/test_certificates.h"
#include "../identity/jwe_fixtures.h"
#include "../identity/test_tokens.h"
#include "common/encoding.h"
#include "common/hash.h"
#include "identity/jwks.h"
#include "policy/document.h"
#include "policy/executor.h"

namespace credgate::policy {
namespace {

using identity::testing::TestSigner;

constexpr int64_t kNow = 1'700'000'000;
const std::string kIssuer = "https://issuer.example";
const std::string kDiscoveryUrl = "https://issuer.example/.well-known/openid-configuration";
// 32 bytes, base64: "0123456789abcdef0123456789abcdef".
const std::string kSymmetricKey = Base64Encode("0123456789abcdef0123456789abcdef");

class JwtServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
  std::shared_ptr<const identity::OpenIdConfiguration> FindOpenIdConfiguration(
      std::string_view) override {
    return loaded;
  }
  boost::asio::awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
  GetOpenIdConfiguration(const std::string& url, bool unknown_kid) override {
    fetched_urls.push_back(url);
    if (unknown_kid) ++refetches;
    if (!available) co_return MakeError(ErrorCode::kUnavailable, "unreachable", "KeyFetchFailed");
    loaded = available;
    co_return loaded;
  }
  TimePoint Now() const override { return FromUnixSeconds(kNow); }

  std::shared_ptr<const identity::OpenIdConfiguration> loaded;     // Find() returns it.
  std::shared_ptr<const identity::OpenIdConfiguration> available;  // Get() loads it.
  std::vector<std::string> fetched_urls;
  int refetches = 0;
};

class ValidateJwtTest : public ::testing::Test {
 protected:
  static const TestSigner& Signer() {
    static const TestSigner signer;
    return signer;
  }
  static const TestSigner& OtherSigner() {
    static const TestSigner signer("rsa-2", "ec-2");
    return signer;
  }

  static boost::json::object Claims() {
    return {{"iss", kIssuer},
            {"aud", "api://orders"},
            {"sub", "alice"},
            {"exp", kNow + 600},
            {"roles", boost::json::array{"reader", "writer"}},
            {"scp", "orders.read orders.write"}};
  }

  // Returns <key n="..." e="..."/> for the signer's RSA key.
  static std::string RsaKeyElement(const TestSigner& signer) {
    boost::json::object jwk = signer.RsaJwk();
    return "<key n=\"" + std::string(jwk.at("n").as_string()) + "\" e=\"" +
           std::string(jwk.at("e").as_string()) + "\"/>";
  }

  // A validate-jwt on the Authorization header with the RSA key inline, plus `extra` children.
  static std::string Policy(const std::string& attributes, const std::string& extra) {
    return "<policies><inbound><validate-jwt header-name=\"Authorization\" " + attributes +
           "><issuer-signing-keys>" + RsaKeyElement(Signer()) + "</issuer-signing-keys>" + extra +
           "</validate-jwt></inbound></policies>";
  }

  Status Compile(const std::string& xml, const CertificateLookup& certificates = nullptr) {
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal, nullptr, certificates);
    if (!document.ok()) return document.error();
    compiled_certificates_ = document->certificates;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    auto pipeline = ComposePipeline(shared, nullptr, nullptr);
    if (!pipeline.ok()) return pipeline.error();
    pipeline_ = std::move(pipeline).value();
    return OkStatus();
  }

  std::string CompileError(const std::string& xml) {
    Status status = Compile(xml);
    return status.ok() ? "<compiled>" : status.error().message;
  }

  void Load(const std::string& xml) {
    Status status = Compile(xml);
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  ExecutionOutcome Run() {
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, Section::kInbound, context_, services_);
        },
        boost::asio::detached);
    io.run();
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  void SendBearer(const std::string& token) {
    context_.request.headers.Set("Authorization", "Bearer " + token);
  }

  std::string Reason() const {
    return context_.last_error ? context_.last_error->reason : "<none>";
  }

  PolicyContext context_;
  JwtServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
  std::set<std::string> compiled_certificates_;
};

TEST_F(ValidateJwtTest, ValidTokenContinues) {
  Load(Policy("output-token-variable-name=\"jwt\"",
              "<audiences><audience>api://orders</audience></audiences>"
              "<issuers><issuer>" +
                  kIssuer + "</issuer></issuers>"));
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
  ASSERT_TRUE(context_.variables.contains("jwt"));
  const Value& jwt = context_.variables.at("jwt");
  ASSERT_TRUE(jwt.is_object());
  EXPECT_EQ(jwt.AsObject().TypeName(), "Jwt");
  EXPECT_EQ(jwt.AsObject().GetMember("Subject")->AsString(), "alice");
  Value claims = *jwt.AsObject().GetMember("Claims");
  Value args[] = {Value("roles"), Value("")};
  EXPECT_EQ(claims.AsObject().CallMethod("GetValueOrDefault", args)->AsString(), "reader,writer");
}

TEST_F(ValidateJwtTest, MissingTokenIs401) {
  Load(Policy("", ""));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 401);
  EXPECT_EQ(Reason(), "TokenNotPresent");
  EXPECT_EQ(context_.last_error->source, "validate-jwt");
  EXPECT_EQ(boost::json::parse(context_.response.body).at("message").as_string(),
            "JWT not present.");
}

TEST_F(ValidateJwtTest, CustomStatusAndMessage) {
  Load(
      Policy("failed-validation-httpcode=\"403\" failed-validation-error-message=\"@(\"no: \" + "
             "context.Request.Method)\"",
             "<audiences><audience>api://other</audience></audiences>"));
  context_.request.method = "GET";
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 403);
  EXPECT_EQ(Reason(), "TokenAudienceNotAllowed");
  EXPECT_EQ(boost::json::parse(context_.response.body).at("message").as_string(), "no: GET");
}

TEST_F(ValidateJwtTest, ExpiredAndClockSkew) {
  boost::json::object claims = Claims();
  claims["exp"] = kNow - 30;
  Load(Policy("", ""));
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenExpired");

  context_ = PolicyContext{};
  Load(Policy("clock-skew=\"60\"", ""));
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
}

TEST_F(ValidateJwtTest, NotYetValid) {
  boost::json::object claims = Claims();
  claims["nbf"] = kNow + 120;
  Load(Policy("", ""));
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "JwtInvalid");
}

TEST_F(ValidateJwtTest, ExpirationTimeOptional) {
  boost::json::object claims = Claims();
  claims.erase("exp");
  Load(Policy("", ""));
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenClaimNotFound");

  context_ = PolicyContext{};
  Load(Policy("require-expiration-time=\"false\"", ""));
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
}

TEST_F(ValidateJwtTest, WrongIssuer) {
  Load(Policy("", "<issuers><issuer>https://other.example</issuer></issuers>"));
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenIssuerNotAllowed");
}

TEST_F(ValidateJwtTest, WrongSignature) {
  Load(Policy("", ""));
  boost::json::object header = TestSigner::Header("RS256", "");
  SendBearer(OtherSigner().Sign(header, Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenSignatureInvalid");
}

TEST_F(ValidateJwtTest, TamperedPayloadRejected) {
  Load(Policy("", ""));
  std::string token = Signer().SignRs256(Claims());
  std::string other =
      Signer().SignRs256(boost::json::object{{"sub", "mallory"}, {"exp", kNow + 600}});
  // Header and signature of one token around the payload of another.
  size_t first = token.find('.');
  size_t last = token.rfind('.');
  size_t other_first = other.find('.');
  size_t other_last = other.rfind('.');
  SendBearer(token.substr(0, first) + other.substr(other_first, other_last - other_first) +
             token.substr(last));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenSignatureInvalid");
}

TEST_F(ValidateJwtTest, MalformedToken) {
  Load(Policy("", ""));
  SendBearer("not-a-jwt");
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "JwtInvalid");
}

TEST_F(ValidateJwtTest, RequireScheme) {
  Load(Policy("require-scheme=\"Bearer\"", ""));
  context_.request.headers.Set("Authorization", Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "JwtInvalid");

  context_ = PolicyContext{};
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
}

TEST_F(ValidateJwtTest, QueryParameterSource) {
  Load(
      "<policies><inbound><validate-jwt query-parameter-name=\"access_token\">"
      "<issuer-signing-keys>" +
      RsaKeyElement(Signer()) + "</issuer-signing-keys></validate-jwt></inbound></policies>");
  context_.request.query_string = "a=1&access_token=" + Signer().SignRs256(Claims());
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
}

TEST_F(ValidateJwtTest, TokenValueSource) {
  Load(
      "<policies><inbound><validate-jwt token-value=\"@(context.Request.Headers."
      "GetValueOrDefault(\"X-Token\", \"\"))\"><issuer-signing-keys>" +
      RsaKeyElement(Signer()) + "</issuer-signing-keys></validate-jwt></inbound></policies>");
  context_.request.headers.Set("X-Token", Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
}

struct ClaimCase {
  std::string name;
  std::string claim;
  bool accepted;
};

class RequiredClaimTest : public ValidateJwtTest,
                          public ::testing::WithParamInterface<ClaimCase> {};

TEST_P(RequiredClaimTest, Matches) {
  Load(Policy("", "<required-claims>" + GetParam().claim + "</required-claims>"));
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), GetParam().accepted ? ExecutionOutcome::kContinue : ExecutionOutcome::kRespond)
      << Reason();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequiredClaimTest,
    ::testing::Values(
        ClaimCase{"Present", "<claim name=\"sub\"/>", true},
        ClaimCase{"Absent", "<claim name=\"tid\"/>", false},
        ClaimCase{"Value", "<claim name=\"sub\"><value>alice</value></claim>", true},
        ClaimCase{"WrongValue", "<claim name=\"sub\"><value>bob</value></claim>", false},
        ClaimCase{"ArrayAll",
                  "<claim name=\"roles\" match=\"all\"><value>reader</value><value>writer</value>"
                  "</claim>",
                  true},
        ClaimCase{"ArrayAllMissingOne",
                  "<claim name=\"roles\"><value>reader</value><value>admin</value></claim>", false},
        ClaimCase{"ArrayAny",
                  "<claim name=\"roles\" match=\"any\"><value>admin</value><value>writer</value>"
                  "</claim>",
                  true},
        ClaimCase{"Separator",
                  "<claim name=\"scp\" match=\"any\" separator=\" \"><value>orders.write</value>"
                  "</claim>",
                  true},
        ClaimCase{"NoSeparatorWholeString",
                  "<claim name=\"scp\"><value>orders.write</value></claim>", false}),
    [](const auto& info) { return info.param.name; });

TEST_F(ValidateJwtTest, SymmetricKey) {
  Load(
      "<policies><inbound><validate-jwt header-name=\"Authorization\"><issuer-signing-keys>"
      "<key>" +
      kSymmetricKey + "</key></issuer-signing-keys></validate-jwt></inbound></policies>");
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(boost::json::serialize(Claims()));
  std::string mac = HmacSha256("0123456789abcdef0123456789abcdef", input);
  SendBearer(input + "." + Base64UrlEncode(mac));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

// A statement remembers as many callers as the gateway's trusted issuers do. A bound of 4,096
// would evict each of these 5,000 callers' tokens before the caller came back.
TEST_F(ValidateJwtTest, CacheHoldsManyCallers) {
  Load(
      "<policies><inbound><validate-jwt header-name=\"Authorization\"><issuer-signing-keys>"
      "<key>" +
      kSymmetricKey + "</key></issuer-signing-keys></validate-jwt></inbound></policies>");
  std::vector<std::string> tokens;
  for (int caller = 0; caller < 5000; ++caller) {
    boost::json::object claims = Claims();
    claims["sub"] = "caller-" + std::to_string(caller);
    std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        Base64UrlEncode(boost::json::serialize(claims));
    std::string mac = HmacSha256("0123456789abcdef0123456789abcdef", input);
    tokens.push_back(input + "." + Base64UrlEncode(mac));
  }
  for (const std::string& token : tokens) {
    context_ = PolicyContext{};
    SendBearer(token);
    ASSERT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
  }
  const uint64_t hits = ValidateJwtCounters().cache_hits.load();

  for (const std::string& token : tokens) {
    context_ = PolicyContext{};
    SendBearer(token);
    ASSERT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
  }

  EXPECT_EQ(ValidateJwtCounters().cache_hits.load(), hits + tokens.size());
}

TEST_F(ValidateJwtTest, HmacWithPublicKeyRejected) {
  // RFC 8725 §2.1: an RSA public key must never serve as an HMAC secret.
  Load(Policy("", ""));
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(boost::json::serialize(Claims()));
  SendBearer(input + "." + Base64UrlEncode(HmacSha256(Signer().RsaPublicKeyPem(), input)));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenSignatureKeyNotFound");
}

TEST_F(ValidateJwtTest, UnsignedToken) {
  std::string token = Base64UrlEncode(R"({"alg":"none"})") + "." +
                      Base64UrlEncode(boost::json::serialize(Claims())) + ".";
  Load(Policy("", ""));
  SendBearer(token);
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenSignatureInvalid");

  context_ = PolicyContext{};
  Load(
      "<policies><inbound><validate-jwt header-name=\"Authorization\" "
      "require-signed-tokens=\"false\"/></inbound></policies>");
  SendBearer(token);
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(ValidateJwtTest, CachedTokenStillChecksClaims) {
  Load(Policy("",
              "<required-claims><claim name=\"sub\"><value>@(context.Request.Method == \"GET\" "
              "? \"alice\" : \"bob\")</value></claim></required-claims>"));
  std::string token = Signer().SignRs256(Claims());
  context_.request.method = "GET";
  SendBearer(token);
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue);
  uint64_t hits = ValidateJwtCounters().cache_hits.load();

  context_ = PolicyContext{};
  context_.request.method = "POST";
  SendBearer(token);
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenClaimValueNotAllowed");
  EXPECT_EQ(ValidateJwtCounters().cache_hits.load(), hits + 1);
}

std::shared_ptr<const identity::OpenIdConfiguration> Configuration(const TestSigner& signer) {
  auto keys = identity::ParseJwks(signer.Jwks());
  EXPECT_TRUE(keys.ok());
  auto config = std::make_shared<identity::OpenIdConfiguration>();
  config->url = kDiscoveryUrl;
  config->issuer = kIssuer;
  config->keys = *keys;
  return config;
}

TEST_F(ValidateJwtTest, OpenIdConfigFetchedOnce) {
  services_.available = Configuration(Signer());
  Load("<policies><inbound><validate-jwt header-name=\"Authorization\"><openid-config url=\"" +
       kDiscoveryUrl + "\"/></validate-jwt></inbound></policies>");
  SendBearer(Signer().SignEs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
  context_ = PolicyContext{};
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
  ASSERT_EQ(services_.fetched_urls.size(), 1u);
  EXPECT_EQ(services_.fetched_urls[0], kDiscoveryUrl);
}

TEST_F(ValidateJwtTest, OpenIdConfigIssuerChecked) {
  services_.available = Configuration(Signer());
  Load("<policies><inbound><validate-jwt header-name=\"Authorization\"><openid-config url=\"" +
       kDiscoveryUrl + "\"/></validate-jwt></inbound></policies>");
  boost::json::object claims = Claims();
  claims["iss"] = "https://evil.example";
  SendBearer(Signer().SignRs256(claims));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "TokenIssuerNotAllowed");
}

TEST_F(ValidateJwtTest, UnknownKidRefetches) {
  services_.loaded = Configuration(Signer());
  services_.available = Configuration(OtherSigner());  // The issuer rotated its keys.
  Load("<policies><inbound><validate-jwt header-name=\"Authorization\"><openid-config url=\"" +
       kDiscoveryUrl + "\"/></validate-jwt></inbound></policies>");
  SendBearer(OtherSigner().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
  EXPECT_EQ(services_.refetches, 1);
}

TEST_F(ValidateJwtTest, KeysUnavailable) {
  Load("<policies><inbound><validate-jwt header-name=\"Authorization\"><openid-config url=\"" +
       kDiscoveryUrl + "\"/></validate-jwt></inbound></policies>");
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 401);
  EXPECT_EQ(Reason(), "TokenSignatureKeyNotFound");
}

TEST_F(ValidateJwtTest, OnErrorSeesReason) {
  Load(
      "<policies><inbound><validate-jwt id=\"check\" header-name=\"Authorization\">"
      "<issuer-signing-keys>" +
      RsaKeyElement(Signer()) +
      "</issuer-signing-keys></validate-jwt>"
      "</inbound><on-error><set-body>@(context.LastError.Reason + \"|\" + "
      "context.LastError.PolicyId)</set-body></on-error></policies>");
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.body, "TokenNotPresent|check");
}

// A certificate resource "signing" whose key is the signer's RSA or EC key.
class CertificateKeyTest : public ValidateJwtTest {
 protected:
  static std::shared_ptr<const crypto::Certificate> CertificateOf(EVP_PKEY* key) {
    testing::TestX509 x509 = testing::MakeCertificate(key, "issuer.example");
    return crypto::Certificate::Parse(testing::CertificatePem(x509.get()), Secret()).value();
  }

  static CertificateLookup Lookup(std::shared_ptr<const crypto::Certificate> certificate) {
    return [certificate](std::string_view id) -> std::shared_ptr<const crypto::Certificate> {
      return id == "signing" ? certificate : nullptr;
    };
  }

  static std::string CertificatePolicy(const std::string& key_element) {
    return "<policies><inbound><validate-jwt header-name=\"Authorization\">"
           "<issuer-signing-keys>" +
           key_element +
           "</issuer-signing-keys>"
           "</validate-jwt></inbound></policies>";
  }
};

TEST_F(CertificateKeyTest, RsaCertificateVerifiesRs256) {
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().rsa_key())));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(compiled_certificates_, std::set<std::string>{"signing"});
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(CertificateKeyTest, RsaCertificateVerifiesPs256) {
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().rsa_key())));
  ASSERT_TRUE(status.ok()) << status.error().message;
  SendBearer(Signer().SignPs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(CertificateKeyTest, EcCertificateVerifiesEs256) {
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().ec_key())));
  ASSERT_TRUE(status.ok()) << status.error().message;
  SendBearer(Signer().SignEs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(CertificateKeyTest, OtherKeyRejected) {
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().rsa_key())));
  ASSERT_TRUE(status.ok()) << status.error().message;
  SendBearer(OtherSigner().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 401);
}

TEST_F(CertificateKeyTest, RsaCertificateRejectsEs256) {
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().rsa_key())));
  ASSERT_TRUE(status.ok()) << status.error().message;
  SendBearer(Signer().SignEs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
}

TEST_F(CertificateKeyTest, Base64DerCertificateInKey) {
  testing::TestX509 x509 = testing::MakeCertificate(Signer().rsa_key(), "issuer.example");
  Load(CertificatePolicy("<key>" + testing::CertificateDerBase64(x509.get()) + "</key>"));
  SendBearer(Signer().SignRs256(Claims()));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(CertificateKeyTest, UnsupportedCurveRejected) {
  testing::TestKey secp256k1(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  Status status = Compile(CertificatePolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(secp256k1.get())));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cannot verify tokens"), std::string::npos)
      << status.error().message;
}

// Tokens encrypted by the npm package jose (tests/identity/jwe_fixtures.h) around an HS256 JWS.
class DecryptionKeyTest : public CertificateKeyTest {
 protected:
  static std::string DecryptingPolicy(const std::string& decryption_key) {
    return "<policies><inbound><validate-jwt header-name=\"Authorization\">"
           "<issuer-signing-keys><key>" +
           std::string(identity::testing::kJweSigningKeyBase64) +
           "</key></issuer-signing-keys><decryption-keys>" + decryption_key +
           "</decryption-keys><issuers><issuer>https://issuer.example</issuer></issuers>"
           "</validate-jwt></inbound></policies>";
  }

  static const identity::testing::JweFixture& Fixture(std::string_view alg, std::string_view enc) {
    for (const auto& fixture : identity::testing::kJweFixtures) {
      if (fixture.alg == alg && fixture.enc == enc) return fixture;
    }
    ADD_FAILURE() << "no fixture " << alg << " " << enc;
    return identity::testing::kJweFixtures[0];
  }

  static CertificateLookup JweCertificate() {
    return Lookup(
        crypto::Certificate::Parse(identity::testing::kJweCertificatePem, Secret()).value());
  }
};

TEST_F(DecryptionKeyTest, DirectKeyDecrypts) {
  const auto& fixture = Fixture("dir", "A256GCM");
  Load(DecryptingPolicy("<key>" + std::string(fixture.key_base64) + "</key>"));
  SendBearer(std::string(fixture.token));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(DecryptionKeyTest, KeyWrapDecrypts) {
  const auto& fixture = Fixture("A128KW", "A128CBC-HS256");
  Load(DecryptingPolicy("<key>" + std::string(fixture.key_base64) + "</key>"));
  SendBearer(std::string(fixture.token));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(DecryptionKeyTest, CertificatePrivateKeyDecrypts) {
  const auto& fixture = Fixture("RSA-OAEP-256", "A256GCM");
  Status status = Compile(DecryptingPolicy("<key certificate-id=\"signing\"/>"), JweCertificate());
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(compiled_certificates_, std::set<std::string>{"signing"});
  SendBearer(std::string(fixture.token));
  EXPECT_EQ(Run(), ExecutionOutcome::kContinue) << Reason();
}

TEST_F(DecryptionKeyTest, TamperedTokenRejected) {
  const auto& fixture = Fixture("dir", "A256GCM");
  Load(DecryptingPolicy("<key>" + std::string(fixture.key_base64) + "</key>"));
  std::string token(fixture.token);
  token[token.size() - 2] = token[token.size() - 2] == 'A' ? 'B' : 'A';
  SendBearer(token);
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "JwtInvalid");
}

TEST_F(DecryptionKeyTest, JweWithoutDecryptionKeysRejected) {
  Load(
      CertificatePolicy("<key>" + std::string(identity::testing::kJweSigningKeyBase64) + "</key>"));
  SendBearer(std::string(Fixture("dir", "A256GCM").token));
  EXPECT_EQ(Run(), ExecutionOutcome::kRespond);
  EXPECT_EQ(Reason(), "JwtInvalid");
}

TEST_F(DecryptionKeyTest, CertificateWithoutPrivateKeyRejected) {
  std::string error = "<compiled>";
  Status status = Compile(DecryptingPolicy("<key certificate-id=\"signing\"/>"),
                          Lookup(CertificateOf(Signer().rsa_key())));
  if (!status.ok()) error = status.error().message;
  EXPECT_NE(error.find("has no RSA private key"), std::string::npos) << error;
}

TEST_F(DecryptionKeyTest, KeyOfWrongSizeRejected) {
  std::string error = CompileError(DecryptingPolicy("<key>" + Base64Encode("short") + "</key>"));
  EXPECT_NE(error.find("has 5 bytes"), std::string::npos) << error;
}

struct CompileCase {
  std::string name;
  std::string xml;
  std::string expected;  // A substring of the error.
};

class ValidateJwtCompileTest : public ValidateJwtTest,
                               public ::testing::WithParamInterface<CompileCase> {};

TEST_P(ValidateJwtCompileTest, Rejects) {
  std::string error = CompileError(GetParam().xml);
  EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
}

const std::string kUrl = "<openid-config url=\"https://issuer.example/c\"/>";

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateJwtCompileTest,
    ::testing::Values(
        CompileCase{"UnknownAttribute",
                    "<policies><inbound><validate-jwt header-name=\"A\" clock-skw=\"1\">" + kUrl +
                        "</validate-jwt></inbound></policies>",
                    "line 1, column 50: unknown attribute 'clock-skw' on <validate-jwt>; did you "
                    "mean 'clock-skew'?"},
        CompileCase{
            "TwoSources",
            "<policies><inbound><validate-jwt header-name=\"A\" query-parameter-name=\"t\">" +
                kUrl + "</validate-jwt></inbound></policies>",
            "exactly one of"},
        CompileCase{
            "NoSource",
            "<policies><inbound><validate-jwt>" + kUrl + "</validate-jwt></inbound></policies>",
            "exactly one of"},
        CompileCase{"NoKeys",
                    "<policies><inbound><validate-jwt header-name=\"A\"/></inbound></policies>",
                    "has no signing keys"},
        CompileCase{"Outbound",
                    "<policies><outbound><validate-jwt header-name=\"A\">" + kUrl +
                        "</validate-jwt></outbound></policies>",
                    "<validate-jwt> is not allowed in <outbound>; it belongs in <inbound>"},
        CompileCase{"UnknownChild",
                    "<policies><inbound><validate-jwt header-name=\"A\">" + kUrl +
                        "<audience>x</audience></validate-jwt></inbound></policies>",
                    "line 1, column 98: unknown element <audience> in <validate-jwt>; did you mean "
                    "<audiences>?"},
        CompileCase{"WrongGrandchild",
                    "<policies><inbound><validate-jwt header-name=\"A\">" + kUrl +
                        "<audiences><aud>x</aud></audiences></validate-jwt></inbound></policies>",
                    "unknown element <aud> in <audiences>; only <audience> is allowed"},
        CompileCase{"MissingCertificate",
                    "<policies><inbound><validate-jwt header-name=\"A\"><issuer-signing-keys>"
                    "<key certificate-id=\"c1\"/></issuer-signing-keys></validate-jwt></inbound>"
                    "</policies>",
                    "certificate 'c1' was not found; create it with PUT /certificates/c1"},
        CompileCase{"CertificateIdWithModulus",
                    "<policies><inbound><validate-jwt header-name=\"A\"><issuer-signing-keys>"
                    "<key certificate-id=\"c1\" n=\"AQAB\" e=\"AQAB\"/></issuer-signing-keys>"
                    "</validate-jwt></inbound></policies>",
                    "either 'certificate-id' or 'n' and 'e'"},
        CompileCase{"ShortSymmetricKey",
                    "<policies><inbound><validate-jwt header-name=\"A\"><issuer-signing-keys>"
                    "<key>c2hvcnQ=</key></issuer-signing-keys></validate-jwt></inbound></policies>",
                    "has 5 bytes; use at least 32"},
        CompileCase{"HttpUrl",
                    "<policies><inbound><validate-jwt header-name=\"A\"><openid-config "
                    "url=\"http://issuer.example/c\"/></validate-jwt></inbound></policies>",
                    "must be an https URL"},
        CompileCase{"ExpressionUrl",
                    "<policies><inbound><validate-jwt header-name=\"A\"><openid-config "
                    "url=\"@(context.Api.Name)\"/></validate-jwt></inbound></policies>",
                    "must be a literal URL"},
        CompileCase{"BadMatch",
                    "<policies><inbound><validate-jwt header-name=\"A\">" + kUrl +
                        "<required-claims><claim name=\"x\" match=\"some\"/></required-claims>"
                        "</validate-jwt></inbound></policies>",
                    "use all or any"},
        CompileCase{"BadSkew",
                    "<policies><inbound><validate-jwt header-name=\"A\" clock-skew=\"-1\">" + kUrl +
                        "</validate-jwt></inbound></policies>",
                    "attribute 'clock-skew'"},
        CompileCase{"DecryptionKeys",
                    "<policies><inbound><validate-jwt header-name=\"A\">" + kUrl +
                        "<decryption-keys/></validate-jwt></inbound></policies>",
                    "<decryption-keys> needs at least one <key>"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace credgate::policy
