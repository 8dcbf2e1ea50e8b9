// Conformance of each catalogue entry with its provider's documentation. A fixture per entry,
// tests/fixtures/providers/<id>/case.json, gives the provider's parameters, the authorization URL
// and token requests credgate must send, and token responses shaped as the documentation shows
// them, with the TokenSet credgate must make of each. The requests go to FakeHttpClient.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/encoding.h"
#include "credentials/authorization_url.h"
#include "credentials/catalogue.h"
#include "credentials/provider_resolution.h"
#include "credentials/token_client.h"
#include "credentials/token_shape.h"
#include "fake_http_client.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

namespace json = boost::json;
using testing::FakeHttpClient;
using testing::HeaderOf;
using testing::RunCoroutine;

constexpr std::string_view kRedirectUri = "https://gw.example/.credgate/callback";
constexpr std::string_view kState = "STATE123";
constexpr std::string_view kChallenge = "CHALLENGE456";
constexpr std::string_view kCode = "CODE789";
constexpr std::string_view kVerifier = "VERIFIER0123456789abcdefghijklmnopqrstuvwxyzABC";

std::filesystem::path FixtureDirectory() { return CREDGATE_PROVIDER_FIXTURES; }

std::vector<std::string> FixtureIds() {
  std::vector<std::string> ids;
  for (const auto& item : std::filesystem::directory_iterator(FixtureDirectory())) {
    if (item.is_directory()) ids.push_back(item.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

json::object LoadCase(const std::string& id) {
  std::ifstream file(FixtureDirectory() / id / "case.json");
  std::stringstream text;
  text << file.rdbuf();
  return json::parse(text.str()).as_object();
}

std::string Text(const json::value& value) {
  return value.is_string() ? std::string(value.get_string()) : json::serialize(value);
}

std::map<std::string, std::string> StringMap(const json::object& object) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : object) out[std::string(key)] = Text(value);
  return out;
}

ParameterValues ValuesOf(const json::object& parameters) {
  ParameterValues values;
  for (const auto& [key, value] : parameters) {
    if (key == kClientSecretParameter) {
      values.client_secret = Secret(Text(value));
    } else {
      values.values[std::string(key)] = Text(value);
    }
  }
  return values;
}

// Queues the fixture's response {"status", "contentType", "body"} on `http`.
void Respond(FakeHttpClient& http, const json::object& fixture) {
  http.Respond(static_cast<int>(fixture.at("status").as_int64()),
               json::serialize(fixture.at("body")), Text(fixture.at("contentType")));
}

// The request body as name/value pairs, from a form or a JSON body.
std::map<std::string, std::string> BodyOf(const http::ClientRequest& request) {
  if (HeaderOf(request, "Content-Type") == "application/json") {
    return StringMap(json::parse(request.body).as_object());
  }
  std::map<std::string, std::string> out;
  std::optional<FormFields> fields = FormDecode(request.body);
  if (!fields) return out;
  for (const auto& [name, value] : *fields) out[name] = value;
  return out;
}

void ExpectRequest(const http::ClientRequest& request, const json::object& expected) {
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, Text(expected.at("url")));
  EXPECT_EQ(HeaderOf(request, "Content-Type"), Text(expected.at("contentType")));
  EXPECT_EQ(HeaderOf(request, "Accept"), "application/json");
  const json::value& authorization = expected.at("authorization");
  EXPECT_EQ(HeaderOf(request, "Authorization"),
            authorization.is_null() ? "" : Text(authorization));
  EXPECT_EQ(BodyOf(request), StringMap(expected.at("body").as_object()));
}

