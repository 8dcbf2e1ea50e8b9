// EventLog: records connection events (connection_event.h) in the store, together with one
// webhook outbox row per configured webhook, and wakes the webhook dispatcher. The store assigns
// each event its id, so on a shared PostgreSQL database every gateway lists the same events under
// the same ids, and a GET /events cursor works on any of them.
//
// Thread-safe. `store`, `clock` and `webhooks` (may be null) must outlive it.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>

#include "common/clock.h"
#include "common/result.h"
#include "events/connection_event.h"
#include "events/webhook_dispatcher.h"

namespace credgate::store {
class AsyncStore;
}

namespace credgate::events {

class EventLog {
 public:
  struct Options {
    // The store keeps about this many of the newest events; older ones leave GET /events.
    int64_t retain = 10'000;
  };

  struct Counters {
    std::atomic<uint64_t> recorded{0};
    std::atomic<uint64_t> record_failures{0};  // The store write failed: the event is lost.
  };

  EventLog(store::AsyncStore& store, const Clock& clock, WebhookDispatcher* webhooks,
           Options options);

  // Sets event.time_ms, stores the event with its webhook deliveries in one transaction, and
  // wakes the webhooks. A store failure is logged and counted, and the event is then neither
  // listed nor delivered.
  boost::asio::awaitable<void> Record(ConnectionEvent event);

  // Returns {"value": [events with an id above `after`, oldest first, at most `limit`],
  // "nextCursor": the last listed id, or `after` when none}. Errors: those of the store.
  boost::asio::awaitable<Result<boost::json::object>> List(int64_t after, int64_t limit);

  const Counters& counters() const { return counters_; }

 private:
  store::AsyncStore& store_;
  const Clock& clock_;
  WebhookDispatcher* webhooks_;
  const Options options_;
  Counters counters_;
};

}  // namespace credgate::events
