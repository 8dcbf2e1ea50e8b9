#include "identity/validator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>
#include <thread>

#include "fake_http_client.h"
#include "identity/identity_errors.h"
#include "test_tokens.h"

namespace credgate::identity {
namespace {

using IdentityResult = Result<std::shared_ptr<const CallerIdentity>>;

constexpr int64_t kNow = 1'800'000'000;
const std::string kIssuer = "https://issuer.example/tenant";
const std::string kDiscoveryUrl = "https://issuer.example/tenant/.well-known/openid-configuration";
const std::string kJwksUri = "https://issuer.example/tenant/keys";

// Runs `awaitable` on a fresh io_context until it completes.
template <typename T>
T RunToCompletion(boost::asio::awaitable<T> awaitable) {
  boost::asio::io_context io;
  std::optional<T> result;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { result.emplace(co_await std::move(awaitable)); },
      [](std::exception_ptr error) {
        if (error) std::rethrow_exception(error);
      });
  io.run();
  return std::move(*result);
}

class ValidatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = new testing::TestSigner();
    rotated_ = new testing::TestSigner("rsa-2", "ec-2");
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete rotated_;
  }

  ValidatorTest()
      : http_(std::make_shared<testing::FakeHttpClient>()),
        clock_(std::make_shared<FakeClock>(FromUnixSeconds(kNow))),
        validator_(http_, clock_) {
    http_->Respond(kJwksUri, 200, signer_->Jwks());
    RespondDiscovery(kDiscoveryUrl, kIssuer);
  }

  void RespondDiscovery(const std::string& url, const std::string& issuer) {
    http_->Respond(url, 200,
                   boost::json::serialize(boost::json::object{
                       {"issuer", issuer}, {"jwks_uri", kJwksUri}, {"token_endpoint", "x"}}));
  }

  // Returns the trusted issuer under test. With `discovery`, it has no jwks_uri.
  static TrustedIssuer Issuer(bool discovery = false) {
    TrustedIssuer issuer;
    issuer.id = "main";
    issuer.issuer = kIssuer;
    issuer.audiences = {"api://credgate"};
    if (!discovery) issuer.jwks_uri = kJwksUri;
    return issuer;
  }

  void Trust(std::vector<TrustedIssuer> issuers) {
    Status status = validator_.SetTrustedIssuers(std::move(issuers));
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  // Returns valid claims for Issuer(). `subject` makes tokens distinct.
  static boost::json::object Claims(std::string_view subject = "alice") {
    return {{"iss", kIssuer}, {"aud", "api://credgate"}, {"sub", subject},
            {"oid", subject}, {"iat", kNow - 10},        {"exp", kNow + 3600}};
  }

  IdentityResult Validate(const std::string& token, std::span<const std::string> ids = {}) {
    return RunToCompletion(validator_.Validate(token, ids));
  }

  static testing::TestSigner* signer_;
  static testing::TestSigner* rotated_;
  std::shared_ptr<testing::FakeHttpClient> http_;
  std::shared_ptr<FakeClock> clock_;
  JwtValidator validator_;
};

testing::TestSigner* ValidatorTest::signer_ = nullptr;
testing::TestSigner* ValidatorTest::rotated_ = nullptr;

TEST_F(ValidatorTest, AcceptsEachAlgorithm) {
  Trust({Issuer()});
  for (const std::string& token :
       {signer_->SignRs256(Claims()), signer_->SignPs256(Claims()), signer_->SignEs256(Claims())}) {
    IdentityResult identity = Validate(token);
    ASSERT_TRUE(identity.ok()) << identity.error().message;
    EXPECT_EQ((*identity)->object_id, "alice");
    EXPECT_EQ((*identity)->issuer_id, "main");
  }
  EXPECT_EQ(http_->Calls(kJwksUri), 1);
  EXPECT_EQ(http_->Calls(kDiscoveryUrl), 0);
}

