#include "events/event_log.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "store/async_store.h"

namespace credgate::events {

namespace json = boost::json;

EventLog::EventLog(store::AsyncStore& store, const Clock& clock, WebhookDispatcher* webhooks,
                   Options options)
    : store_(store), clock_(clock), webhooks_(webhooks), options_(options) {}

boost::asio::awaitable<void> EventLog::Record(ConnectionEvent event) {
  event.time_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  event.id.clear();
  // The stored body has no id: the store assigns it, and List() adds it back.
  json::object body = EventToJson(event);
  body.erase("id");
  std::vector<std::string> webhooks;
  if (webhooks_ != nullptr) webhooks = webhooks_->webhook_keys();
  auto append = [body_json = json::serialize(body), created_at = event.time_ms,
                 retain = options_.retain, webhooks = std::move(webhooks)](store::Store& s) {
    return s.AppendEvent(body_json, created_at, retain, webhooks);
  };
  auto stored = co_await store_.Run(std::move(append));
  if (!stored.ok()) {
    counters_.record_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("connection event not recorded type={} connection={}/{}: {}",
                  EventTypeName(event.type), event.provider, event.connection,
                  stored.error().message);
    co_return;
  }
  counters_.recorded.fetch_add(1, std::memory_order_relaxed);
  event.id = std::to_string(stored->id);
  spdlog::info("connection event recorded id={} type={} connection={}/{} status={}", event.id,
               EventTypeName(event.type), event.provider, event.connection, event.status);
  if (webhooks_ != nullptr) webhooks_->Wake();
}

boost::asio::awaitable<Result<json::object>> EventLog::List(int64_t after, int64_t limit) {
  auto list = [after, limit](store::Store& s) { return s.ListEvents(after, limit); };
  auto records = co_await store_.Run(std::move(list));
  if (!records.ok()) co_return records.error();
  json::array value;
  int64_t next = after;
  for (const store::EventRecord& record : *records) {
    next = record.id;
    auto event = StoredEventToJson(record.id, record.body_json);
    if (!event.ok()) {
      spdlog::error("connection event left out of GET /events: {}", event.error().message);
      continue;
    }
    value.push_back(std::move(*event));
  }
  json::object page;
  page["value"] = std::move(value);
  page["nextCursor"] = std::to_string(next);
  co_return page;
}

}  // namespace credgate::events
