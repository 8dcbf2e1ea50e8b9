#include "events/webhook_dispatcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <deque>
#include <filesystem>
#include <limits>
#include <mutex>

#include "store/async_store.h"
#include "store/sqlite_store.h"

namespace credgate::events {
namespace {

using std::chrono::milliseconds;

// Responds to each request with the next scripted status (0 fails the call as unreachable),
// and with the last one to every later request.
class ScriptedClient final : public http::HttpClient {
 public:
  explicit ScriptedClient(std::deque<int> statuses) : statuses_(std::move(statuses)) {}

  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    const int status = statuses_.front();
    if (statuses_.size() > 1) statuses_.pop_front();
    if (status == 0) co_return MakeError(ErrorCode::kUnavailable, "connection refused");
    http::ClientResponse response;
    response.status = status;
    co_return response;
  }

  std::vector<http::ClientRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<int> statuses_;
  std::vector<http::ClientRequest> requests_;
};

std::string_view HeaderOf(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

// A dispatcher on a SqliteStore in a temporary folder, with a fake clock that the run loop
// advances by one second every 5 ms, so retries come due at once.
class WebhookDispatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-webhooks-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    auto opened = store::SqliteStore::Open({.path = (folder_ / "credgate.db").string()});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::make_unique<store::AsyncStore>(std::move(*opened));
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(folder_);
  }

  std::unique_ptr<WebhookDispatcher> MakeDispatcher(ScriptedClient& client, int max_attempts = 4,
                                                    milliseconds poll_interval = milliseconds(5)) {
    std::vector<WebhookTarget> targets;
    targets.push_back(WebhookTarget{kUrl, Secret(kSecret)});
    WebhookDispatcher::Options options;
    options.retry.max_attempts = max_attempts;
    options.retry.initial_delay = milliseconds(1);
    options.retry.max_delay = milliseconds(4);
    options.poll_interval = poll_interval;
    // Long enough that no lease ends while the test runs, whatever the machine's load.
    options.lease_margin = std::chrono::hours(24);
    options.holder = "test-gateway";
    return std::make_unique<WebhookDispatcher>(io_.get_executor(), *store_, client, clock_,
                                               std::move(targets), options);
  }

  // Appends a "deleted" event for github/alice with a delivery to the test webhook, as
  // EventLog::Record does, and returns its id.
  int64_t AppendEvent() {
    ConnectionEvent event;
    event.type = EventType::kDeleted;
    event.time_ms = 1'700'000'000'000;
    event.provider = "github";
    event.connection = "alice";
    event.status = "Deleted";
    boost::json::object body = EventToJson(event);
    body.erase("id");
    const std::vector<std::string> webhooks = {WebhookKey(kUrl)};
    auto appended = store_->blocking_store().AppendEvent(boost::json::serialize(body),
                                                         event.time_ms, 100, webhooks);
    EXPECT_TRUE(appended.ok()) << appended.error().message;
    return appended.ok() ? appended->id : 0;
  }

  // Returns the number of outbox rows for the test webhook, whatever their lease or due time. It
  // claims them for good, so a test calls it only after its dispatchers have stopped.
  size_t OutboxSize() {
    auto rows = store_->blocking_store().ClaimWebhookDeliveries(
        WebhookKey(kUrl), "outbox-check", std::numeric_limits<int64_t>::max() / 2, 1, 1000);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? rows->size() : 0;
  }

  // Runs the io_context until `done` returns true, for at most about ten seconds.
  template <class Done>
  bool RunUntil(Done done) {
    for (int i = 0; i < 2000; ++i) {
      if (done()) return true;
      io_.restart();
      io_.run_for(milliseconds(5));
      clock_.Advance(std::chrono::seconds(1));
    }
    return done();
  }

  // Stops the dispatcher and runs until its attempts in flight have ended.
  void StopAndDrain(WebhookDispatcher& dispatcher) {
    dispatcher.Stop();
    bool drained = false;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
          drained = co_await dispatcher.Drained(std::chrono::seconds(5));
        },
        boost::asio::detached);
    EXPECT_TRUE(RunUntil([&] { return drained; }));
  }

  static constexpr char kUrl[] = "http://127.0.0.1:9/hook";
  static constexpr char kSecret[] = "webhook-secret-0123456789";
  boost::asio::io_context io_;
  FakeClock clock_;
  std::filesystem::path folder_;
  std::unique_ptr<store::AsyncStore> store_;
};