TEST_F(ValidatorTest, CachedNeedsLoadedKeys) {
  Trust({Issuer()});
  IdentityResult identity = validator_.ValidateCached(signer_->SignRs256(Claims()));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(identity.error().reason, kReasonKeysNotLoaded);
  EXPECT_EQ(http_->TotalCalls(), 0);

  ASSERT_TRUE(Validate(signer_->SignRs256(Claims())).ok());
  EXPECT_TRUE(validator_.ValidateCached(signer_->SignEs256(Claims("bob"))).ok());
}

TEST_F(ValidatorTest, DiscoversJwksUri) {
  Trust({Issuer(/*discovery=*/true)});
  ASSERT_TRUE(Validate(signer_->SignRs256(Claims())).ok());
  ASSERT_TRUE(Validate(signer_->SignRs256(Claims("bob"))).ok());
  EXPECT_EQ(http_->Calls(kDiscoveryUrl), 1);
  EXPECT_EQ(http_->Calls(kJwksUri), 1);
}

TEST_F(ValidatorTest, DiscoveryKeepsIssuerSlash) {
  TrustedIssuer issuer = Issuer(/*discovery=*/true);
  issuer.issuer = kIssuer + "/";
  RespondDiscovery(kDiscoveryUrl, issuer.issuer);
  Trust({issuer});
  boost::json::object claims = Claims();
  claims["iss"] = issuer.issuer;
  IdentityResult identity = Validate(signer_->SignRs256(claims));
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(http_->Calls(kDiscoveryUrl), 1);
}

TEST_F(ValidatorTest, RejectsIssuerSlashMismatch) {
  Trust({Issuer()});
  boost::json::object claims = Claims();
  claims["iss"] = kIssuer + "/";
  IdentityResult identity = Validate(signer_->SignRs256(claims));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().reason, kReasonUntrustedIssuer);
  EXPECT_EQ(identity.error().message, "issuer '" + kIssuer + "/' is not trusted");
  EXPECT_EQ(http_->TotalCalls(), 0);
}

TEST_F(ValidatorTest, RejectsDiscoveryOfOtherIssuer) {
  RespondDiscovery(kDiscoveryUrl, "https://other.example");
  Trust({Issuer(/*discovery=*/true)});
  IdentityResult identity = Validate(signer_->SignRs256(Claims()));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(identity.error().reason, kReasonKeyFetchFailed);
}

TEST_F(ValidatorTest, FetchFailureIsUnavailable) {
  http_->Remove(kJwksUri);
  Trust({Issuer()});
  IdentityResult identity = Validate(signer_->SignRs256(Claims()));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(identity.error().reason, kReasonKeyFetchFailed);
  EXPECT_EQ(validator_.counters().key_fetch_failures, 1u);

  // Within failed_fetch_retry_interval the failure is returned without a new request.
  EXPECT_FALSE(Validate(signer_->SignRs256(Claims())).ok());
  EXPECT_EQ(http_->Calls(kJwksUri), 1);

  http_->Respond(kJwksUri, 200, signer_->Jwks());
  clock_->Advance(std::chrono::seconds(6));
  EXPECT_TRUE(Validate(signer_->SignRs256(Claims())).ok());
  EXPECT_EQ(http_->Calls(kJwksUri), 2);
}

TEST_F(ValidatorTest, HttpErrorStatusIsUnavailable) {
  http_->Respond(kJwksUri, 503, "busy");
  Trust({Issuer()});
  IdentityResult identity = Validate(signer_->SignRs256(Claims()));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(identity.error().message.find("HTTP status 503"), std::string::npos);
}

