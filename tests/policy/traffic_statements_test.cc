#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <limits>
#include <optional>

#include "policy/bandwidth.h"
#include "policy/document.h"
#include "policy/executor.h"
#include "policy/value_cache.h"
#include "policy/window_counters.h"

namespace credgate::policy {
namespace {

class ClockServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
  TimePoint Now() const override { return now; }

  TimePoint now = FromUnixSeconds(1'700'000'000);  // A multiple of 10 and of 100 seconds.
};

class TrafficTest : public ::testing::Test {
 protected:
  void Load(const std::string& inbound) {
    auto document = CompilePolicyDocument("<policies><inbound>" + inbound + "</inbound></policies>",
                                          PolicyScope::kGlobal);
    ASSERT_TRUE(document.ok()) << document.error().message;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    pipeline_ = ComposePipeline(shared, nullptr, nullptr).value();
  }

  std::string CompileError(const std::string& inbound) {
    auto document = CompilePolicyDocument("<policies><inbound>" + inbound + "</inbound></policies>",
                                          PolicyScope::kGlobal);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  // Runs the loaded inbound section for a new request from `caller`.
  ExecutionOutcome Call(const std::string& caller = "ann") {
    context_ = PolicyContext{};
    context_.request.method = "GET";
    context_.request.headers.Set("X-Caller", caller);
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, Section::kInbound, context_, services_);
        },
        boost::asio::detached);
    io.run();
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  std::string Added(std::string_view name) const {
    return context_.added_response_headers.GetJoined(name).value_or("<absent>");
  }

  PolicyContext context_;
  ClockServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

const std::string kRateLimit =
    R"x(<rate-limit-by-key calls="2" renewal-period="10" counter-key="@(context.Request.Headers.GetValueOrDefault("X-Caller", ""))"
        remaining-calls-header-name="x-remaining" total-calls-header-name="x-total"
        retry-after-variable-name="retry"/>)x";

TEST_F(TrafficTest, RateLimitPerKey) {
  Load(kRateLimit);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  EXPECT_EQ(Added("x-remaining"), "1");
  EXPECT_EQ(Added("x-total"), "2");
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call("bob"), ExecutionOutcome::kContinue);

  services_.now += std::chrono::seconds(3);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 429);
  EXPECT_EQ(context_.last_error->reason, "RateLimitExceeded");
  EXPECT_EQ(Added("Retry-After"), "7");
  EXPECT_EQ(context_.variables.at("retry").AsInt(), 7);
  EXPECT_NE(context_.response.body.find("Try again in 7 seconds"), std::string::npos);

  services_.now += std::chrono::seconds(7);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
}

TEST_F(TrafficTest, RateLimitIncrementCondition) {
  Load(R"x(<rate-limit-by-key calls="1" renewal-period="60" counter-key="k"
      increment-condition="@(context.Request.Headers.GetValueOrDefault("X-Caller", "") == "ann")"/>)x");
  EXPECT_EQ(Call("bob"), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call("bob"), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kRespond);
}

TEST_F(TrafficTest, QuotaReturns403) {
  Load(R"(<quota-by-key calls="1" renewal-period="3600" counter-key="k"/>)");
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call(), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 403);
  EXPECT_EQ(context_.last_error->reason, "QuotaExceeded");
  EXPECT_NE(context_.response.body.find("Quota will be replenished in 00:46:40"), std::string::npos)
      << context_.response.body;
}

TEST_F(TrafficTest, QuotaFirstPeriodStart) {
  // Windows of 100 seconds that started 50 seconds before the first call.
  Load(
      R"(<quota-by-key calls="1" renewal-period="100" counter-key="k" first-period-start="2023-11-14T22:12:30Z"/>)");
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call(), ExecutionOutcome::kRespond);
  services_.now += std::chrono::seconds(50);
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
}

TEST_F(TrafficTest, CacheStoreLookupRemove) {
  Load(
      R"x(<choose><when condition="@(context.Request.Headers.GetValueOrDefault("X-Caller", "") == "store")">
      <cache-store-value key="greeting" value="@("hello " + context.Request.Method)" duration="30"/></when>
    <when condition="@(context.Request.Headers.GetValueOrDefault("X-Caller", "") == "remove")">
      <cache-remove-value key="greeting"/></when></choose>
    <cache-lookup-value key="greeting" variable-name="v" default-value="none"/>)x");
  Call("read");
  EXPECT_EQ(context_.variables.at("v").AsString(), "none");
  Call("store");
  EXPECT_EQ(context_.variables.at("v").AsString(), "hello GET");
  Call("read");
  EXPECT_EQ(context_.variables.at("v").AsString(), "hello GET");
  services_.now += std::chrono::seconds(31);
  Call("read");
  EXPECT_EQ(context_.variables.at("v").AsString(), "none");
  Call("store");
  Call("remove");
  EXPECT_EQ(context_.variables.at("v").AsString(), "none");
}