void ExpectTokens(const TokenSet& tokens, const json::object& expected) {
  EXPECT_TRUE(tokens.access_token.Equals(Text(expected.at("accessToken"))));
  EXPECT_TRUE(tokens.refresh_token.Equals(Text(expected.at("refreshToken"))))
      << "refresh token has " << tokens.refresh_token.size() << " characters";
  const json::value& expires_in = expected.at("expiresInSeconds");
  if (expires_in.is_null()) {
    EXPECT_FALSE(tokens.expires_at.has_value());
  } else {
    ASSERT_TRUE(tokens.expires_at.has_value());
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*tokens.expires_at -
                                                               tokens.obtained_at)
                  .count(),
              expires_in.as_int64());
  }
  EXPECT_EQ(tokens.scope, Text(expected.at("scope")));
  EXPECT_EQ(tokens.token_type, "Bearer");

  if (const json::value* claims = expected.if_contains("claims")) {
    for (const auto& [name, value] : claims->as_object()) {
      const json::value* actual = tokens.response.if_contains(name);
      ASSERT_NE(actual, nullptr) << "claim " << name << " missing from "
                                 << json::serialize(tokens.response);
      EXPECT_EQ(*actual, value) << "claim " << name;
    }
  }
  if (const json::value* absent = expected.if_contains("absentClaims")) {
    const json::value response(tokens.response);
    for (const auto& path : absent->as_array()) {
      EXPECT_EQ(FindJsonPointer(response, "/" + Text(path)), nullptr)
          << Text(path) << " is in " << json::serialize(tokens.response);
    }
  }
  // No token may stay in the claims, nested or not.
  const std::string claims = json::serialize(tokens.response);
  EXPECT_EQ(claims.find(Text(expected.at("accessToken"))), std::string::npos) << claims;
  const std::string refresh_token = Text(expected.at("refreshToken"));
  if (!refresh_token.empty()) {
    EXPECT_EQ(claims.find(refresh_token), std::string::npos) << claims;
  }
}

class ProviderConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_ = LoadCase(GetParam());
    entry_ = BuiltinCatalogue().Find(Text(case_.at("identityProvider")));
    ASSERT_NE(entry_, nullptr) << "no catalogue entry " << GetParam();
    config_ = Resolve(GrantKind::kAuthorizationCode, case_.at("parameters").as_object(), {});
  }

  ProviderConfig Resolve(GrantKind kind, const json::object& parameters,
                         const json::object& connection) {
    const GrantSpec* grant = entry_->Grant(kind);
    EXPECT_NE(grant, nullptr);
    if (grant == nullptr) return {};
    auto applied = ApplyParameterSpecs(*grant, ValuesOf(parameters),
                                       kind == GrantKind::kClientCredentials, "");
    EXPECT_TRUE(applied.ok()) << applied.error().message;
    if (!applied.ok()) return {};
    auto merged = MergeConnectionParameters(*grant, *applied, ValuesOf(connection), "");
    EXPECT_TRUE(merged.ok()) << merged.error().message;
    if (!merged.ok()) return {};
    auto config = ResolveProviderConfig(*entry_, kind, *merged, GetParam(), GetParam());
    EXPECT_TRUE(config.ok()) << config.error().message;
    if (!config.ok()) return {};
    Status valid = ValidateProviderConfig(*config);
    EXPECT_TRUE(valid.ok()) << valid.error().message;
    return *config;
  }

  FormFields CallbackParameters() const {
    FormFields fields;
    for (const auto& [name, value] : case_.at("callback").as_object()) {
      fields.emplace_back(std::string(name), Text(value));
    }
    return fields;
  }

  Result<TokenSet> ExchangeCode() {
    Respond(http_, case_.at("tokenResponse").as_object());
    return RunCoroutine(client_.ExchangeCode(config_, Secret(std::string(kCode)),
                                             std::string(kRedirectUri),
                                             Secret(std::string(kVerifier)),
                                             CallbackParameters()));
  }

  json::object case_;
  const CatalogueEntry* entry_ = nullptr;
  ProviderConfig config_;
  FakeClock clock_;
  FakeHttpClient http_;
  TokenClient client_{http_, clock_};
};

