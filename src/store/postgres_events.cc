// The connection events and the webhook outbox of PostgresStore.
//
// PostgreSQL takes an identity value when the row is inserted, not when it commits. Without a
// lock two gateways could therefore commit ids 8 and 7 in that order, and a reader between the two
// commits would pass over 7 for good. So AppendEvent first takes a transaction-scoped advisory
// lock: appends run one at a time across the cluster, each commits before the next one takes its
// id, and ids become visible in id order.
//
// ClaimWebhookDeliveries locks the due rows with FOR UPDATE SKIP LOCKED, so two gateways that
// claim at once get different rows instead of waiting for each other.
#include "store/postgres_store.h"
#include "store/postgres_transaction.h"

namespace credgate::store {

namespace {

const std::string kLockEvents =
    "SELECT pg_advisory_xact_lock(" + std::to_string(kEventLockKey) + ")";

}  // namespace

Result<EventRecord> PostgresStore::AppendEvent(std::string_view body_json, int64_t created_at,
                                               int64_t retain,
                                               std::span<const std::string> webhooks) {
  constexpr std::string_view kOperation = "AppendEvent";
  const PgParam params[] = {PgParam::Text(body_json), PgParam::Int64(created_at)};
  return RunWrite(*pool_, kOperation, [&](PostgresConnection& connection) -> Result<EventRecord> {
    auto locked = connection.Execute(kLockEvents, kOperation);
    if (!locked.ok()) return locked.error();
    auto inserted = connection.Execute(
        "INSERT INTO events (body_json, created_at) VALUES ($1, $2) RETURNING id", params,
        kOperation);
    if (!inserted.ok()) return inserted.error();
    EventRecord record{inserted->Int64(0, 0), std::string(body_json), created_at};

    for (const std::string& webhook : webhooks) {
      const PgParam outbox_params[] = {PgParam::Int64(record.id), PgParam::Text(webhook),
                                       PgParam::Int64(created_at)};
      auto outbox = connection.Execute(
          "INSERT INTO webhook_outbox (event_id, webhook, next_attempt_ms) VALUES ($1, $2, $3)",
          outbox_params, kOperation);
      if (!outbox.ok()) return outbox.error();
    }

    const PgParam prune_params[] = {PgParam::Int64(record.id - retain)};
    auto pruned = connection.Execute("DELETE FROM events WHERE id <= $1", prune_params, kOperation);
    if (!pruned.ok()) return pruned.error();
    auto pruned_outbox = connection.Execute("DELETE FROM webhook_outbox WHERE event_id <= $1",
                                            prune_params, kOperation);
    if (!pruned_outbox.ok()) return pruned_outbox.error();
    return record;
  });
}

Result<std::vector<EventRecord>> PostgresStore::ListEvents(int64_t after_id, int64_t limit) {
  constexpr std::string_view kOperation = "ListEvents";
  const PgParam params[] = {PgParam::Int64(after_id), PgParam::Int64(limit)};
  return RunRead(
      *pool_, kOperation, [&](PostgresConnection& connection) -> Result<std::vector<EventRecord>> {
        auto rows = connection.Execute(
            "SELECT id, body_json, created_at FROM events WHERE id > $1 "
            "ORDER BY id LIMIT $2",
            params, kOperation);
        if (!rows.ok()) return rows.error();
        std::vector<EventRecord> records;
        for (int row = 0; row < rows->rows(); ++row) {
          records.push_back(
              EventRecord{rows->Int64(row, 0), rows->Bytes(row, 1), rows->Int64(row, 2)});
        }
        return records;
      });
}

Result<std::vector<WebhookDelivery>> PostgresStore::ClaimWebhookDeliveries(std::string_view webhook,
                                                                           std::string_view holder,
                                                                           int64_t now_ms,
                                                                           int64_t lease_ms,
                                                                           int64_t limit) {
  if (holder.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a webhook delivery lease needs a holder name");
  }
  constexpr std::string_view kOperation = "ClaimWebhookDeliveries";
  const PgParam params[] = {PgParam::Text(webhook), PgParam::Int64(now_ms), PgParam::Int64(limit),
                            PgParam::Text(holder), PgParam::Int64(now_ms + lease_ms)};
  return RunWrite(*pool_, kOperation,
                  [&](PostgresConnection& connection) -> Result<std::vector<WebhookDelivery>> {
                    auto rows = connection.Execute(
                        "WITH due AS (SELECT event_id FROM webhook_outbox "
                        "WHERE webhook = $1 AND next_attempt_ms <= $2 AND lease_expires_ms <= $2 "
                        "ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED), "
                        "claimed AS (UPDATE webhook_outbox o SET lease_holder = $4, "
                        "lease_expires_ms = $5 FROM due "
                        "WHERE o.webhook = $1 AND o.event_id = due.event_id "
                        "RETURNING o.event_id, o.attempts) "
                        "SELECT c.event_id, c.attempts, e.body_json, e.created_at FROM claimed c "
                        "JOIN events e ON e.id = c.event_id ORDER BY c.event_id",
                        params, kOperation);
                    if (!rows.ok()) return rows.error();
                    std::vector<WebhookDelivery> claimed;
                    for (int row = 0; row < rows->rows(); ++row) {
                      claimed.push_back(WebhookDelivery{rows->Int64(row, 0), std::string(webhook),
                                                        rows->Int64(row, 1), rows->Bytes(row, 2),
                                                        rows->Int64(row, 3)});
                    }
                    return claimed;
                  });
}

Result<bool> PostgresStore::FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                  std::string_view holder) {
  const std::string operation = "FinishWebhookDelivery of event " + std::to_string(event_id);
  const PgParam params[] = {PgParam::Int64(event_id), PgParam::Text(webhook),
                            PgParam::Text(holder)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto deleted = connection.Execute(
        "DELETE FROM webhook_outbox WHERE event_id = $1 AND webhook = $2 AND lease_holder = $3",
        params, operation);
    if (!deleted.ok()) return deleted.error();
    return deleted->AffectedRows() > 0;
  });
}

Result<bool> PostgresStore::RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                      std::string_view holder, int64_t attempts,
                                                      int64_t next_attempt_ms) {
  const std::string operation = "RescheduleWebhookDelivery of event " + std::to_string(event_id);
  const PgParam params[] = {PgParam::Int64(event_id), PgParam::Text(webhook), PgParam::Text(holder),
                            PgParam::Int64(attempts), PgParam::Int64(next_attempt_ms)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto rescheduled = connection.Execute(
        "UPDATE webhook_outbox SET attempts = $4, next_attempt_ms = $5, lease_holder = '', "
        "lease_expires_ms = 0 WHERE event_id = $1 AND webhook = $2 AND lease_holder = $3",
        params, operation);
    if (!rescheduled.ok()) return rescheduled.error();
    return rescheduled->AffectedRows() > 0;
  });
}

}  // namespace credgate::store
