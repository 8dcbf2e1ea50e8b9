// The connection events and the webhook outbox of SqliteStore. AppendEvent and
// ClaimWebhookDeliveries each run in one BEGIN IMMEDIATE transaction, which holds SQLite's write
// lock from its first statement. Appends therefore commit in id order, and a claim's read and its
// lease update are atomic against other processes on the same file.
#include "store/sqlite_store.h"

namespace credgate::store {

Result<EventRecord> SqliteStore::AppendEvent(std::string_view body_json, int64_t created_at,
                                             int64_t retain,
                                             std::span<const std::string> webhooks) {
  std::lock_guard lock(mutex_);
  constexpr std::string_view kOperation = "AppendEvent";
  auto transaction = SqliteTransaction::Begin(*database_, kOperation);
  if (!transaction.ok()) return transaction.error();
  auto insert = database_->Prepare(
      "INSERT INTO events (body_json, created_at) VALUES (?1, ?2) RETURNING id", kOperation);
  if (!insert.ok()) return insert.error();
  (*insert)->BindText(1, body_json);
  (*insert)->BindInt64(2, created_at);
  auto row = (*insert)->Step(kOperation);
  if (!row.ok()) return row.error();
  if (!*row) return MakeError(ErrorCode::kInternal, "AppendEvent returned no id");
  EventRecord record{(*insert)->ColumnInt64(0), std::string(body_json), created_at};
  CREDGATE_RETURN_IF_ERROR((*insert)->Run(kOperation));

  for (const std::string& webhook : webhooks) {
    auto outbox = database_->Prepare(
        "INSERT INTO webhook_outbox (event_id, webhook, next_attempt_ms) VALUES (?1, ?2, ?3)",
        kOperation);
    if (!outbox.ok()) return outbox.error();
    (*outbox)->BindInt64(1, record.id);
    (*outbox)->BindText(2, webhook);
    (*outbox)->BindInt64(3, created_at);
    CREDGATE_RETURN_IF_ERROR((*outbox)->Run(kOperation));
  }

  for (std::string_view table : {"events WHERE id", "webhook_outbox WHERE event_id"}) {
    auto prune = database_->Prepare("DELETE FROM " + std::string(table) + " <= ?1", kOperation);
    if (!prune.ok()) return prune.error();
    (*prune)->BindInt64(1, record.id - retain);
    CREDGATE_RETURN_IF_ERROR((*prune)->Run(kOperation));
  }
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());
  return record;
}

Result<std::vector<EventRecord>> SqliteStore::ListEvents(int64_t after_id, int64_t limit) {
  std::lock_guard lock(mutex_);
  auto statement = database_->Prepare(
      "SELECT id, body_json, created_at FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
      "ListEvents");
  if (!statement.ok()) return statement.error();
  (*statement)->BindInt64(1, after_id);
  (*statement)->BindInt64(2, limit);
  std::vector<EventRecord> records;
  while (true) {
    auto row = (*statement)->Step("ListEvents");
    if (!row.ok()) return row.error();
    if (!*row) break;
    records.push_back(EventRecord{(*statement)->ColumnInt64(0), (*statement)->ColumnText(1),
                                  (*statement)->ColumnInt64(2)});
  }
  return records;
}

Result<std::vector<WebhookDelivery>> SqliteStore::ClaimWebhookDeliveries(std::string_view webhook,
                                                                         std::string_view holder,
                                                                         int64_t now_ms,
                                                                         int64_t lease_ms,
                                                                         int64_t limit) {
  if (holder.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a webhook delivery lease needs a holder name");
  }
  std::lock_guard lock(mutex_);
  constexpr std::string_view kOperation = "ClaimWebhookDeliveries";
  auto transaction = SqliteTransaction::Begin(*database_, kOperation);
  if (!transaction.ok()) return transaction.error();

  std::vector<WebhookDelivery> claimed;
  {
    auto due = database_->Prepare(
        "SELECT o.event_id, o.attempts, e.body_json, e.created_at FROM webhook_outbox o "
        "JOIN events e ON e.id = o.event_id "
        "WHERE o.webhook = ?1 AND o.next_attempt_ms <= ?2 AND o.lease_expires_ms <= ?2 "
        "ORDER BY o.event_id LIMIT ?3",
        kOperation);
    if (!due.ok()) return due.error();
    (*due)->BindText(1, webhook);
    (*due)->BindInt64(2, now_ms);
    (*due)->BindInt64(3, limit);
    while (true) {
      auto row = (*due)->Step(kOperation);
      if (!row.ok()) return row.error();
      if (!*row) break;
      claimed.push_back(WebhookDelivery{(*due)->ColumnInt64(0), std::string(webhook),
                                        (*due)->ColumnInt64(1), (*due)->ColumnText(2),
                                        (*due)->ColumnInt64(3)});
    }
  }
  for (const WebhookDelivery& delivery : claimed) {
    auto lease = database_->Prepare(
        "UPDATE webhook_outbox SET lease_holder = ?3, lease_expires_ms = ?4 "
        "WHERE event_id = ?1 AND webhook = ?2",
        kOperation);
    if (!lease.ok()) return lease.error();
    (*lease)->BindInt64(1, delivery.event_id);
    (*lease)->BindText(2, webhook);
    (*lease)->BindText(3, holder);
    (*lease)->BindInt64(4, now_ms + lease_ms);
    CREDGATE_RETURN_IF_ERROR((*lease)->Run(kOperation));
  }
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());
  return claimed;
}

Result<bool> SqliteStore::FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                std::string_view holder) {
  std::lock_guard lock(mutex_);
  const std::string operation = "FinishWebhookDelivery of event " + std::to_string(event_id);
  auto statement = database_->Prepare(
      "DELETE FROM webhook_outbox WHERE event_id = ?1 AND webhook = ?2 AND lease_holder = ?3 "
      "RETURNING 1",
      operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindInt64(1, event_id);
  (*statement)->BindText(2, webhook);
  (*statement)->BindText(3, holder);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  const bool deleted = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  return deleted;
}

Result<bool> SqliteStore::RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                    std::string_view holder, int64_t attempts,
                                                    int64_t next_attempt_ms) {
  std::lock_guard lock(mutex_);
  const std::string operation = "RescheduleWebhookDelivery of event " + std::to_string(event_id);
  auto statement = database_->Prepare(
      "UPDATE webhook_outbox SET attempts = ?4, next_attempt_ms = ?5, lease_holder = '', "
      "lease_expires_ms = 0 WHERE event_id = ?1 AND webhook = ?2 AND lease_holder = ?3 "
      "RETURNING 1",
      operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindInt64(1, event_id);
  (*statement)->BindText(2, webhook);
  (*statement)->BindText(3, holder);
  (*statement)->BindInt64(4, attempts);
  (*statement)->BindInt64(5, next_attempt_ms);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  const bool rescheduled = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  return rescheduled;
}

}  // namespace credgate::store