TEST(WindowCountersTest, BoundedKeys) {
  WindowCounters counters(WindowCounters::kShards);  // One key per shard.
  TimePoint now = FromUnixSeconds(1000);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(
        counters.Consume("k" + std::to_string(i), 1, 1, std::chrono::seconds(10), {}, now, true)
            .allowed);
  }
}

TEST(ValueCacheTest, EvictsOldestWhenFull) {
  ValueCache cache(2, 1024);
  TimePoint now = FromUnixSeconds(1000);
  cache.Store("a", Value("1"), std::chrono::seconds(60), now);
  cache.Store("b", Value("2"), std::chrono::seconds(60), now);
  cache.Store("c", Value("3"), std::chrono::seconds(60), now);
  EXPECT_FALSE(cache.Find("a", now).has_value());
  EXPECT_EQ(cache.Find("c", now)->AsString(), "3");
}

TEST(ValueCacheTest, BoundsStringBytes) {
  ValueCache cache(10, 8);
  TimePoint now = FromUnixSeconds(1000);
  cache.Store("a", Value("12345"), std::chrono::seconds(60), now);
  cache.Store("b", Value("6789"), std::chrono::seconds(60), now);
  EXPECT_FALSE(cache.Find("a", now).has_value());
  cache.Store("big", Value("123456789"), std::chrono::seconds(60), now);
  EXPECT_FALSE(cache.Find("big", now).has_value());
}

TEST(ValueCacheTest, StoredAuthorizationReleasesTokenSet) {
  struct StoredTokens {
    std::string access_token = "backend-token";
    std::string refresh_token = "refresh-token";
    boost::json::object response;
  };
  auto stored = std::make_shared<StoredTokens>();
  std::weak_ptr<StoredTokens> watch = stored;
  ValueCache cache(10, 1024);
  TimePoint now = FromUnixSeconds(1000);
  cache.Store("auth", Value(MakeAuthorization(stored, stored->access_token, stored->response)),
              std::chrono::seconds(60), now);
  stored.reset();
  EXPECT_TRUE(watch.expired()) << "the cache must not keep the token set alive";

  std::optional<Value> found = cache.Find("auth", now);
  ASSERT_TRUE(found.has_value());
  auto token = found->AsObject().GetMember("AccessToken");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->AsString(), "backend-token");
}

struct RejectCase {
  std::string name;
  std::string statement;
  std::string expected;
};

const std::string kBandwidth =
    R"x(<quota-by-key bandwidth="1" renewal-period="3600" counter-key="@(context.Request.Headers.GetValueOrDefault("X-Caller", ""))"/>)x";

TEST_F(TrafficTest, BandwidthAloneCompiles) {
  EXPECT_EQ(CompileError(kBandwidth), "<compiled>");
}

TEST_F(TrafficTest, BandwidthAndCallsCompile) {
  EXPECT_EQ(CompileError(R"(<quota-by-key calls="5" bandwidth="10" renewal-period="0" counter-key="k"/>)"),
            "<compiled>");
}

TEST_F(TrafficTest, BandwidthRecordsCharge) {
  Load(kBandwidth);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ASSERT_EQ(context_.bandwidth_charges.size(), 1u);
  EXPECT_EQ(context_.bandwidth_charges[0].key, "ann");
}

// 1 KB is 1024 bytes: a request is rejected once earlier ones reached that many.
TEST_F(TrafficTest, BandwidthRejectsAfterLimit) {
  Load(kBandwidth);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ChargeBandwidth(context_, 600);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ChargeBandwidth(context_, 423);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ChargeBandwidth(context_, 1);

  EXPECT_EQ(Call("ann"), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 403);
  EXPECT_EQ(context_.last_error->reason, "QuotaExceeded");
  EXPECT_NE(context_.response.body.find("Out of bandwidth quota. Quota will be replenished in "
                                        "00:46:40."),
            std::string::npos)
      << context_.response.body;
  EXPECT_EQ(Added("Retry-After"), "<absent>");
  EXPECT_TRUE(context_.bandwidth_charges.empty());

  EXPECT_EQ(Call("bob"), ExecutionOutcome::kContinue);
}

TEST_F(TrafficTest, BandwidthRenewsWithPeriod) {
  Load(kBandwidth);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ChargeBandwidth(context_, 5000);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kRespond);

  services_.now += std::chrono::seconds(2800);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
}

// Bytes of a request that started in an earlier window do not count in the current one.
TEST_F(TrafficTest, BandwidthLateChargeSkipped) {
  Load(kBandwidth);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  PolicyContext early = context_;
  services_.now += std::chrono::seconds(2800);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  ChargeBandwidth(early, 5000);
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
}

TEST_F(TrafficTest, QuotaCallsAndBandwidth) {
  Load(R"(<quota-by-key calls="2" bandwidth="1" renewal-period="3600" counter-key="k"/>)");
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
  EXPECT_EQ(Call(), ExecutionOutcome::kRespond);
  EXPECT_NE(context_.response.body.find("Out of call volume quota."), std::string::npos);
  EXPECT_TRUE(context_.bandwidth_charges.empty());
}

