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
  auto append = [body_json = json::serialize(body), created_at = event.time_ms,
                 retain = options_.retain](store::Store& s) {
    return s.AppendEvent(body_json, created_at, retain);
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
  if (webhooks_ != nullptr) webhooks_->Deliver(event);
}

boost::asio::awaitable<Result<json::object>> EventLog::List(int64_t after, int64_t limit) {
  auto list = [after, limit](store::Store& s) { return s.ListEvents(after, limit); };
  auto records = co_await store_.Run(std::move(list));
  if (!records.ok()) co_return records.error();
  json::array value;
  int64_t next = after;
  for (const store::EventRecord& record : *records) {
    json::error_code error;
    json::value parsed = json::parse(record.body_json, error);
    next = record.id;
    if (error || !parsed.is_object()) {
      spdlog::error("stored connection event is not a JSON object id={}", record.id);
      continue;
    }
    json::object event;
    event["id"] = std::to_string(record.id);
    for (auto& [key, field] : parsed.as_object()) event[key] = std::move(field);
    value.push_back(std::move(event));
  }
  json::object page;
  page["value"] = std::move(value);
  page["nextCursor"] = std::to_string(next);
  co_return page;
}

}  // namespace credgate::events
