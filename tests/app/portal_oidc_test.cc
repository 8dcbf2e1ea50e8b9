// The portal's OpenID Connect sign-in: discovery parsing, configuration checks, and the start
// and callback steps against scripted issuer responses. A successful sign-in, which needs a
// signed ID token, runs in tests/e2e/portal_oidc.test.mjs against a real provider.
#include "app/portal_oidc.h"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <map>

#include "app/config.h"
#include "common/encoding.h"
#include "fake_http_client.h"
#include "test_support.h"

namespace credgate::app {
namespace {

namespace bhttp = boost::beast::http;
using credentials::testing::FakeHttpClient;

constexpr char kIssuer[] = "https://login.example.com";

std::string Discovery(std::string_view issuer = kIssuer) {
  return R"({"issuer":")" + std::string(issuer) +
         R"(","authorization_endpoint":"https://login.example.com/authorize",)"
         R"("token_endpoint":"https://login.example.com/token"})";
}

TEST(PortalOidcDiscoveryTest, ReadsEndpoints) {
  auto endpoints = ParseDiscoveryDocument(Discovery(), kIssuer);
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().message;
  EXPECT_EQ(endpoints->authorization_endpoint, "https://login.example.com/authorize");
  EXPECT_EQ(endpoints->token_endpoint, "https://login.example.com/token");
}

TEST(PortalOidcDiscoveryTest, RejectsInvalidDocuments) {
  const struct {
    const char* name;
    std::string body;
    const char* expected;
  } cases[] = {
      {"not JSON", "<html>", "is not a JSON object"},
      {"array", "[]", "is not a JSON object"},
      {"other issuer", Discovery("https://evil.example.com"), "names the issuer"},
      {"no authorization endpoint",
       R"({"issuer":"https://login.example.com","token_endpoint":"https://login.example.com/t"})",
       "authorization_endpoint"},
      {"relative token endpoint",
       R"({"issuer":"https://login.example.com","authorization_endpoint":"https://a.example/",)"
       R"("token_endpoint":"/token"})",
       "token_endpoint"},
  };
  for (const auto& c : cases) {
    auto endpoints = ParseDiscoveryDocument(c.body, kIssuer);
    ASSERT_FALSE(endpoints.ok()) << c.name;
    EXPECT_EQ(endpoints.error().code, ErrorCode::kUnavailable) << c.name;
    EXPECT_NE(endpoints.error().message.find(c.expected), std::string::npos)
        << c.name << ": " << endpoints.error().message;
  }
}

AdminJwtConfig PortalConfig() {
  AdminJwtConfig config;
  config.issuer = kIssuer;
  config.audiences = {"credgate-portal"};
  config.portal_client_id = "credgate-portal";
  config.portal_redirect_url = "https://admin.example.com:8081/portal/oidc/callback";
  return config;
}

void ExpectInvalid(const AdminJwtConfig& config, std::string_view expected) {
  Status status = ValidateAdminJwtConfig(config);
  ASSERT_FALSE(status.ok()) << "expected an error containing: " << expected;
  EXPECT_NE(status.error().message.find(expected), std::string::npos) << status.error().message;
}

TEST(PortalOidcConfigTest, AcceptsPublicAndConfidentialClients) {
  AdminJwtConfig config = PortalConfig();
  EXPECT_TRUE(ValidateAdminJwtConfig(config).ok());
  config.portal_client_secret = Secret("portal-client-secret");
  EXPECT_TRUE(ValidateAdminJwtConfig(config).ok());
}

TEST(PortalOidcConfigTest, AcceptsLoopbackHttp) {
  AdminJwtConfig config = PortalConfig();
  config.portal_redirect_url = "http://127.0.0.1:8081/portal/oidc/callback";
  EXPECT_TRUE(ValidateAdminJwtConfig(config).ok());
}

TEST(PortalOidcConfigTest, AudiencesMustContainClientId) {
  AdminJwtConfig config = PortalConfig();
  config.audiences = {"api://credgate-admin"};
  ExpectInvalid(config, "adminJwt.audiences must contain the portal client id 'credgate-portal'");
}

TEST(PortalOidcConfigTest, RedirectUrlIsRequired) {
  AdminJwtConfig config = PortalConfig();
  config.portal_redirect_url = "";
  ExpectInvalid(config, "adminJwt.portalRedirectUrl is missing");
}