TEST_F(ValidatorTest, UnknownKidRefetchIsRateLimited) {
  Trust({Issuer()});
  const std::string token = rotated_->SignRs256(Claims());

  IdentityResult first = Validate(token);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().reason, kReasonUnknownKeyId);
  EXPECT_EQ(http_->Calls(kJwksUri), 1);

  for (int i = 0; i < 5; ++i) {
    IdentityResult again = Validate(rotated_->Sign(
        testing::TestSigner::Header("RS256", "random-" + std::to_string(i)), Claims()));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().reason, kReasonUnknownKeyId);
  }
  EXPECT_EQ(http_->Calls(kJwksUri), 1);

  // After the issuer rotates to the new key, the next unknown kid past the interval fetches it.
  http_->Respond(kJwksUri, 200, rotated_->Jwks());
  clock_->Advance(std::chrono::seconds(31));
  IdentityResult rotated = Validate(token);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(http_->Calls(kJwksUri), 2);
}

TEST_F(ValidatorTest, RefreshesOldKeysInBackground) {
  Trust({Issuer()});
  ASSERT_TRUE(Validate(signer_->SignRs256(Claims())).ok());
  EXPECT_EQ(http_->Calls(kJwksUri), 1);

  // The JWKS drops the EC key. Until the refresh interval passes, it stays trusted.
  http_->Respond(kJwksUri, 200,
                 boost::json::serialize(boost::json::object{{"keys", {signer_->RsaJwk()}}}));
  clock_->Advance(std::chrono::minutes(30));
  EXPECT_TRUE(Validate(signer_->SignEs256(Claims("bob"))).ok());
  EXPECT_EQ(http_->Calls(kJwksUri), 1);

  // Past the interval, the call that finds the keys old is still served with them and starts the
  // refresh. Once it completes, the removed key no longer verifies.
  clock_->Advance(std::chrono::minutes(31));
  boost::json::object claims = Claims("carol");
  claims["exp"] = kNow + 7200;
  EXPECT_TRUE(Validate(signer_->SignEs256(claims)).ok());
  EXPECT_EQ(http_->Calls(kJwksUri), 2);
  claims["sub"] = "dave";
  IdentityResult removed = validator_.ValidateCached(signer_->SignEs256(claims));
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().reason, kReasonUnknownKeyId);
}

TEST_F(ValidatorTest, CacheReturnsSameIdentity) {
  Trust({Issuer()});
  const std::string token = signer_->SignRs256(Claims());
  IdentityResult first = Validate(token);
  ASSERT_TRUE(first.ok()) << first.error().message;

  IdentityResult second = validator_.ValidateCached(token);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(validator_.counters().cache_hits, 1u);
  EXPECT_EQ(validator_.counters().accepted, 2u);
}

TEST_F(ValidatorTest, CacheDropsIdentityAfterExp) {
  Trust({Issuer()});
  boost::json::object claims = Claims();
  claims["exp"] = kNow + 100;
  const std::string token = signer_->SignRs256(claims);
  IdentityResult first = Validate(token);
  ASSERT_TRUE(first.ok()) << first.error().message;

  // Past exp but within the 60 s skew: verified again, not served from the cache.
  clock_->Advance(std::chrono::seconds(101));
  IdentityResult second = validator_.ValidateCached(token);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(*second, *first);
  EXPECT_EQ(validator_.counters().cache_hits, 0u);

  clock_->Advance(std::chrono::seconds(60));
  IdentityResult third = validator_.ValidateCached(token);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().reason, kReasonTokenExpired);
  EXPECT_EQ(third.error().message.find(token), std::string::npos);
}

TEST_F(ValidatorTest, ConcurrentCallersShareOneFetch) {
  http_->set_delay(std::chrono::milliseconds(50));
  Trust({Issuer(/*discovery=*/true)});
  constexpr int kCallers = 32;
  std::vector<std::string> tokens;
  for (int i = 0; i < kCallers; ++i) {
    tokens.push_back(signer_->SignEs256(Claims("user-" + std::to_string(i))));
  }

  boost::asio::io_context io;
  std::atomic<int> accepted{0};
  for (int i = 0; i < kCallers; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          IdentityResult identity = co_await validator_.Validate(tokens[i]);
          if (identity.ok()) ++accepted;
        },
        boost::asio::detached);
  }
  std::thread second_thread([&] { io.run(); });
  io.run();
  second_thread.join();

  EXPECT_EQ(accepted.load(), kCallers);
  EXPECT_EQ(http_->Calls(kDiscoveryUrl), 1);
  EXPECT_EQ(http_->Calls(kJwksUri), 1);
}

