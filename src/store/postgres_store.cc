#include "store/postgres_store.h"

#include "store/postgres_transaction.h"
#include "store/resource_keys.h"

namespace credgate::store {

namespace {

constexpr std::string_view kResourceColumns =
    "SELECT kind, key, parent_key, body_json, version, updated_at FROM resources ";
constexpr std::string_view kTokenColumns =
    "SELECT connection_key, sealed_tokens, version, expires_at, updated_at FROM tokens ";
constexpr std::string_view kAdminKeyColumns =
    "SELECT id, key_hash, role, created_at FROM admin_keys ";

// NOTIFY rejects payloads of 8000 bytes or more (PostgreSQL 15, "payload string too long").
constexpr size_t kMaxNotifyPayload = 7999;

std::vector<ResourceRecord> ReadResources(const PgResult& rows) {
  std::vector<ResourceRecord> records;
  records.reserve(rows.rows());
  for (int row = 0; row < rows.rows(); ++row) {
    records.push_back(ResourceRecord{rows.Bytes(row, 0), rows.Bytes(row, 1), rows.Bytes(row, 2),
                                     rows.Bytes(row, 3), rows.Int64(row, 4), rows.Int64(row, 5)});
  }
  return records;
}

TokenRecord ReadTokens(const PgResult& rows, int row) {
  return TokenRecord{rows.Bytes(row, 0), rows.Bytes(row, 1), rows.Int64(row, 2), rows.Int64(row, 3),
                     rows.Int64(row, 4)};
}

Error NoTokenRecord(std::string_view connection_key) {
  return MakeError(ErrorCode::kNotFound,
                   "no token record for connection " + Quoted(connection_key));
}

}  // namespace

Status NotifyChange(PostgresConnection& connection, std::string_view channel,
                    const StoreChange& change, std::string_view operation) {
  std::string payload = EncodeStoreChange(change);
  if (payload.size() > kMaxNotifyPayload) payload = EncodeStoreChange(StoreChange{});
  const PgParam params[] = {PgParam::Text(channel), PgParam::Text(payload)};
  auto sent = connection.Execute("SELECT pg_notify($1, $2)", params, operation);
  if (!sent.ok()) return sent.error();
  return OkStatus();
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresStoreOptions& options) {
  PostgresPoolOptions pool_options{.connect = {.url = options.url,
                                               .schema = options.schema,
                                               .application_name = options.application_name,
                                               .connect_timeout = options.acquire_timeout},
                                   .size = options.pool_size,
                                   .acquire_timeout = options.acquire_timeout};
  auto pool = std::make_unique<PostgresPool>(std::move(pool_options));

  int version = 0;
  {
    auto lease = pool->Acquire("open the store");
    if (!lease.ok()) return lease.error();
    auto migrated =
        ApplyPostgresMigrations(lease->connection(), options.schema, options.migrations);
    if (!migrated.ok()) return migrated.error();
    version = *migrated;
  }
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(std::move(pool), options.change_channel, version));
}

Result<ResourceRecord> PostgresStore::Put(const ResourceRecord& record) {
  CREDGATE_RETURN_IF_ERROR(ValidateResource(record));
  const std::string operation = "Put of resource " + Quoted(record.key);
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) {
    return WriteResource(connection, record, operation);
  });
}

Result<ResourceRecord> PostgresStore::WriteResource(PostgresConnection& connection,
                                                    const ResourceRecord& record,
                                                    std::string_view operation) {
  const PgParam params[] = {PgParam::Text(record.kind), PgParam::Text(record.key),
                            PgParam::Text(record.parent_key), PgParam::Text(record.body_json),
                            PgParam::Int64(record.updated_at)};
  auto put = connection.Execute(
      "INSERT INTO resources (kind, key, parent_key, body_json, version, updated_at) "
      "VALUES ($1, $2, $3, $4, 1, $5) "
      "ON CONFLICT (kind, key) DO UPDATE SET parent_key = excluded.parent_key, "
      "body_json = excluded.body_json, version = resources.version + 1, "
      "updated_at = excluded.updated_at "
      "RETURNING version",
      params, operation);
  if (!put.ok()) return put.error();
  ResourceRecord stored = record;
  stored.version = put->Int64(0, 0);
  CREDGATE_RETURN_IF_ERROR(NotifyChange(
      connection, change_channel_,
      {StoreChange::Type::kResourcePut, stored.kind, stored.key, stored.version}, operation));
  return stored;
}