TEST(PortalOidcConfigTest, RejectsInvalidRedirectUrls) {
  for (const char* url : {"/portal/oidc/callback", "ftp://admin.example.com/portal/oidc/callback",
                          "https://admin.example.com/portal/", "https://admin.example.com/callback",
                          "https://admin.example.com/portal/oidc/callback?x=1",
                          "https://admin.example.com/portal/oidc/callback#top",
                          "https://user@admin.example.com/portal/oidc/callback"}) {
    AdminJwtConfig config = PortalConfig();
    config.portal_redirect_url = url;
    ExpectInvalid(config, "invalid adminJwt.portalRedirectUrl");
  }
}

TEST(PortalOidcConfigTest, ScopesNeedOpenid) {
  AdminJwtConfig config = PortalConfig();
  config.portal_scopes = "profile email";
  ExpectInvalid(config, "add the scope 'openid'");
}

TEST(PortalOidcConfigTest, RejectsInvalidScopeCharacter) {
  AdminJwtConfig config = PortalConfig();
  config.portal_scopes = "openid \"roles\"";
  ExpectInvalid(config, "RFC 6749 §3.3");
}

TEST(PortalOidcConfigTest, PortalKeysNeedClientId) {
  AdminJwtConfig config = PortalConfig();
  config.portal_client_id = "";
  ExpectInvalid(config, "need adminJwt.portalClientId");
}

TEST(PortalOidcConfigTest, NoPortalKeysIsValid) {
  AdminJwtConfig config = PortalConfig();
  config.portal_client_id = "";
  config.portal_redirect_url = "";
  EXPECT_TRUE(ValidateAdminJwtConfig(config).ok());
}

// The start and callback steps, with the issuer's discovery and token endpoints scripted.
class PortalOidcFlowTest : public http::testing::IoTest {
 protected:
  PortalOidcFlowTest() {
    management::AdminJwtSettings jwt;
    jwt.issuer.id = "administrators";
    jwt.issuer.issuer = kIssuer;
    jwt.issuer.audiences = {"credgate-portal"};
    jwt.issuer.jwks_uri = std::string(kIssuer) + "/jwks";
    authenticator_ = management::AdminJwtAuthenticator::Create(
                         std::move(jwt), issuer_client_,
                         std::shared_ptr<const Clock>(&clock_, [](const Clock*) {}))
                         .value();
    UsePortal(Settings());
  }

  static PortalOidcSettings Settings() {
    PortalOidcSettings settings;
    settings.issuer = kIssuer;
    settings.client_id = "credgate-portal";
    settings.redirect_url = "https://admin.example.com/portal/oidc/callback";
    settings.scopes = "openid profile";
    settings.secure_cookies = true;
    return settings;
  }

  void UsePortal(PortalOidcSettings settings) {
    portal_ = std::make_unique<PortalOidc>(std::move(settings), *issuer_client_, *authenticator_,
                                           clock_, random_);
  }
  ~PortalOidcFlowTest() override { StopIo(); }

  http::Response Get(std::string target, std::string cookie = "") {
    http::Request request{bhttp::verb::get, target, 11};
    if (!cookie.empty()) request.set(bhttp::field::cookie, cookie);
    return Run(portal_->Handle(request, "request-1"));
  }

  // Starts a sign-in and returns its state and the binding cookie ("name=value").
  std::pair<std::string, std::string> StartSignIn() {
    http::Response response = Get("/portal/oidc/start");
    EXPECT_EQ(response.result_int(), 302u);
    auto location = boost::urls::parse_absolute_uri(response[bhttp::field::location]);
    EXPECT_TRUE(location.has_value());
    std::string state;
    if (location) state = (*location->params().find("state")).value;
    std::string cookie(response[bhttp::field::set_cookie]);
    return {state, cookie.substr(0, cookie.find(';'))};
  }

  FakeClock clock_;
  OpenSslRandom random_;
  std::shared_ptr<FakeHttpClient> issuer_client_ = std::make_shared<FakeHttpClient>();
  std::unique_ptr<management::AdminJwtAuthenticator> authenticator_;
  std::unique_ptr<PortalOidc> portal_;
};

