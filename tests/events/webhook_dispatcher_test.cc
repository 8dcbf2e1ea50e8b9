#include "events/webhook_dispatcher.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <deque>
#include <mutex>

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

class FixedClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::seconds(1'700'000'000)); }
};

std::string_view HeaderOf(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

class WebhookDispatcherTest : public testing::Test {
 protected:
  // Delivers one event to one webhook whose client returns `statuses`, and runs until it ends.
  WebhookDispatcher::Counters DeliverOnce(ScriptedClient& client, int max_attempts = 4) {
    std::vector<WebhookTarget> targets;
    targets.push_back(WebhookTarget{"http://127.0.0.1:9/hook", Secret(kSecret)});
    WebhookDispatcher::Options options;
    options.retry.max_attempts = max_attempts;
    options.retry.initial_delay = milliseconds(1);
    options.retry.max_delay = milliseconds(4);
    WebhookDispatcher dispatcher(io_.get_executor(), client, clock_, std::move(targets), options);
    ConnectionEvent event;
    event.id = "7";
    event.type = EventType::kDeleted;
    event.provider = "github";
    event.connection = "alice";
    event.status = "Deleted";
    dispatcher.Deliver(event);
    io_.run();
    return dispatcher.GetCounters();
  }

  static constexpr char kSecret[] = "webhook-secret-0123456789";
  boost::asio::io_context io_;
  FixedClock clock_;
};

TEST_F(WebhookDispatcherTest, DeliversSignedEvent) {
  ScriptedClient client({204});
  WebhookDispatcher::Counters counters = DeliverOnce(client);
  EXPECT_EQ(counters.delivered, 1u);
  EXPECT_EQ(counters.retried, 0u);
  ASSERT_EQ(client.requests().size(), 1u);
  const http::ClientRequest request = client.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(HeaderOf(request, kTimestampHeader), "1700000000");
  EXPECT_EQ(HeaderOf(request, kEventIdHeader), "7");
  EXPECT_EQ(HeaderOf(request, kSignatureHeader),
            SignWebhook(Secret(kSecret), "1700000000", request.body));
  auto body = boost::json::parse(request.body).as_object();
  EXPECT_EQ(body["type"].as_string(), "deleted");
  EXPECT_EQ(body["connection"].as_string(), "alice");
}

TEST_F(WebhookDispatcherTest, RetriesUntilSuccess) {
  ScriptedClient client({500, 0, 200});
  WebhookDispatcher::Counters counters = DeliverOnce(client);
  EXPECT_EQ(client.requests().size(), 3u);
  EXPECT_EQ(counters.retried, 2u);
  EXPECT_EQ(counters.delivered, 1u);
  EXPECT_EQ(counters.failed, 0u);
}

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  ScriptedClient client({503});
  WebhookDispatcher::Counters counters = DeliverOnce(client, 3);
  EXPECT_EQ(client.requests().size(), 3u);
  EXPECT_EQ(counters.retried, 2u);
  EXPECT_EQ(counters.failed, 1u);
  EXPECT_EQ(counters.delivered, 0u);
}

TEST(WebhookOriginTest, HidesPathQueryAndUserInfo) {
  EXPECT_EQ(WebhookOrigin("https://hooks.example.com/T000/B000/secretpart?x=1"),
            "https://hooks.example.com");
  EXPECT_EQ(WebhookOrigin("http://user:pass@127.0.0.1:8080/hook"), "http://127.0.0.1:8080");
  EXPECT_EQ(WebhookOrigin("http://[::1]:8080"), "http://[::1]:8080");
}

}  // namespace
}  // namespace credgate::events
