#include "events/webhook_dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

namespace credgate::events {

namespace asio = boost::asio;

struct WebhookDispatcher::State {
  asio::any_io_executor executor;
  http::HttpClient& client;
  const Clock& clock;
  std::vector<WebhookTarget> targets;
  std::vector<std::string> origins;  // Parallel to targets.
  Options options;
  std::atomic<bool> stopped{false};
  std::atomic<size_t> pending{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> dropped{0};
};

std::string WebhookOrigin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "invalid URL";
  const size_t authority_end = url.find_first_of("/?#", scheme_end + 3);
  std::string_view origin = url.substr(0, authority_end);
  // Drop user information, which may be a password.
  const size_t at = origin.find('@', scheme_end + 3);
  if (at == std::string_view::npos) return std::string(origin);
  return std::string(origin.substr(0, scheme_end + 3)) + std::string(origin.substr(at + 1));
}

WebhookDispatcher::WebhookDispatcher(asio::any_io_executor executor, http::HttpClient& client,
                                     const Clock& clock, std::vector<WebhookTarget> targets,
                                     Options options)
    : state_(new State{std::move(executor), client, clock, std::move(targets), {}, options}) {
  for (const WebhookTarget& target : state_->targets) {
    state_->origins.push_back(WebhookOrigin(target.url));
  }
}

void WebhookDispatcher::Deliver(const ConnectionEvent& event) {
  if (state_->stopped.load(std::memory_order_relaxed)) return;
  const std::string body = boost::json::serialize(EventToJson(event));
  for (size_t target = 0; target < state_->targets.size(); ++target) {
    if (state_->pending.fetch_add(1, std::memory_order_relaxed) >= state_->options.max_pending) {
      state_->pending.fetch_sub(1, std::memory_order_relaxed);
      const uint64_t dropped = state_->dropped.fetch_add(1, std::memory_order_relaxed) + 1;
      // The first drop and every 100th after it are logged; the counter has the rest.
      if (dropped % 100 == 1) {
        spdlog::warn(
            "webhook event dropped because {} deliveries are waiting webhook={} "
            "event_id={} dropped_total={}",
            state_->options.max_pending, state_->origins[target], event.id, dropped);
      }
      continue;
    }
    asio::co_spawn(state_->executor, DeliverOne(state_, target, event.id, body), asio::detached);
  }
}

asio::awaitable<void> WebhookDispatcher::DeliverOne(std::shared_ptr<State> state, size_t target,
                                                    std::string event_id, std::string body) {
  const WebhookTarget& webhook = state->targets[target];
  const std::string& origin = state->origins[target];
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 1;; ++attempt) {
    const int64_t now_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(state->clock.Now().time_since_epoch())
            .count();
    const std::string timestamp = std::to_string(now_seconds);
    http::ClientRequest request;
    request.method = "POST";
    request.url = webhook.url;
    request.timeout = state->options.timeout;
    request.max_response_body_bytes = 64 * 1024;
    request.headers = {
        {"Content-Type", "application/json"},
        {"User-Agent", "credgate-webhook"},
        {std::string(kEventIdHeader), event_id},
        {std::string(kTimestampHeader), timestamp},
        {std::string(kSignatureHeader), SignWebhook(webhook.secret, timestamp, body)}};
    request.body = body;
    Result<http::ClientResponse> response = co_await state->client.Send(std::move(request));
    if (response.ok() && response->status >= 200 && response->status < 300) {
      state->delivered.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("webhook delivered webhook={} event_id={} attempt={}", origin, event_id,
                    attempt);
      break;
    }
    const std::string failure = response.ok() ? "HTTP status " + std::to_string(response->status)
                                              : response.error().message;
    const auto delay = NextRetryDelay(state->options.retry, attempt);
    if (!delay || state->stopped.load(std::memory_order_relaxed)) {
      state->failed.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("webhook delivery given up webhook={} event_id={} attempts={}: {}", origin,
                    event_id, attempt, failure);
      break;
    }
    state->retried.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("webhook delivery failed webhook={} event_id={} attempt={} retry_in_ms={}: {}",
                 origin, event_id, attempt, delay->count(), failure);
    timer.expires_after(*delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  state->pending.fetch_sub(1, std::memory_order_relaxed);
}

void WebhookDispatcher::Stop() { state_->stopped.store(true, std::memory_order_relaxed); }

WebhookDispatcher::Counters WebhookDispatcher::GetCounters() const {
  Counters counters;
  counters.delivered = state_->delivered.load(std::memory_order_relaxed);
  counters.retried = state_->retried.load(std::memory_order_relaxed);
  counters.failed = state_->failed.load(std::memory_order_relaxed);
  counters.dropped = state_->dropped.load(std::memory_order_relaxed);
  return counters;
}

size_t WebhookDispatcher::target_count() const { return state_->targets.size(); }

}  // namespace credgate::events