Result<ResourceRecord> PostgresStore::Get(std::string_view kind, std::string_view key) {
  const PgParam params[] = {PgParam::Text(kind), PgParam::Text(key)};
  auto found = QueryResources("WHERE kind = $1 AND key = $2", "Get", params);
  if (!found.ok()) return found.error();
  if (found->empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no " + std::string(kind) + " resource with key " + Quoted(key));
  }
  return std::move(found->front());
}

Result<std::vector<ResourceRecord>> PostgresStore::List(std::string_view kind,
                                                        std::string_view parent_key) {
  const PgParam params[] = {PgParam::Text(kind), PgParam::Text(parent_key)};
  return QueryResources("WHERE kind = $1 AND parent_key = $2 ORDER BY key", "List", params);
}

Result<std::vector<ResourceRecord>> PostgresStore::ListAll() {
  return QueryResources("ORDER BY key, kind", "ListAll", {});
}

Result<std::vector<ResourceRecord>> PostgresStore::QueryResources(std::string_view sql,
                                                                  std::string_view operation,
                                                                  std::span<const PgParam> params) {
  const std::string full_sql = std::string(kResourceColumns) + std::string(sql);
  return RunRead(*pool_, operation,
                 [&](PostgresConnection& connection) -> Result<std::vector<ResourceRecord>> {
                   auto rows = connection.Execute(full_sql, params, operation);
                   if (!rows.ok()) return rows.error();
                   return ReadResources(*rows);
                 });
}

Result<int64_t> PostgresStore::DeleteTree(std::string_view key) {
  if (key.empty()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "DeleteTree needs a non-empty resource key; to delete everything, delete each top-level "
        "resource");
  }
  const std::string operation = "DeleteTree of " + Quoted(key);
  auto [low, high] = SubtreeRange(key);
  const PgParam params[] = {PgParam::Text(key), PgParam::Text(low), PgParam::Text(high)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<int64_t> {
    auto resources = connection.Execute(
        "DELETE FROM resources WHERE key = $1 OR (key >= $2 AND key < $3)", params, operation);
    if (!resources.ok()) return resources.error();
    auto tokens = connection.Execute(
        "DELETE FROM tokens WHERE connection_key = $1 OR "
        "(connection_key >= $2 AND connection_key < $3)",
        params, operation);
    if (!tokens.ok()) return tokens.error();

    const int64_t deleted = resources->AffectedRows();
    if (deleted > 0 || tokens->AffectedRows() > 0) {
      CREDGATE_RETURN_IF_ERROR(
          NotifyChange(connection, change_channel_,
                       {StoreChange::Type::kTreeDeleted, "", std::string(key), 0}, operation));
    }
    return deleted;
  });
}

Result<TokenRecord> PostgresStore::GetTokens(std::string_view connection_key) {
  const PgParam params[] = {PgParam::Text(connection_key)};
  const std::string operation = "GetTokens of " + Quoted(connection_key);
  auto found = RunRead(*pool_, operation, [&](PostgresConnection& connection) {
    return QueryTokens(connection, "WHERE connection_key = $1", operation, params);
  });
  if (!found.ok()) return found.error();
  if (found->empty()) return NoTokenRecord(connection_key);
  return std::move(found->front());
}

Result<std::vector<TokenRecord>> PostgresStore::ListAllTokens() {
  return RunRead(*pool_, "ListAllTokens", [&](PostgresConnection& connection) {
    return QueryTokens(connection, "ORDER BY connection_key", "ListAllTokens", {});
  });
}

Result<std::vector<TokenRecord>> PostgresStore::QueryTokens(PostgresConnection& connection,
                                                            std::string_view sql,
                                                            std::string_view operation,
                                                            std::span<const PgParam> params) {
  auto rows = connection.Execute(std::string(kTokenColumns) + std::string(sql), params, operation);
  if (!rows.ok()) return rows.error();
  std::vector<TokenRecord> records;
  records.reserve(rows->rows());
  for (int row = 0; row < rows->rows(); ++row) records.push_back(ReadTokens(*rows, row));
  return records;
}

Result<TokenRecord> PostgresStore::PutTokens(const TokenRecord& record,
                                             std::optional<int64_t> expected_version) {
  if (record.connection_key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "token record needs a connection key");
  }
  const std::string operation = "PutTokens of " + Quoted(record.connection_key);
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) {
    return WriteTokens(connection, record, expected_version, operation);
  });
}