TEST_F(PortalOidcFlowTest, StartRedirectsWithPkceAndNonce) {
  issuer_client_->Respond(200, Discovery());
  http::Response response = Get("/portal/oidc/start");
  ASSERT_EQ(response.result_int(), 302u);
  auto location = boost::urls::parse_absolute_uri(response[bhttp::field::location]);
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->host(), "login.example.com");
  EXPECT_EQ(location->path(), "/authorize");
  auto params = location->params();
  EXPECT_EQ((*params.find("response_type")).value, "code");
  EXPECT_EQ((*params.find("client_id")).value, "credgate-portal");
  EXPECT_EQ((*params.find("redirect_uri")).value,
            "https://admin.example.com/portal/oidc/callback");
  EXPECT_EQ((*params.find("scope")).value, "openid profile");
  EXPECT_EQ((*params.find("code_challenge_method")).value, "S256");
  EXPECT_EQ((*params.find("code_challenge")).value.size(), 43u);
  EXPECT_EQ((*params.find("nonce")).value.size(), 43u);
  EXPECT_EQ((*params.find("state")).value.size(), 43u);
  EXPECT_EQ(portal_->counters().started.load(), 1u);
}

TEST_F(PortalOidcFlowTest, StartSetsBindingCookie) {
  issuer_client_->Respond(200, Discovery());
  http::Response response = Get("/portal/oidc/start");
  std::string cookie(response[bhttp::field::set_cookie]);
  EXPECT_EQ(cookie.rfind("credgate_portal_sign_in=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Path=/portal/oidc/callback"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Lax"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
}

TEST_F(PortalOidcFlowTest, DiscoveryIsFetchedOnce) {
  issuer_client_->Respond(200, Discovery());
  Get("/portal/oidc/start");
  Get("/portal/oidc/start");
  EXPECT_EQ(issuer_client_->RequestCount(), 1u);
}

TEST_F(PortalOidcFlowTest, UnreachableIssuerShowsPage) {
  issuer_client_->Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  http::Response response = Get("/portal/oidc/start");
  EXPECT_EQ(response.result_int(), 503u);
  EXPECT_NE(response.body().find("cannot be reached"), std::string::npos);
  EXPECT_EQ(portal_->counters().unavailable.load(), 1u);
}

TEST_F(PortalOidcFlowTest, TamperedStateIsRejected) {
  issuer_client_->Respond(200, Discovery());
  auto [state, cookie] = StartSignIn();
  http::Response response =
      Get("/portal/oidc/callback?code=abc&state=" + state + "x", cookie);
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_NE(response.body().find("sign-in request is unknown"), std::string::npos);
  EXPECT_EQ(portal_->counters().invalid_state.load(), 1u);
  EXPECT_EQ(issuer_client_->RequestCount(), 1u);  // Discovery only: no token request.
}

TEST_F(PortalOidcFlowTest, MissingCookieIsRejected) {
  issuer_client_->Respond(200, Discovery());
  auto [state, cookie] = StartSignIn();
  http::Response response = Get("/portal/oidc/callback?code=abc&state=" + state);
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_EQ(portal_->counters().invalid_state.load(), 1u);
}

TEST_F(PortalOidcFlowTest, AccessDeniedShowsPage) {
  issuer_client_->Respond(200, Discovery());
  auto [state, cookie] = StartSignIn();
  http::Response response = Get(
      "/portal/oidc/callback?error=access_denied&error_description=no+consent&state=" + state,
      cookie);
  EXPECT_EQ(response.result_int(), 403u);
  EXPECT_NE(response.body().find("access_denied"), std::string::npos);
  EXPECT_NE(response.body().find("no consent"), std::string::npos);
  EXPECT_EQ(portal_->counters().provider_errors.load(), 1u);
  // The state was consumed, so the same callback with a code fails.
  http::Response replay = Get("/portal/oidc/callback?code=abc&state=" + state, cookie);
  EXPECT_EQ(replay.result_int(), 400u);
}

TEST_F(PortalOidcFlowTest, ProviderErrorTextIsEscaped) {
  http::Response response =
      Get("/portal/oidc/callback?error=%3Cscript%3E&error_description=%3Cb%3Ex");
  EXPECT_EQ(response.body().find("<script>"), std::string::npos);
  EXPECT_NE(response.body().find("&lt;script&gt;"), std::string::npos);
}

TEST_F(PortalOidcFlowTest, ForeignIssParameterIsRejected) {
  issuer_client_->Respond(200, Discovery());
  auto [state, cookie] = StartSignIn();
  http::Response response = Get(
      "/portal/oidc/callback?code=abc&iss=https%3A%2F%2Fevil.example.com&state=" + state, cookie);
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_EQ(issuer_client_->RequestCount(), 1u);
}

TEST_F(PortalOidcFlowTest, RefusedCodeShowsPage) {
  issuer_client_->Respond(200, Discovery());
  issuer_client_->Respond(400, R"({"error":"invalid_grant","error_description":"code expired"})");
  auto [state, cookie] = StartSignIn();
  http::Response response = Get("/portal/oidc/callback?code=abc&state=" + state, cookie);
  EXPECT_EQ(response.result_int(), 502u);
  EXPECT_NE(response.body().find("invalid_grant"), std::string::npos);
  EXPECT_EQ(portal_->counters().exchange_failed.load(), 1u);
}

TEST_F(PortalOidcFlowTest, TokenRequestCarriesVerifier) {
  issuer_client_->Respond(200, Discovery());
  issuer_client_->Respond(400, R"({"error":"invalid_grant"})");
  auto [state, cookie] = StartSignIn();
  Get("/portal/oidc/callback?code=the-code&state=" + state, cookie);
  ASSERT_EQ(issuer_client_->RequestCount(), 2u);
  const http::ClientRequest exchange = issuer_client_->LastRequest();
  EXPECT_EQ(exchange.url, "https://login.example.com/token");
  auto fields = FormDecode(exchange.body);
  ASSERT_TRUE(fields.has_value());
  std::map<std::string, std::string> by_name(fields->begin(), fields->end());
  EXPECT_EQ(by_name["grant_type"], "authorization_code");
  EXPECT_EQ(by_name["code"], "the-code");
  EXPECT_EQ(by_name["redirect_uri"], "https://admin.example.com/portal/oidc/callback");
  EXPECT_EQ(by_name["client_id"], "credgate-portal");
  EXPECT_EQ(by_name["code_verifier"].size(), 43u);
}

TEST_F(PortalOidcFlowTest, ConfidentialClientUsesBasicAuth) {
  PortalOidcSettings settings = Settings();
  settings.client_secret = Secret("portal-client-secret");
  UsePortal(std::move(settings));
  issuer_client_->Respond(200, Discovery());
  issuer_client_->Respond(400, R"({"error":"invalid_grant"})");
  auto [state, cookie] = StartSignIn();
  Get("/portal/oidc/callback?code=the-code&state=" + state, cookie);
  ASSERT_EQ(issuer_client_->RequestCount(), 2u);
  const http::ClientRequest exchange = issuer_client_->LastRequest();
  EXPECT_EQ(credentials::testing::HeaderOf(exchange, "Authorization"),
            "Basic " + Base64Encode("credgate-portal:portal-client-secret"));
  EXPECT_EQ(exchange.body.find("client_secret"), std::string::npos);
}

TEST_F(PortalOidcFlowTest, InvalidIdTokenIsRejected) {
  issuer_client_->Respond(200, Discovery());
  issuer_client_->Respond(200, R"({"id_token":"not.a.jwt","token_type":"Bearer"})");
  auto [state, cookie] = StartSignIn();
  http::Response response = Get("/portal/oidc/callback?code=abc&state=" + state, cookie);
  EXPECT_EQ(response.result_int(), 401u);
  EXPECT_EQ(portal_->counters().invalid_token.load(), 1u);
  EXPECT_EQ(response[bhttp::field::set_cookie], "");
}

TEST_F(PortalOidcFlowTest, SessionStatusWithoutCookie) {
  http::Response response = Get("/portal/oidc/session");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), R"({"configured":true,"signedIn":false})");
}

