#include "store/migrations.h"

#include <string>

namespace credgate::store {

namespace {

constexpr Migration kMigrations[] = {
    {1, "resources, tokens and admin keys",
     R"sql(
CREATE TABLE resources (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  parent_key TEXT NOT NULL,
  body_json TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX resources_by_key ON resources (key);
CREATE INDEX resources_by_parent ON resources (kind, parent_key, key);

CREATE TABLE tokens (
  connection_key TEXT NOT NULL PRIMARY KEY,
  sealed_tokens BLOB NOT NULL,
  version INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE admin_keys (
  id TEXT NOT NULL PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
    {2, "refresh lease and refresh attempt of each token record",
     R"sql(
ALTER TABLE tokens ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN lease_expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN attempt_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN attempt_started_ms INTEGER NOT NULL DEFAULT 0;
)sql"},
    {3, "connection events",
     R"sql(
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  body_json TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql"},
    {4, "webhook outbox",
     R"sql(
CREATE TABLE webhook_outbox (
  event_id INTEGER NOT NULL,
  webhook TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  lease_holder TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, webhook)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (webhook, next_attempt_ms);
)sql"},
};

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at INTEGER NOT NULL
))sql";

Result<int> CurrentVersion(SqliteDatabase& database) {
  auto query = database.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                "read schema version");
  if (!query.ok()) return query.error();
  auto row = (*query)->Step("read schema version");
  if (!row.ok()) return row.error();
  return static_cast<int>((*query)->ColumnInt64(0));
}

Status ApplyOne(SqliteDatabase& database, const Migration& migration) {
  std::string operation = "migration " + std::to_string(migration.version);
  auto transaction = SqliteTransaction::Begin(database, operation);
  if (!transaction.ok()) return transaction.error();

  // Another process may have applied it between the version check and the write lock.
  auto current = CurrentVersion(database);
  if (!current.ok()) return current.error();
  if (*current >= migration.version) return OkStatus();

  CREDGATE_RETURN_IF_ERROR(database.Exec(migration.sql, operation));
  auto record = database.Prepare(
      "INSERT INTO schema_migrations (version, description, applied_at) "
      "VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))",
      operation);
  if (!record.ok()) return record.error();
  (*record)->BindInt64(1, migration.version);
  (*record)->BindText(2, migration.description);
  CREDGATE_RETURN_IF_ERROR((*record)->Run(operation));
  return (*transaction)->Commit();
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

Result<int> ApplyMigrations(SqliteDatabase& database, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return MakeError(ErrorCode::kInternal, "schema migration at position " + std::to_string(i) +
                                                 " has version " +
                                                 std::to_string(migrations[i].version) +
                                                 ", expected " + std::to_string(i + 1));
    }
  }
  CREDGATE_RETURN_IF_ERROR(database.Exec(kCreateMigrationsTable, "create schema_migrations"));

  auto current = CurrentVersion(database);
  if (!current.ok()) return current.error();
  int newest = static_cast<int>(migrations.size());
  if (*current > newest) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "database " + database.path() + " has schema version " +
                         std::to_string(*current) + ", newer than version " +
                         std::to_string(newest) +
                         " that this credgate build supports; run a newer credgate");
  }
  for (const Migration& migration : migrations) {
    if (migration.version > *current) CREDGATE_RETURN_IF_ERROR(ApplyOne(database, migration));
  }
  return newest;
}

}  // namespace credgate::store
