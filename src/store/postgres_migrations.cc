#include "store/postgres_migrations.h"

#include <string>

namespace credgate::store {

namespace {

constexpr Migration kMigrations[] = {
    {1, "resources, tokens and admin keys",
     R"sql(
CREATE TABLE resources (
  kind TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  parent_key TEXT COLLATE "C" NOT NULL,
  body_json TEXT NOT NULL,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX resources_by_key ON resources (key);
CREATE INDEX resources_by_parent ON resources (kind, parent_key, key);

CREATE TABLE tokens (
  connection_key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  sealed_tokens BYTEA NOT NULL,
  version BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE admin_keys (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
)sql"},
    {2, "refresh lease and refresh attempt of each token record",
     R"sql(
ALTER TABLE tokens
  ADD COLUMN lease_holder TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN lease_expires_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN attempt_holder TEXT COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN attempt_started_ms BIGINT NOT NULL DEFAULT 0;
)sql"},
    {3, "connection events",
     R"sql(
CREATE TABLE events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  body_json TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
)sql"},
    {4, "webhook outbox",
     R"sql(
CREATE TABLE webhook_outbox (
  event_id BIGINT NOT NULL,
  webhook TEXT COLLATE "C" NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  lease_holder TEXT COLLATE "C" NOT NULL DEFAULT '',
  lease_expires_ms BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, webhook)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (webhook, next_attempt_ms);
)sql"},
};

const std::string kLockMigrations =
    "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")";

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL
))sql";

// Runs `body` in a transaction that holds the migration lock, and commits when it succeeds.
template <class Body>
Status RunLocked(PostgresConnection& connection, std::string_view operation, Body body) {
  CREDGATE_RETURN_IF_ERROR(connection.ExecuteScript("BEGIN", operation));
  Status status = connection.ExecuteScript(kLockMigrations, operation);
  if (status.ok()) status = body();
  if (status.ok()) return connection.ExecuteScript("COMMIT", operation);
  if (!connection.broken()) (void)connection.ExecuteScript("ROLLBACK", operation);
  return status;
}

Result<int> CurrentVersion(PostgresConnection& connection) {
  auto result = connection.Execute(
      "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations", "read schema version");
  if (!result.ok()) return result.error();
  return static_cast<int>(result->Int64(0, 0));
}

Status ApplyOne(PostgresConnection& connection, const Migration& migration) {
  const std::string operation = "migration " + std::to_string(migration.version);
  return RunLocked(connection, operation, [&]() -> Status {
    // Another process may have applied it between the version check and the lock.
    auto current = CurrentVersion(connection);
    if (!current.ok()) return current.error();
    if (*current >= migration.version) return OkStatus();

    CREDGATE_RETURN_IF_ERROR(connection.ExecuteScript(migration.sql, operation));
    const PgParam params[] = {PgParam::Int64(migration.version),
                              PgParam::Text(migration.description)};
    auto recorded = connection.Execute(
        "INSERT INTO schema_migrations (version, description, applied_at) "
        "VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
        params, operation);
    if (!recorded.ok()) return recorded.error();
    return OkStatus();
  });
}

}  // namespace

std::span<const Migration> PostgresMigrations() { return kMigrations; }

Result<int> ApplyPostgresMigrations(PostgresConnection& connection, std::string_view schema,
                                    std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return MakeError(ErrorCode::kInternal, "schema migration at position " + std::to_string(i) +
                                                 " has version " +
                                                 std::to_string(migrations[i].version) +
                                                 ", expected " + std::to_string(i + 1));
    }
  }
  CREDGATE_RETURN_IF_ERROR(RunLocked(connection, "create schema_migrations", [&]() -> Status {
    if (!schema.empty()) {
      // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the
      // schema exists, so a role limited to a schema that an administrator made checks first.
      const std::string operation = "create schema " + std::string(schema);
      const PgParam name[] = {PgParam::Text(schema)};
      auto found =
          connection.Execute("SELECT 1 FROM pg_namespace WHERE nspname = $1", name, operation);
      if (!found.ok()) return found.error();
      if (found->rows() == 0) {
        CREDGATE_RETURN_IF_ERROR(connection.ExecuteScript(
            "CREATE SCHEMA " + connection.QuoteIdentifier(schema), operation));
      }
    }
    return connection.ExecuteScript(kCreateMigrationsTable, "create schema_migrations");
  }));

  auto current = CurrentVersion(connection);
  if (!current.ok()) return current.error();
  const int newest = static_cast<int>(migrations.size());
  if (*current > newest) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "database " + connection.server() + " has schema version " +
                         std::to_string(*current) + ", newer than version " +
                         std::to_string(newest) +
                         " that this credgate build supports; run a newer credgate");
  }
  for (const Migration& migration : migrations) {
    if (migration.version > *current) CREDGATE_RETURN_IF_ERROR(ApplyOne(connection, migration));
  }
  return newest;
}

}  // namespace credgate::store