TEST_F(PortalOidcFlowTest, NoCookieLeavesCredentialToHeader) {
  http::Request request{bhttp::verb::get, "/authorizationProviders", 11};
  auto credential = portal_->SessionCredential(request);
  ASSERT_TRUE(credential.ok());
  EXPECT_FALSE(credential->has_value());
}

TEST_F(PortalOidcFlowTest, UnknownSessionCookieIsUnauthenticated) {
  http::Request request{bhttp::verb::get, "/authorizationProviders", 11};
  request.set(bhttp::field::cookie, "credgate_portal_session=made-up");
  request.set("X-CSRF-Token", "made-up");
  auto credential = portal_->SessionCredential(request);
  ASSERT_FALSE(credential.ok());
  EXPECT_EQ(credential.error().code, ErrorCode::kUnauthenticated);
}

TEST(PortalOidcNotConfiguredTest, SessionSaysNotConfigured) {
  http::Request request{bhttp::verb::get, "/portal/oidc/session", 11};
  http::Response response = PortalOidcNotConfigured(request);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), R"({"configured":false,"signedIn":false})");
  http::Request start{bhttp::verb::get, "/portal/oidc/start", 11};
  EXPECT_EQ(PortalOidcNotConfigured(start).result_int(), 404u);
}

}  // namespace
}  // namespace credgate::app