TEST_P(ProviderConformanceTest, AuthorizationUrl) {
  AuthorizationRequest request{std::string(kRedirectUri), std::string(kState),
                               std::string(kChallenge), ""};
  auto url = BuildAuthorizationUrl(config_, request);
  ASSERT_TRUE(url.ok()) << url.error().message;
  auto parsed = boost::urls::parse_absolute_uri(*url);
  ASSERT_TRUE(parsed) << *url;

  const json::object& expected = case_.at("authorization").as_object();
  const std::string base = std::string(parsed->scheme()) + "://" +
                           std::string(parsed->encoded_authority()) +
                           std::string(parsed->encoded_path());
  EXPECT_EQ(base, Text(expected.at("url")));
  std::map<std::string, std::string> query;
  for (const auto& param : parsed->params()) {
    EXPECT_FALSE(query.contains(param.key)) << "repeated parameter " << param.key;
    query[param.key] = param.value;
  }
  EXPECT_EQ(query, StringMap(expected.at("query").as_object())) << *url;
}

TEST_P(ProviderConformanceTest, CodeExchange) {
  auto tokens = ExchangeCode();
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ExpectRequest(http_.LastRequest(), case_.at("tokenRequest").as_object());
  ExpectTokens(*tokens, case_.at("tokens").as_object());
}

TEST_P(ProviderConformanceTest, Refresh) {
  auto tokens = ExchangeCode();
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  // A client of its own, because FakeHttpClient repeats its last queued response.
  FakeHttpClient refresh_http;
  TokenClient refresh_client(refresh_http, clock_);
  Respond(refresh_http, case_.at("refreshResponse").as_object());
  auto refreshed = RunCoroutine(refresh_client.RefreshToken(config_, tokens->refresh_token,
                                                            tokens->scope, tokens->response));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  ExpectRequest(refresh_http.LastRequest(), case_.at("refreshRequest").as_object());
  ExpectTokens(*refreshed, case_.at("refreshedTokens").as_object());
}

// The client credentials grant, for the fixtures that have a "clientCredentials" case.
using ClientCredentialsConformanceTest = ProviderConformanceTest;

TEST_P(ClientCredentialsConformanceTest, TokenRequest) {
  const json::object& cc = case_.at("clientCredentials").as_object();
  ProviderConfig config = Resolve(GrantKind::kClientCredentials, cc.at("parameters").as_object(),
                                  cc.at("connectionParameters").as_object());
  Respond(http_, cc.at("response").as_object());
  auto tokens = RunCoroutine(client_.RequestClientCredentials(config));
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ExpectRequest(http_.LastRequest(), cc.at("request").as_object());
  ExpectTokens(*tokens, cc.at("tokens").as_object());
}

std::vector<std::string> ClientCredentialsFixtureIds() {
  std::vector<std::string> ids;
  for (const std::string& id : FixtureIds()) {
    if (LoadCase(id).contains("clientCredentials")) ids.push_back(id);
  }
  return ids;
}

std::string IdName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Providers, ProviderConformanceTest, ::testing::ValuesIn(FixtureIds()),
                         IdName);
INSTANTIATE_TEST_SUITE_P(Providers, ClientCredentialsConformanceTest,
                         ::testing::ValuesIn(ClientCredentialsFixtureIds()), IdName);

TEST(ProviderFixtures, EveryEntryHasOne) {
  const std::vector<std::string> ids = FixtureIds();
  for (const auto& [id, entry] : BuiltinCatalogue().entries()) {
    const bool found = std::find(ids.begin(), ids.end(), id) != ids.end();
    EXPECT_TRUE(found) << "tests/fixtures/providers/" << id << "/case.json is missing";
    if (found && entry.client_credentials) {
      EXPECT_TRUE(LoadCase(id).contains("clientCredentials"))
          << id << " supports client credentials, so its case.json needs a clientCredentials case";
    }
  }
}

}  // namespace
}  // namespace credgate::credentials
