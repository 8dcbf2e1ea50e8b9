#include "identity/openid_config_cache.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>

#include "fake_http_client.h"
#include "test_tokens.h"

namespace credgate::identity {
namespace {

using ConfigResult = Result<std::shared_ptr<const OpenIdConfiguration>>;

const std::string kConfigUrl = "https://login.example/v2/.well-known/openid-configuration";
const std::string kJwksUri = "https://login.example/v2/keys";

class OpenIdConfigCacheTest : public ::testing::Test {
 protected:
  OpenIdConfigCacheTest() : clock_(std::make_shared<FakeClock>()), cache_(http_, clock_) {
    http_.Respond(kConfigUrl, 200,
                  boost::json::serialize(boost::json::object{{"issuer", "https://login.example/v2"},
                                                             {"jwks_uri", kJwksUri}}));
    http_.Respond(kJwksUri, 200, Signer().Jwks());
  }

  static const testing::TestSigner& Signer() {
    static const testing::TestSigner signer;
    return signer;
  }

  // Runs `count` concurrent Get() calls to completion and returns the last result.
  ConfigResult Get(int count = 1, bool unknown_kid = false) {
    boost::asio::io_context io;
    std::optional<ConfigResult> result;
    for (int i = 0; i < count; ++i) {
      boost::asio::co_spawn(
          io,
          [&]() -> boost::asio::awaitable<void> {
            result.emplace(co_await cache_.Get(kConfigUrl, unknown_kid));
          },
          boost::asio::detached);
    }
    io.run();
    return std::move(*result);
  }

  testing::FakeHttpClient http_;
  std::shared_ptr<FakeClock> clock_;
  OpenIdConfigCache cache_;
};

TEST_F(OpenIdConfigCacheTest, LoadsIssuerAndKeys) {
  EXPECT_EQ(cache_.Find(kConfigUrl), nullptr);
  ConfigResult config = Get();
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ((*config)->issuer, "https://login.example/v2");
  EXPECT_EQ((*config)->keys->keys().size(), 2u);
  EXPECT_EQ(cache_.Find(kConfigUrl), *config);
}

TEST_F(OpenIdConfigCacheTest, ConcurrentCallersShareFetch) {
  http_.set_delay(std::chrono::milliseconds(20));
  ASSERT_TRUE(Get(5).ok());
  EXPECT_EQ(http_.Calls(kConfigUrl), 1);
  EXPECT_EQ(http_.Calls(kJwksUri), 1);
  ASSERT_TRUE(Get().ok());
  EXPECT_EQ(http_.Calls(kConfigUrl), 1);
}

TEST_F(OpenIdConfigCacheTest, UnknownKidRefetchIsRateLimited) {
  ASSERT_TRUE(Get().ok());
  ASSERT_TRUE(Get(1, /*unknown_kid=*/true).ok());
  EXPECT_EQ(http_.Calls(kConfigUrl), 1);
  clock_->Advance(std::chrono::seconds(31));
  ASSERT_TRUE(Get(1, /*unknown_kid=*/true).ok());
  EXPECT_EQ(http_.Calls(kConfigUrl), 2);
}

TEST_F(OpenIdConfigCacheTest, FailureIsRememberedBriefly) {
  http_.Remove(kConfigUrl);
  ConfigResult failed = Get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().reason, "KeyFetchFailed");
  EXPECT_NE(failed.error().message.find(kConfigUrl), std::string::npos);
  EXPECT_FALSE(Get().ok());
  EXPECT_EQ(http_.TotalCalls(), 1);
}

TEST_F(OpenIdConfigCacheTest, HttpJwksUriRejected) {
  http_.Respond(kConfigUrl, 200,
                R"({"issuer":"https://login.example/v2","jwks_uri":"http://login.example/keys"})");
  ConfigResult failed = Get();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("is not an https URL"), std::string::npos);
}

TEST_F(OpenIdConfigCacheTest, StaleConfigRefreshedInBackground) {
  ASSERT_TRUE(Get().ok());
  clock_->Advance(std::chrono::hours(2));
  ASSERT_TRUE(Get().ok());  // Returns the old configuration and refreshes it in the background.
  EXPECT_EQ(http_.Calls(kConfigUrl), 2);
}

}  // namespace
}  // namespace credgate::identity