TEST_F(ValidatorTest, RestrictsToIssuerIds) {
  TrustedIssuer other = Issuer();
  other.id = "other";
  other.issuer = "https://other.example";
  Trust({Issuer(), other});
  const std::string token = signer_->SignRs256(Claims());
  const std::vector<std::string> only_other = {"other"};
  const std::vector<std::string> only_main = {"main"};

  IdentityResult rejected = Validate(token, only_other);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().reason, kReasonUntrustedIssuer);
  EXPECT_TRUE(Validate(token, only_main).ok());

  // A cached identity is checked against the restriction as well.
  EXPECT_FALSE(validator_.ValidateCached(token, only_other).ok());
}

TEST_F(ValidatorTest, ReconfigureKeepsKeysAndClearsCache) {
  Trust({Issuer()});
  const std::string token = signer_->SignRs256(Claims());
  ASSERT_TRUE(Validate(token).ok());

  TrustedIssuer changed = Issuer();
  changed.audiences.push_back("api://second");
  Trust({changed});
  IdentityResult identity = validator_.ValidateCached(token);
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(validator_.counters().cache_hits, 0u);
  EXPECT_EQ(http_->Calls(kJwksUri), 1);
}

TEST_F(ValidatorTest, ReconfigureWithNewUriDropsKeys) {
  Trust({Issuer()});
  ASSERT_TRUE(Validate(signer_->SignRs256(Claims())).ok());

  TrustedIssuer moved = Issuer();
  moved.jwks_uri = "https://issuer.example/tenant/keys-v2";
  Trust({moved});
  IdentityResult identity = validator_.ValidateCached(signer_->SignRs256(Claims("bob")));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().reason, kReasonKeysNotLoaded);
}

TEST_F(ValidatorTest, RejectsInvalidConfiguration) {
  TrustedIssuer plain_http = Issuer();
  plain_http.jwks_uri = "http://issuer.example/keys";
  TrustedIssuer no_audience = Issuer();
  no_audience.audiences.clear();
  TrustedIssuer same_id = Issuer();
  same_id.issuer = "https://other.example";
  TrustedIssuer same_issuer = Issuer();
  same_issuer.id = "copy";
  TrustedIssuer large_skew = Issuer();
  large_skew.clock_skew = std::chrono::hours(1);

  const std::vector<std::pair<std::vector<TrustedIssuer>, std::string>> cases = {
      {{plain_http}, "not an https URL"},  {{no_audience}, "'audiences' is empty"},
      {{Issuer(), same_id}, "used twice"}, {{Issuer(), same_issuer}, "same issuer"},
      {{large_skew}, "'clock_skew'"},
  };
  for (const auto& [issuers, message_part] : cases) {
    Status status = validator_.SetTrustedIssuers(issuers);
    ASSERT_FALSE(status.ok()) << message_part;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find(message_part), std::string::npos)
        << status.error().message;
  }
}

TEST_F(ValidatorTest, AcceptsLoopbackHttpJwks) {
  TrustedIssuer local = Issuer();
  local.jwks_uri = "http://127.0.0.1:8080/keys";
  EXPECT_TRUE(validator_.SetTrustedIssuers({local}).ok());
}

TEST_F(ValidatorTest, CountsRejections) {
  Trust({Issuer()});
  EXPECT_FALSE(validator_.ValidateCached("not-a-token").ok());
  EXPECT_FALSE(Validate("a.b.c").ok());
  EXPECT_EQ(validator_.counters().rejected, 2u);
}

}  // namespace
}  // namespace credgate::identity