Result<TokenRecord> PostgresStore::WriteTokens(PostgresConnection& connection,
                                               const TokenRecord& record,
                                               std::optional<int64_t> expected_version,
                                               std::string_view operation,
                                               bool missing_is_not_found) {
  // Every form clears the lease and the attempt, because the tokens are new. The version check
  // and the write are one statement, which PostgreSQL runs atomically against other writers.
  std::string_view sql;
  if (!expected_version) {
    sql =
        "INSERT INTO tokens (connection_key, sealed_tokens, version, expires_at, updated_at) "
        "VALUES ($1, $2, 1, $3, $4) "
        "ON CONFLICT (connection_key) DO UPDATE SET sealed_tokens = excluded.sealed_tokens, "
        "version = tokens.version + 1, expires_at = excluded.expires_at, "
        "updated_at = excluded.updated_at, lease_holder = '', lease_expires_ms = 0, "
        "attempt_holder = '', attempt_started_ms = 0 "
        "RETURNING version";
  } else if (*expected_version == 0) {
    sql =
        "INSERT INTO tokens (connection_key, sealed_tokens, version, expires_at, updated_at) "
        "VALUES ($1, $2, 1, $3, $4) "
        "ON CONFLICT (connection_key) DO NOTHING RETURNING version";
  } else {
    sql =
        "UPDATE tokens SET sealed_tokens = $2, version = version + 1, expires_at = $3, "
        "updated_at = $4, lease_holder = '', lease_expires_ms = 0, attempt_holder = '', "
        "attempt_started_ms = 0 WHERE connection_key = $1 AND version = $5 "
        "RETURNING version";
  }
  std::vector<PgParam> params = {
      PgParam::Text(record.connection_key), PgParam::Bytes(record.sealed_tokens),
      PgParam::Int64(record.expires_at), PgParam::Int64(record.updated_at)};
  if (expected_version && *expected_version != 0) {
    params.push_back(PgParam::Int64(*expected_version));
  }
  auto written = connection.Execute(sql, params, operation);
  if (!written.ok()) return written.error();

  if (written->rows() == 1) {
    TokenRecord stored = record;
    stored.version = written->Int64(0, 0);
    CREDGATE_RETURN_IF_ERROR(NotifyChange(
        connection, change_channel_,
        {StoreChange::Type::kTokensPut, "", stored.connection_key, stored.version}, operation));
    return stored;
  }

  // The swap failed; this read only builds the message.
  const PgParam key[] = {PgParam::Text(record.connection_key)};
  auto current =
      connection.Execute("SELECT version FROM tokens WHERE connection_key = $1", key, operation);
  if (!current.ok()) return current.error();
  if (current->rows() == 0 && missing_is_not_found) return NoTokenRecord(record.connection_key);
  const std::string found = current->rows() == 1 ? "version " + std::to_string(current->Int64(0, 0))
                                                 : std::string("no record");
  return MakeError(ErrorCode::kConflict,
                   "token record for connection " + Quoted(record.connection_key) + " has " +
                       found + ", expected version " + std::to_string(*expected_version) +
                       "; another writer changed it, so reload the tokens and retry");
}

Result<bool> PostgresStore::DeleteTokens(std::string_view connection_key) {
  const std::string operation = "DeleteTokens of " + Quoted(connection_key);
  const PgParam params[] = {PgParam::Text(connection_key)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto deleted =
        connection.Execute("DELETE FROM tokens WHERE connection_key = $1", params, operation);
    if (!deleted.ok()) return deleted.error();
    if (deleted->AffectedRows() == 0) return false;
    CREDGATE_RETURN_IF_ERROR(NotifyChange(
        connection, change_channel_,
        {StoreChange::Type::kTokensDeleted, "", std::string(connection_key), 0}, operation));
    return true;
  });
}

// A rewrap changes the sealed bytes but not their plaintext, so it sends no change notification:
// the memory of the other gateways is still correct.
Result<bool> PostgresStore::ReplaceSealedTokens(std::string_view connection_key,
                                                int64_t expected_version,
                                                std::string_view sealed_tokens) {
  const std::string operation = "ReplaceSealedTokens of " + Quoted(connection_key);
  const PgParam params[] = {PgParam::Text(connection_key), PgParam::Int64(expected_version),
                            PgParam::Bytes(sealed_tokens)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto replaced = connection.Execute(
        "UPDATE tokens SET sealed_tokens = $3 WHERE connection_key = $1 AND version = $2",
        params, operation);
    if (!replaced.ok()) return replaced.error();
    return replaced->AffectedRows() > 0;
  });
}