TEST_F(TrafficTest, BandwidthCheckedBeforeCalls) {
  Load(R"(<quota-by-key calls="2" bandwidth="1" renewal-period="3600" counter-key="k"/>)");
  EXPECT_EQ(Call(), ExecutionOutcome::kContinue);
  ChargeBandwidth(context_, 2000);
  EXPECT_EQ(Call(), ExecutionOutcome::kRespond);
  EXPECT_NE(context_.response.body.find("Out of bandwidth quota."), std::string::npos);
}

TEST_F(TrafficTest, BandwidthSkipsUncountedCall) {
  Load(R"x(<quota-by-key bandwidth="1" renewal-period="0" counter-key="k"
      increment-condition="@(context.Request.Headers.GetValueOrDefault("X-Caller", "") == "ann")"/>)x");
  EXPECT_EQ(Call("bob"), ExecutionOutcome::kContinue);
  EXPECT_TRUE(context_.bandwidth_charges.empty());
  EXPECT_EQ(Call("ann"), ExecutionOutcome::kContinue);
  EXPECT_EQ(context_.bandwidth_charges.size(), 1u);
}

TEST(WindowCountersTest, AddCountsTowardLimit) {
  WindowCounters counters(16);
  const TimePoint now = FromUnixSeconds(1'000);
  const std::chrono::seconds period(100);
  counters.Add("k", 99, period, TimePoint{}, now);
  EXPECT_TRUE(counters.Consume("k", 100, 1, period, TimePoint{}, now, false).allowed);
  counters.Add("k", 1, period, TimePoint{}, now);
  EXPECT_FALSE(counters.Consume("k", 100, 1, period, TimePoint{}, now, false).allowed);
}

TEST(WindowCountersTest, AddSaturates) {
  WindowCounters counters(16);
  const TimePoint now = FromUnixSeconds(1'000);
  const int64_t max = std::numeric_limits<int64_t>::max();
  counters.Add("k", max, std::chrono::seconds(0), TimePoint{}, now);
  counters.Add("k", max, std::chrono::seconds(0), TimePoint{}, now);
  WindowDecision decision =
      counters.Consume("k", max, 1, std::chrono::seconds(0), TimePoint{}, now, false);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.remaining, 0);
}

TEST(WindowCountersTest, AddToEarlierWindowIgnored) {
  WindowCounters counters(16);
  const std::chrono::seconds period(100);
  counters.Add("k", 10, period, TimePoint{}, FromUnixSeconds(250));
  counters.Add("k", 90, period, TimePoint{}, FromUnixSeconds(150));
  EXPECT_TRUE(
      counters.Consume("k", 11, 1, period, TimePoint{}, FromUnixSeconds(250), false).allowed);
}

class TrafficCompileTest : public TrafficTest, public ::testing::WithParamInterface<RejectCase> {};

TEST_P(TrafficCompileTest, Rejects) {
  std::string error = CompileError(GetParam().statement);
  EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TrafficCompileTest,
    ::testing::Values(
        RejectCase{"NoCalls", R"(<rate-limit-by-key renewal-period="1" counter-key="k"/>)",
                   "missing required attribute 'calls' on <rate-limit-by-key>"},
        RejectCase{"ZeroPeriod",
                   R"(<rate-limit-by-key calls="1" renewal-period="0" counter-key="k"/>)",
                   "attribute 'renewal-period'"},
        RejectCase{"QuotaNeitherLimit", R"(<quota-by-key renewal-period="60" counter-key="k"/>)",
                   "<quota-by-key> requires attribute 'calls', 'bandwidth' or both"},
        RejectCase{"BandwidthText",
                   R"(<quota-by-key bandwidth="ten" renewal-period="60" counter-key="k"/>)",
                   "invalid value 'ten' for attribute 'bandwidth' on <quota-by-key>"},
        RejectCase{"BandwidthZero",
                   R"(<quota-by-key bandwidth="0" renewal-period="60" counter-key="k"/>)",
                   "invalid value '0' for attribute 'bandwidth'"},
        RejectCase{"QuotaCallsText",
                   R"(<quota-by-key calls="1.5" bandwidth="1" renewal-period="60" counter-key="k"/>)",
                   "invalid value '1.5' for attribute 'calls'"},
        RejectCase{
            "QuotaRetryHeader",
            R"(<quota-by-key calls="1" renewal-period="60" counter-key="k" retry-after-header-name="x"/>)",
            "unknown attribute 'retry-after-header-name' on <quota-by-key>"},
        RejectCase{
            "BadPeriodStart",
            R"(<quota-by-key calls="1" renewal-period="60" counter-key="k" first-period-start="yesterday"/>)",
            "use a UTC time"},
        RejectCase{"ExternalCache",
                   R"(<cache-lookup-value key="k" variable-name="v" caching-type="external"/>)",
                   "caching-type=\"external\" is not supported"},
        RejectCase{"StoreNoDuration", R"(<cache-store-value key="k" value="v"/>)",
                   "missing required attribute 'duration'"},
        RejectCase{"MissingFragment", R"(<include-fragment fragment-id="common"/>)",
                   "policy fragment 'common' was not found"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace credgate::policy
