// PostgresChangeFeed against the test server: notifications of another store instance's writes,
// and a resync after the listening connection is lost.
#include "store/postgres_change_feed.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "store_backend_fixture.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

using std::chrono::milliseconds;

constexpr char kProvider[] = "authorizationProvider";

// Collects the changes a feed delivers. Each test has a channel of its own, and the check of the
// key prefix guards against a store that ignores its channel option.
class ChangeCollector {
 public:
  explicit ChangeCollector(std::string prefix) : prefix_(std::move(prefix)) {}

  void Add(StoreChange change) {
    if (change.type != StoreChange::Type::kResync && !change.key.starts_with(prefix_)) return;
    std::lock_guard lock(mutex_);
    changes_.push_back(std::move(change));
    added_.notify_all();
  }

  // Returns the next change, or kResync with key "timeout" when none comes within `timeout`.
  StoreChange Next(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!added_.wait_for(lock, timeout, [this] { return !changes_.empty(); })) {
      return StoreChange{.type = StoreChange::Type::kResync, .key = "timeout"};
    }
    StoreChange change = std::move(changes_.front());
    changes_.pop_front();
    return change;
  }

 private:
  const std::string prefix_;
  std::mutex mutex_;
  std::condition_variable added_;
  std::deque<StoreChange> changes_;
};

class PostgresChangeFeedTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    prefix_ = "feeds/" + schema_;
    collector_ = std::make_unique<ChangeCollector>(prefix_);
    feed_ = std::make_unique<PostgresChangeFeed>(
        PostgresChangeFeedOptions{.url = PostgresTestUrl(),
                                  .application_name = FeedName(),
                                  .channel = schema_,
                                  .min_backoff = milliseconds(50)});
    Status started = feed_->Start([this](StoreChange change) { collector_->Add(change); });
    ASSERT_TRUE(started.ok()) << started.error().message;
    PostgresStoreOptions options = PostgresOptions();
    options.change_channel = schema_;
    auto writer = PostgresStore::Open(options);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    writer_ = std::move(*writer);
  }

  void TearDown() override {
    if (feed_ != nullptr) feed_->Stop();
    StoreBackendTest::TearDown();
  }

  std::string FeedName() const { return (schema_ + "_feed").substr(0, 63); }

  std::string prefix_;
  std::unique_ptr<ChangeCollector> collector_;
  std::unique_ptr<PostgresChangeFeed> feed_;
  std::unique_ptr<Store> writer_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresChangeFeedTest,
                         ::testing::Values(StoreBackend::kPostgres), StoreBackendName);

TEST_P(PostgresChangeFeedTest, DeliversPutWithinASecond) {
  ASSERT_TRUE(writer_->Put(Resource(kProvider, prefix_ + "/github", "")).ok());
  StoreChange change = collector_->Next(milliseconds(1000));
  EXPECT_EQ(change.type, StoreChange::Type::kResourcePut);
  EXPECT_EQ(change.kind, kProvider);
  EXPECT_EQ(change.key, prefix_ + "/github");
  EXPECT_EQ(change.version, 1);
}

TEST_P(PostgresChangeFeedTest, DeliversEveryWriteInOrder) {
  const std::string key = prefix_ + "/github/connections/alice";
  ASSERT_TRUE(writer_->PutTokens(Tokens(key, "v1"), std::nullopt).ok());
  ASSERT_TRUE(writer_->CommitRefresh(Tokens(key, "v2"), 1).ok());
  ASSERT_TRUE(writer_->DeleteTokens(key).ok());
  ASSERT_TRUE(writer_->Put(Resource(kProvider, prefix_ + "/github", "")).ok());
  ASSERT_TRUE(writer_->DeleteTree(prefix_ + "/github").ok());

  StoreChange first = collector_->Next(milliseconds(1000));
  EXPECT_EQ(first.type, StoreChange::Type::kTokensPut);
  EXPECT_EQ(first.version, 1);
  StoreChange second = collector_->Next(milliseconds(1000));
  EXPECT_EQ(second.type, StoreChange::Type::kTokensPut);
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(collector_->Next(milliseconds(1000)).type, StoreChange::Type::kTokensDeleted);
  EXPECT_EQ(collector_->Next(milliseconds(1000)).type, StoreChange::Type::kResourcePut);
  StoreChange deleted = collector_->Next(milliseconds(1000));
  EXPECT_EQ(deleted.type, StoreChange::Type::kTreeDeleted);
  EXPECT_EQ(deleted.key, prefix_ + "/github");
}

TEST_P(PostgresChangeFeedTest, FailedWriteSendsNothing) {
  const std::string key = prefix_ + "/github/connections/alice";
  ASSERT_TRUE(writer_->PutTokens(Tokens(key, "v1"), std::nullopt).ok());
  ASSERT_EQ(collector_->Next(milliseconds(1000)).type, StoreChange::Type::kTokensPut);

  auto stale = writer_->PutTokens(Tokens(key, "lost"), 7);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(collector_->Next(milliseconds(300)).key, "timeout");
}

TEST_P(PostgresChangeFeedTest, IgnoresOtherChannels) {
  auto other = OpenStore();  // Sends on the default channel.
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Put(Resource(kProvider, prefix_ + "/elsewhere", "")).ok());
  EXPECT_EQ(collector_->Next(milliseconds(300)).key, "timeout");
}

TEST_P(PostgresChangeFeedTest, ResyncAfterConnectionTerminated) {
  ASSERT_EQ(TerminateBackends(FeedName()), 1);
  StoreChange resync = collector_->Next(milliseconds(3000));
  EXPECT_EQ(resync.type, StoreChange::Type::kResync);
  EXPECT_TRUE(resync.key.empty());

  // The feed listens again on its new connection.
  ASSERT_TRUE(writer_->Put(Resource(kProvider, prefix_ + "/after", "")).ok());
  StoreChange change = collector_->Next(milliseconds(1000));
  EXPECT_EQ(change.type, StoreChange::Type::kResourcePut);
  EXPECT_EQ(change.key, prefix_ + "/after");
}

TEST_P(PostgresChangeFeedTest, StopIsPrompt) {
  const auto started = std::chrono::steady_clock::now();
  feed_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
}

TEST_P(PostgresChangeFeedTest, StartFailsWhenUnreachable) {
  PostgresChangeFeed feed({.url = "postgresql://u:feed-pw-33@127.0.0.1:1/credgate"});
  Status started = feed.Start([](StoreChange) {});
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(started.error().message.find("feed-pw-33"), std::string::npos);
}

}  // namespace
}  // namespace credgate::store