TEST_F(WebhookDispatcherTest, DeliversSignedEvent) {
  const int64_t id = AppendEvent();
  ScriptedClient client({204});
  auto dispatcher = MakeDispatcher(client);
  dispatcher->Start();
  ASSERT_TRUE(RunUntil([&] { return dispatcher->GetCounters().delivered == 1; }));
  StopAndDrain(*dispatcher);

  EXPECT_EQ(dispatcher->GetCounters().retried, 0u);
  ASSERT_EQ(client.requests().size(), 1u);
  const http::ClientRequest request = client.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, kUrl);
  EXPECT_EQ(HeaderOf(request, kEventIdHeader), std::to_string(id));
  const std::string timestamp(HeaderOf(request, kTimestampHeader));
  EXPECT_EQ(HeaderOf(request, kSignatureHeader),
            SignWebhook(Secret(kSecret), timestamp, request.body));
  auto body = boost::json::parse(request.body).as_object();
  EXPECT_EQ(body["id"].as_string(), std::to_string(id));
  EXPECT_EQ(body["type"].as_string(), "deleted");
  EXPECT_EQ(body["connection"].as_string(), "alice");
  EXPECT_EQ(OutboxSize(), 0u);
}

TEST_F(WebhookDispatcherTest, RetriesUntilSuccess) {
  AppendEvent();
  ScriptedClient client({500, 0, 200});
  auto dispatcher = MakeDispatcher(client);
  dispatcher->Start();
  ASSERT_TRUE(RunUntil([&] { return dispatcher->GetCounters().delivered == 1; }));
  StopAndDrain(*dispatcher);

  EXPECT_EQ(client.requests().size(), 3u);
  EXPECT_EQ(dispatcher->GetCounters().retried, 2u);
  EXPECT_EQ(dispatcher->GetCounters().given_up, 0u);
  EXPECT_EQ(OutboxSize(), 0u);
}

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  AppendEvent();
  ScriptedClient client({503});
  auto dispatcher = MakeDispatcher(client, 3);
  dispatcher->Start();
  ASSERT_TRUE(RunUntil([&] { return dispatcher->GetCounters().given_up == 1; }));
  StopAndDrain(*dispatcher);

  EXPECT_EQ(client.requests().size(), 3u);
  EXPECT_EQ(dispatcher->GetCounters().retried, 2u);
  EXPECT_EQ(dispatcher->GetCounters().delivered, 0u);
  EXPECT_EQ(OutboxSize(), 0u);
}

// A restart: the first dispatcher stops while the receiver is unreachable, and a new one on the
// same store delivers what was left.
TEST_F(WebhookDispatcherTest, NextDispatcherTakesOverOutbox) {
  AppendEvent();
  ScriptedClient unreachable({0});
  // Retries come milliseconds apart, so a loaded machine may see several before the poll. The
  // high attempt limit keeps the first dispatcher from giving up meanwhile.
  auto first = MakeDispatcher(unreachable, 1000);
  first->Start();
  ASSERT_TRUE(RunUntil([&] { return first->GetCounters().retried >= 1; }));
  StopAndDrain(*first);
  EXPECT_EQ(first->GetCounters().given_up, 0u);
  first.reset();
  ASSERT_GE(unreachable.requests().size(), 1u);

  ScriptedClient receiver({204});
  auto second = MakeDispatcher(receiver, 6);
  second->Start();
  ASSERT_TRUE(RunUntil([&] { return second->GetCounters().delivered == 1; }));
  StopAndDrain(*second);
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(OutboxSize(), 0u);
}

TEST_F(WebhookDispatcherTest, WakeDeliversBeforeNextPoll) {
  ScriptedClient client({204});
  auto dispatcher = MakeDispatcher(client, 4, std::chrono::hours(1));
  dispatcher->Start();
  // The first poll finds the outbox empty, and the next one is an hour away.
  io_.run_for(milliseconds(50));
  AppendEvent();
  dispatcher->Wake();
  ASSERT_TRUE(RunUntil([&] { return dispatcher->GetCounters().delivered == 1; }));
  StopAndDrain(*dispatcher);
}

TEST(WebhookKeyTest, IsHexSha256OfUrl) {
  const std::string key = WebhookKey("https://hooks.example.com/a");
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(key, WebhookKey("https://hooks.example.com/b"));
  EXPECT_EQ(key.find("example"), std::string::npos);
}

TEST(WebhookOriginTest, HidesPathQueryAndUserInfo) {
  EXPECT_EQ(WebhookOrigin("https://hooks.example.com/T000/B000/secretpart?x=1"),
            "https://hooks.example.com");
  EXPECT_EQ(WebhookOrigin("http://user:pass@127.0.0.1:8080/hook"), "http://127.0.0.1:8080");
  EXPECT_EQ(WebhookOrigin("http://[::1]:8080"), "http://[::1]:8080");
}

}  // namespace
}  // namespace credgate::events
