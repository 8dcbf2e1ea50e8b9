#include "events/webhook_dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/hash.h"
#include "store/async_store.h"

namespace credgate::events {

namespace asio = boost::asio;

struct WebhookDispatcher::State {
  State(asio::any_io_executor executor_in, store::AsyncStore& store_in, http::HttpClient& client_in,
        const Clock& clock_in, std::vector<WebhookTarget> targets_in, Options options_in)
      : executor(std::move(executor_in)),
        strand(asio::make_strand(executor)),
        store(store_in),
        client(client_in),
        clock(clock_in),
        targets(std::move(targets_in)),
        options(std::move(options_in)),
        wake_timer(strand) {}

  asio::any_io_executor executor;
  // Runs the poll loop and every use of wake_timer, so Wake() and Stop() from other threads
  // never touch the timer while the loop does.
  asio::strand<asio::any_io_executor> strand;
  store::AsyncStore& store;
  http::HttpClient& client;
  const Clock& clock;
  std::vector<WebhookTarget> targets;
  std::vector<std::string> origins;  // Parallel to targets.
  std::vector<std::string> keys;     // Parallel to targets.
  Options options;
  asio::steady_timer wake_timer;
  std::atomic<bool> woken{false};
  std::atomic<bool> stopped{false};
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> given_up{0};
  std::atomic<uint64_t> store_failures{0};
};

namespace {

int64_t UnixMillis(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

}  // namespace

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

std::string WebhookKey(std::string_view url) { return HexEncode(Sha256String(url)); }

WebhookDispatcher::WebhookDispatcher(asio::any_io_executor executor, store::AsyncStore& store,
                                     http::HttpClient& client, const Clock& clock,
                                     std::vector<WebhookTarget> targets, Options options)
    : state_(std::make_shared<State>(std::move(executor), store, client, clock, std::move(targets),
                                     std::move(options))) {
  for (const WebhookTarget& target : state_->targets) {
    state_->origins.push_back(WebhookOrigin(target.url));
    state_->keys.push_back(WebhookKey(target.url));
  }
}

const std::vector<std::string>& WebhookDispatcher::webhook_keys() const { return state_->keys; }

void WebhookDispatcher::Start() { asio::co_spawn(state_->strand, Poll(state_), asio::detached); }

void WebhookDispatcher::Wake() {
  state_->woken.store(true, std::memory_order_relaxed);
  asio::post(state_->strand, [state = state_] { state->wake_timer.cancel(); });
}

void WebhookDispatcher::Stop() {
  state_->stopped.store(true, std::memory_order_relaxed);
  asio::post(state_->strand, [state = state_] { state->wake_timer.cancel(); });
}

asio::awaitable<bool> WebhookDispatcher::Drained(std::chrono::milliseconds deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (state_->in_flight.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < end) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const int64_t left = state_->in_flight.load(std::memory_order_relaxed);
  if (left > 0) {
    spdlog::warn("webhook deliveries still in flight at shutdown stay in the outbox count={}",
                 left);
  }
  co_return left == 0;
}

asio::awaitable<void> WebhookDispatcher::Poll(std::shared_ptr<State> state) {
  while (!state->stopped.load(std::memory_order_relaxed)) {
    state->woken.store(false, std::memory_order_relaxed);
    co_await ClaimDue(state);
    if (state->stopped.load(std::memory_order_relaxed)) break;
    // A Wake() that came during the claim may have cancelled a timer that was not waiting yet.
    if (state->woken.load(std::memory_order_relaxed)) continue;
    state->wake_timer.expires_after(state->options.poll_interval);
    co_await state->wake_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> WebhookDispatcher::ClaimDue(std::shared_ptr<State> state) {
  const int64_t lease_ms = (state->options.timeout + state->options.lease_margin).count();
  for (size_t target = 0; target < state->targets.size(); ++target) {
    const int64_t room =
        state->options.max_in_flight - state->in_flight.load(std::memory_order_relaxed);
    if (room <= 0) co_return;
    auto claim = [webhook = state->keys[target], holder = state->options.holder,
                  now_ms = UnixMillis(state->clock), lease_ms, room](store::Store& s) {
      return s.ClaimWebhookDeliveries(webhook, holder, now_ms, lease_ms, room);
    };
    auto claimed = co_await state->store.Run(std::move(claim));
    if (!claimed.ok()) {
      const uint64_t failures = state->store_failures.fetch_add(1, std::memory_order_relaxed) + 1;
      // The first failure and every 100th after it are logged, and the counter has the rest.
      if (failures % 100 == 1) {
        spdlog::error("webhook outbox read failed webhook={} failures_total={}: {}",
                      state->origins[target], failures, claimed.error().message);
      }
      continue;
    }
    for (store::WebhookDelivery& delivery : *claimed) {
      state->in_flight.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(state->executor, DeliverOne(state, target, std::move(delivery)),
                     asio::detached);
    }
  }
}

asio::awaitable<void> WebhookDispatcher::DeliverOne(std::shared_ptr<State> state, size_t target,
                                                    store::WebhookDelivery delivery) {
  const WebhookTarget& webhook = state->targets[target];
  const std::string& origin = state->origins[target];
  const std::string event_id = std::to_string(delivery.event_id);
  int64_t attempt = delivery.attempts + 1;
  bool succeeded = false;
  std::string failure;

  auto event = StoredEventToJson(delivery.event_id, delivery.body_json);
  if (!event.ok()) {
    // A body that does not parse never will, so the delivery is given up at once.
    failure = event.error().message;
    attempt = state->options.retry.max_attempts;
  } else {
    const std::string body = boost::json::serialize(*event);
    const std::string timestamp = std::to_string(UnixMillis(state->clock) / 1000);
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
    succeeded = response.ok() && response->status >= 200 && response->status < 300;
    if (!succeeded) {
      failure = response.ok() ? "HTTP status " + std::to_string(response->status)
                              : response.error().message;
    }
  }

  std::optional<std::chrono::milliseconds> delay;
  if (!succeeded) delay = NextRetryDelay(state->options.retry, static_cast<int>(attempt));
  Result<bool> stored = false;
  if (delay) {
    auto reschedule = [id = delivery.event_id, webhook_key = delivery.webhook,
                       holder = state->options.holder, attempt,
                       next_ms = UnixMillis(state->clock) + delay->count()](store::Store& s) {
      return s.RescheduleWebhookDelivery(id, webhook_key, holder, attempt, next_ms);
    };
    stored = co_await state->store.Run(std::move(reschedule));
    state->retried.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("webhook delivery failed webhook={} event_id={} attempt={} retry_in_ms={}: {}",
                 origin, event_id, attempt, delay->count(), failure);
  } else {
    auto finish = [id = delivery.event_id, webhook_key = delivery.webhook,
                   holder = state->options.holder](store::Store& s) {
      return s.FinishWebhookDelivery(id, webhook_key, holder);
    };
    stored = co_await state->store.Run(std::move(finish));
    if (succeeded) {
      state->delivered.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("webhook delivered webhook={} event_id={} attempt={}", origin, event_id,
                    attempt);
    } else {
      state->given_up.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("webhook delivery given up webhook={} event_id={} attempts={}: {}", origin,
                    event_id, attempt, failure);
    }
  }

  if (!stored.ok()) {
    // The lease ends on its own, and the row is attempted again then.
    state->store_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("webhook outbox write failed webhook={} event_id={}: {}", origin, event_id,
                  stored.error().message);
  } else if (!*stored) {
    spdlog::warn(
        "webhook delivery lease ended before its outcome was stored webhook={} event_id={}: "
        "another attempt may follow",
        origin, event_id);
  }
  state->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

WebhookDispatcher::Counters WebhookDispatcher::GetCounters() const {
  Counters counters;
  counters.delivered = state_->delivered.load(std::memory_order_relaxed);
  counters.retried = state_->retried.load(std::memory_order_relaxed);
  counters.given_up = state_->given_up.load(std::memory_order_relaxed);
  counters.store_failures = state_->store_failures.load(std::memory_order_relaxed);
  return counters;
}

size_t WebhookDispatcher::target_count() const { return state_->targets.size(); }

}  // namespace credgate::events