Result<bool> PostgresStore::ReplaceResourceBody(std::string_view kind, std::string_view key,
                                                int64_t expected_version,
                                                std::string_view body_json) {
  const std::string operation = "ReplaceResourceBody of " + Quoted(key);
  const PgParam params[] = {PgParam::Text(kind), PgParam::Text(key),
                            PgParam::Int64(expected_version), PgParam::Text(body_json)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto replaced = connection.Execute(
        "UPDATE resources SET body_json = $4 WHERE kind = $1 AND key = $2 AND version = $3",
        params, operation);
    if (!replaced.ok()) return replaced.error();
    return replaced->AffectedRows() > 0;
  });
}

Result<WriteBatch> PostgresStore::ApplyBatch(const WriteBatch& batch) {
  for (const ResourceRecord& record : batch.resources) {
    CREDGATE_RETURN_IF_ERROR(ValidateResource(record));
  }
  for (const TokenRecord& record : batch.tokens) {
    if (record.connection_key.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "token record needs a connection key");
    }
  }
  constexpr std::string_view kOperation = "ApplyBatch";
  return RunWrite(*pool_, kOperation, [&](PostgresConnection& connection) -> Result<WriteBatch> {
    WriteBatch stored;
    for (const ResourceRecord& record : batch.resources) {
      const std::string operation = "ApplyBatch: Put of resource " + Quoted(record.key);
      auto put = WriteResource(connection, record, operation);
      if (!put.ok()) return put.error();
      stored.resources.push_back(std::move(*put));
    }
    for (const TokenRecord& record : batch.tokens) {
      const std::string operation = "ApplyBatch: PutTokens of " + Quoted(record.connection_key);
      auto put = WriteTokens(connection, record, std::nullopt, operation);
      if (!put.ok()) return put.error();
      stored.tokens.push_back(std::move(*put));
    }
    return stored;
  });
}

Status PostgresStore::PutAdminKey(const AdminKeyRecord& record) {
  if (record.id.empty() || record.key_hash.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "admin key record needs an id and a key hash");
  }
  const std::string operation = "PutAdminKey of " + Quoted(record.id);
  const PgParam params[] = {PgParam::Text(record.id), PgParam::Text(record.key_hash),
                            PgParam::Text(record.role), PgParam::Int64(record.created_at)};
  auto inserted = RunWrite(*pool_, operation, [&](PostgresConnection& connection) {
    return connection.Execute(
        "INSERT INTO admin_keys (id, key_hash, role, created_at) VALUES ($1, $2, $3, $4)", params,
        operation);
  });
  if (inserted.ok()) return OkStatus();
  if (inserted.error().code == ErrorCode::kAlreadyExists) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "admin key " + Quoted(record.id) +
                         " was not stored: its id or key hash is already taken; generate a new "
                         "key with a new id");
  }
  return inserted.error();
}

Result<AdminKeyRecord> PostgresStore::FindAdminKeyByHash(std::string_view key_hash) {
  const PgParam params[] = {PgParam::Text(key_hash)};
  auto found = QueryAdminKeys("WHERE key_hash = $1", "FindAdminKeyByHash", params);
  if (!found.ok()) return found.error();
  // The message leaves the hash out: it identifies a credential.
  if (found->empty()) return MakeError(ErrorCode::kNotFound, "no admin key has the presented hash");
  return std::move(found->front());
}

Result<std::vector<AdminKeyRecord>> PostgresStore::ListAdminKeys() {
  return QueryAdminKeys("ORDER BY id", "ListAdminKeys", {});
}

Result<std::vector<AdminKeyRecord>> PostgresStore::QueryAdminKeys(std::string_view sql,
                                                                  std::string_view operation,
                                                                  std::span<const PgParam> params) {
  const std::string full_sql = std::string(kAdminKeyColumns) + std::string(sql);
  return RunRead(*pool_, operation,
                 [&](PostgresConnection& connection) -> Result<std::vector<AdminKeyRecord>> {
                   auto rows = connection.Execute(full_sql, params, operation);
                   if (!rows.ok()) return rows.error();
                   std::vector<AdminKeyRecord> records;
                   for (int row = 0; row < rows->rows(); ++row) {
                     records.push_back(AdminKeyRecord{rows->Bytes(row, 0), rows->Bytes(row, 1),
                                                      rows->Bytes(row, 2), rows->Int64(row, 3)});
                   }
                   return records;
                 });
}

Result<bool> PostgresStore::DeleteAdminKey(std::string_view id) {
  const std::string operation = "DeleteAdminKey of " + Quoted(id);
  const PgParam params[] = {PgParam::Text(id)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto deleted = connection.Execute("DELETE FROM admin_keys WHERE id = $1", params, operation);
    if (!deleted.ok()) return deleted.error();
    return deleted->AffectedRows() > 0;
  });
}

}  // namespace credgate::store
