// WebhookDispatcher: delivers the webhook outbox of the store (store.h, "webhook outbox") to the
// configured webhook URLs, in the background and never on the path of the request or refresh
// that caused an event.
//
// EventLog appends each event together with one outbox row per webhook (webhook_keys()), in one
// transaction, and then calls Wake(). The dispatcher reads the outbox at once after a Wake() and
// otherwise every Options::poll_interval, so it also finds rows that another gateway, or this
// gateway before a restart, left behind. Each row it takes is leased to Options::holder for the
// attempt timeout plus Options::lease_margin, so on a shared PostgreSQL database one gateway at a
// time delivers it.
//
// An attempt is POST <url> with the JSON event (connection_event.h) as its body and the headers
// of webhook_signature.h. A 2xx response ends the delivery and deletes the row. Any other
// status, a timeout or a connection failure stores the attempt count and the time of the next
// attempt (NextRetryDelay()), and ends the lease. After RetrySchedule::max_attempts the row is
// deleted and the delivery counted as given up. Attempts run concurrently, so a receiver may get
// events out of order: the event id orders them. A receiver may also get an event twice: when a
// gateway stops after the receiver accepted but before the row was deleted, or when an attempt
// outlives its lease.
//
// Logs name a webhook by its origin (scheme, host and port) only, because webhook URLs often
// carry a secret in their path or query.
//
// Thread-safe. Wake() may be called from any thread. The coroutines run on `executor` and share
// their state with the dispatcher, so destroying the dispatcher before the executor has stopped
// leaves them to finish on their own. `store`, `client` and `clock` must outlive the executor.
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

namespace credgate::store {
class AsyncStore;
struct WebhookDelivery;
}  // namespace credgate::store

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
    // How often the outbox is read when no Wake() comes.
    std::chrono::milliseconds poll_interval{2'000};
    // A lease lasts the attempt timeout plus this, which covers the store writes after it.
    std::chrono::milliseconds lease_margin{10'000};
    // The maximum number of attempts in flight at once. Further due rows wait in the outbox.
    int64_t max_in_flight = 100;
    // The lease holder: the gateway's instance id, unique in the cluster.
    std::string holder = "credgate";
  };

  // Deliveries by outcome, for metrics.
  struct Counters {
    uint64_t delivered = 0;       // Answered 2xx.
    uint64_t retried = 0;         // Attempts that failed and were scheduled again.
    uint64_t given_up = 0;        // Deleted after the last attempt failed.
    uint64_t store_failures = 0;  // Outbox reads and writes that the store rejected.
  };

  WebhookDispatcher(boost::asio::any_io_executor executor, store::AsyncStore& store,
                    http::HttpClient& client, const Clock& clock,
                    std::vector<WebhookTarget> targets, Options options);

  // The outbox key of each target, in target order: the hex SHA-256 of its URL, so that the
  // database never contains a URL, which may carry a secret.
  const std::vector<std::string>& webhook_keys() const;

  // Starts reading the outbox. Call once.
  void Start();
  // Reads the outbox soon, without waiting for the poll interval.
  void Wake();
  // Stops taking rows from the outbox. Attempts in flight go on, and Drained() waits for them.
  void Stop();
  // Waits until no attempt is in flight and returns true, or returns false once `deadline` has
  // passed. Rows of attempts still in flight stay leased, and once the lease ends they are taken
  // again, by this gateway after a restart or by another one.
  boost::asio::awaitable<bool> Drained(std::chrono::milliseconds deadline);

  Counters GetCounters() const;
  size_t target_count() const;

 private:
  struct State;
  static boost::asio::awaitable<void> Poll(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> ClaimDue(std::shared_ptr<State> state);
  static boost::asio::awaitable<void> DeliverOne(std::shared_ptr<State> state, size_t target,
                                                 store::WebhookDelivery delivery);

  std::shared_ptr<State> state_;
};

// Returns "scheme://host[:port]" of `url`, the name under which logs mention a webhook.
std::string WebhookOrigin(std::string_view url);

// Returns the outbox key of a webhook: the lowercase hex SHA-256 of its URL.
std::string WebhookKey(std::string_view url);

}  // namespace credgate::events
