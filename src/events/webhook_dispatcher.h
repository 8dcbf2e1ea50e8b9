// WebhookDispatcher: sends each connection event to every configured webhook URL, in the
// background and never on the path of the request or refresh that caused the event.
//
// A delivery is POST <url> with the JSON event (connection_event.h) as its body and the headers
// of webhook_signature.h. A 2xx response ends it. Any other status, a timeout or a connection
// failure is retried after NextRetryDelay(), and the delivery is given up after
// RetrySchedule::max_attempts. Deliveries run concurrently, so a receiver may get events out of
// order: the event id orders them. At most Options::max_pending deliveries wait at once; a
// further event is dropped and counted. Undelivered events are lost when the process stops, and
// GET /events still lists them.
//
// Logs name a webhook by its origin (scheme, host and port) only, because webhook URLs often
// carry a secret in their path or query.
//
// Thread-safe. Deliver() may be called from any thread. The coroutines run on `executor` and
// share their state with the dispatcher, so destroying the dispatcher before the executor has
// stopped leaves them to finish on their own; `client` and `clock` must outlive the executor.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "events/connection_event.h"
#include "events/webhook_signature.h"
#include "http/client.h"

namespace credgate::events {

struct WebhookTarget {
  std::string url;  // Absolute http:// or https:// URL.
  Secret secret;    // The HMAC key of the signature header.
};

class WebhookDispatcher {
 public:
  struct Options {
    RetrySchedule retry;
    std::chrono::milliseconds timeout{10'000};  // Per attempt.
    size_t max_pending = 1'000;
  };

  // Deliveries by outcome, for metrics.
  struct Counters {
    uint64_t delivered = 0;  // Answered 2xx.
    uint64_t retried = 0;    // Attempts that failed and were retried.
    uint64_t failed = 0;     // Given up after the last attempt.
    uint64_t dropped = 0;    // Not started because max_pending deliveries were waiting.
  };

  WebhookDispatcher(boost::asio::any_io_executor executor, http::HttpClient& client,
                    const Clock& clock, std::vector<WebhookTarget> targets, Options options);

  // Starts delivering `event` to every target and returns at once.
  void Deliver(const ConnectionEvent& event);

  // Drops later events and ends every waiting retry at its next wake-up.
  void Stop();

  Counters GetCounters() const;
  size_t target_count() const;

 private:
  struct State;
  static boost::asio::awaitable<void> DeliverOne(std::shared_ptr<State> state, size_t target,
                                                 std::string event_id, std::string body);

  std::shared_ptr<State> state_;
};

// Returns "scheme://host[:port]" of `url`, the name under which logs mention a webhook.
std::string WebhookOrigin(std::string_view url);

}  // namespace credgate::events
