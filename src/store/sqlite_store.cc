#include "store/sqlite_store.h"

#include <algorithm>
#include <array>
#include <optional>

#include "store/resource_keys.h"
#include "store/rowid_positions.h"

namespace credgate::store {

namespace {

constexpr std::string_view kResourceColumns =
    "kind, key, parent_key, body_json, version, updated_at";

ResourceRecord ReadResource(const SqliteStatement& row) {
  return ResourceRecord{row.ColumnText(0), row.ColumnText(1),  row.ColumnText(2),
                        row.ColumnText(3), row.ColumnInt64(4), row.ColumnInt64(5)};
}

TokenRecord ReadTokens(const SqliteStatement& row) {
  return TokenRecord{row.ColumnText(0), row.ColumnBlob(1), row.ColumnInt64(2), row.ColumnInt64(3),
                     row.ColumnInt64(4)};
}

AdminKeyRecord ReadAdminKey(const SqliteStatement& row) {
  return AdminKeyRecord{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2),
                        row.ColumnInt64(3)};
}

// Truncates the WAL after a committed delete, so the frames that still hold the deleted bytes
// go too. The delete itself has committed, so a failed or blocked checkpoint is not an error of
// the call: the frames then leave at SQLite's next automatic checkpoint.
void ScrubWal(SqliteDatabase& database, std::string_view operation) {
  (void)database.TruncateWal(std::string(operation) + " (WAL checkpoint)");
}

// Reads every row of a table in key order (rowid_positions.h says why not ORDER BY key).
// `rowids_sql` lists the rowids in key order from the key index alone. `rows_sql` reads the rows
// in ascending rowid order, with the rowid in column `rowid_column`, and `read` turns a row into
// a Row. Both run in one read transaction, so they see the same rows unless the index is broken.
template <typename Row, typename Read>
Result<std::vector<Row>> ReadInKeyOrder(SqliteDatabase& database, std::string_view rowids_sql,
                                        std::string_view rows_sql, int rowid_column,
                                        std::string_view operation, Read read) {
  auto transaction = SqliteTransaction::BeginRead(database, operation);
  if (!transaction.ok()) return transaction.error();
  std::vector<int64_t> rowids;
  {
    auto statement = database.Prepare(rowids_sql, operation);
    if (!statement.ok()) return statement.error();
    while (true) {
      auto row = (*statement)->Step(operation);
      if (!row.ok()) return row.error();
      if (!*row) break;
      rowids.push_back((*statement)->ColumnInt64(0));
    }
  }
  const RowidPositions positions(rowids);
  rowids = {};
  std::vector<Row> rows(positions.size());
  size_t index = 0;
  bool unlisted_row = false;  // A row of the table that the key index did not list.
  {
    auto statement = database.Prepare(rows_sql, operation);
    if (!statement.ok()) return statement.error();
    for (;; ++index) {
      auto row = (*statement)->Step(operation);
      if (!row.ok()) return row.error();
      if (!*row) break;
      std::optional<size_t> place = positions.Place(index, (*statement)->ColumnInt64(rowid_column));
      if (!place) {
        unlisted_row = true;
        break;
      }
      rows[*place] = read(**statement);
    }
  }
  // NOTE: no test reaches this error, because that needs a corrupt key index.
  if (unlisted_row || index != positions.size()) {
    return MakeError(ErrorCode::kInternal,
                     "SQLite " + std::string(operation) + " failed on " + database.path() +
                         ": the key index and the table list different rows; run REINDEX on "
                         "the stopped database and start again");
  }
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());
  return rows;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  auto database = SqliteDatabase::Open(options.path, options.busy_timeout);
  if (!database.ok()) return database.error();
  auto version = ApplyMigrations(**database, options.migrations);
  if (!version.ok()) return version.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*database), *version));
}

Result<ResourceRecord> SqliteStore::Put(const ResourceRecord& record) {
  CREDGATE_RETURN_IF_ERROR(ValidateResource(record));
  std::lock_guard lock(mutex_);
  return PutLocked(record);
}

Result<ResourceRecord> SqliteStore::PutLocked(const ResourceRecord& record) {
  auto statement = database_->Prepare(
      "INSERT INTO resources (kind, key, parent_key, body_json, version, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, 1, ?5) "
      "ON CONFLICT (kind, key) DO UPDATE SET parent_key = excluded.parent_key, "
      "body_json = excluded.body_json, version = resources.version + 1, "
      "updated_at = excluded.updated_at "
      "RETURNING version",
      "Put");
  if (!statement.ok()) return statement.error();
  SqliteStatement& put = **statement;
  put.BindText(1, record.kind);
  put.BindText(2, record.key);
  put.BindText(3, record.parent_key);
  put.BindText(4, record.body_json);
  put.BindInt64(5, record.updated_at);

  std::string operation = "Put of resource " + Quoted(record.key);
  auto row = put.Step(operation);
  if (!row.ok()) return row.error();
  ResourceRecord stored = record;
  stored.version = put.ColumnInt64(0);
  CREDGATE_RETURN_IF_ERROR(put.Run(operation));
  return stored;
}

Result<ResourceRecord> SqliteStore::Get(std::string_view kind, std::string_view key) {
  std::array<std::string_view, 2> params = {kind, key};
  auto found = QueryResources("WHERE kind = ?1 AND key = ?2", "Get", params);
  if (!found.ok()) return found.error();
  if (found->empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no " + std::string(kind) + " resource with key " + Quoted(key));
  }
  return std::move(found->front());
}

Result<std::vector<ResourceRecord>> SqliteStore::List(std::string_view kind,
                                                      std::string_view parent_key) {
  std::array<std::string_view, 2> params = {kind, parent_key};
  return QueryResources("WHERE kind = ?1 AND parent_key = ?2 ORDER BY key", "List", params);
}

Result<std::vector<ResourceRecord>> SqliteStore::ListAll() {
  std::lock_guard lock(mutex_);
  auto records = ReadInKeyOrder<ResourceRecord>(
      *database_, "SELECT rowid FROM resources ORDER BY key",
      "SELECT " + std::string(kResourceColumns) + ", rowid FROM resources ORDER BY rowid", 6,
      "ListAll", ReadResource);
  if (!records.ok()) return records;
  // Records of different kinds may share a key. The key index lists them in rowid order, and
  // ordering them by kind takes a look at each neighbour.
  for (auto run = records->begin(); run != records->end();) {
    auto next = std::find_if(run + 1, records->end(),
                             [&](const ResourceRecord& record) { return record.key != run->key; });
    if (next - run > 1) {
      std::sort(run, next, [](const ResourceRecord& left, const ResourceRecord& right) {
        return left.kind < right.kind;
      });
    }
    run = next;
  }
  return records;
}

Result<std::vector<ResourceRecord>> SqliteStore::QueryResources(
    std::string_view sql, std::string_view operation, std::span<const std::string_view> params) {
  std::lock_guard lock(mutex_);
  std::string full_sql =
      "SELECT " + std::string(kResourceColumns) + " FROM resources " + std::string(sql);
  auto statement = database_->Prepare(full_sql, operation);
  if (!statement.ok()) return statement.error();
  for (size_t i = 0; i < params.size(); ++i) {
    (*statement)->BindText(static_cast<int>(i) + 1, params[i]);
  }

  std::vector<ResourceRecord> records;
  while (true) {
    auto row = (*statement)->Step(operation);
    if (!row.ok()) return row.error();
    if (!*row) break;
    records.push_back(ReadResource(**statement));
  }
  return records;
}

Result<int64_t> SqliteStore::DeleteTree(std::string_view key) {
  if (key.empty()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "DeleteTree needs a non-empty resource key; to delete everything, delete each top-level "
        "resource");
  }
  std::string operation = "DeleteTree of " + Quoted(key);
  auto [low, high] = SubtreeRange(key);
  std::lock_guard lock(mutex_);
  auto transaction = SqliteTransaction::Begin(*database_, operation);
  if (!transaction.ok()) return transaction.error();

  int64_t deleted = 0;
  {
    auto resources = database_->Prepare(
        "DELETE FROM resources WHERE key = ?1 OR (key >= ?2 AND key < ?3) RETURNING 1", operation);
    if (!resources.ok()) return resources.error();
    (*resources)->BindText(1, key);
    (*resources)->BindText(2, low);
    (*resources)->BindText(3, high);
    while (true) {
      auto row = (*resources)->Step(operation);
      if (!row.ok()) return row.error();
      if (!*row) break;
      ++deleted;
    }
  }
  {
    auto tokens = database_->Prepare(
        "DELETE FROM tokens WHERE connection_key = ?1 OR "
        "(connection_key >= ?2 AND connection_key < ?3)",
        operation);
    if (!tokens.ok()) return tokens.error();
    (*tokens)->BindText(1, key);
    (*tokens)->BindText(2, low);
    (*tokens)->BindText(3, high);
    CREDGATE_RETURN_IF_ERROR((*tokens)->Run(operation));
  }
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());
  ScrubWal(*database_, operation);
  return deleted;
}

Result<TokenRecord> SqliteStore::GetTokens(std::string_view connection_key) {
  std::lock_guard lock(mutex_);
  return GetTokensLocked(connection_key);
}

Result<TokenRecord> SqliteStore::GetTokensLocked(std::string_view connection_key) {
  auto statement = database_->Prepare(
      "SELECT connection_key, sealed_tokens, version, expires_at, updated_at FROM tokens "
      "WHERE connection_key = ?1",
      "GetTokens");
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, connection_key);
  auto row = (*statement)->Step("GetTokens of " + Quoted(connection_key));
  if (!row.ok()) return row.error();
  if (!*row) {
    return MakeError(ErrorCode::kNotFound,
                     "no token record for connection " + Quoted(connection_key));
  }
  return ReadTokens(**statement);
}

Result<TokenRecord> SqliteStore::PutTokens(const TokenRecord& record,
                                           std::optional<int64_t> expected_version) {
  if (record.connection_key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "token record needs a connection key");
  }
  std::lock_guard lock(mutex_);
  if (expected_version) return CompareAndSwapTokens(record, *expected_version);
  return PutTokensLocked(record);
}

Result<TokenRecord> SqliteStore::PutTokensLocked(const TokenRecord& record) {
  std::string operation = "PutTokens of " + Quoted(record.connection_key);
  auto statement = database_->Prepare(
      "INSERT INTO tokens (connection_key, sealed_tokens, version, expires_at, updated_at) "
      "VALUES (?1, ?2, 1, ?3, ?4) "
      "ON CONFLICT (connection_key) DO UPDATE SET sealed_tokens = excluded.sealed_tokens, "
      "version = tokens.version + 1, expires_at = excluded.expires_at, "
      "updated_at = excluded.updated_at, lease_holder = '', lease_expires_ms = 0, "
      "attempt_holder = '', attempt_started_ms = 0 "
      "RETURNING version",
      operation);
  if (!statement.ok()) return statement.error();
  SqliteStatement& put = **statement;
  put.BindText(1, record.connection_key);
  put.BindBlob(2, record.sealed_tokens);
  put.BindInt64(3, record.expires_at);
  put.BindInt64(4, record.updated_at);
  auto row = put.Step(operation);
  if (!row.ok()) return row.error();
  TokenRecord stored = record;
  stored.version = put.ColumnInt64(0);
  CREDGATE_RETURN_IF_ERROR(put.Run(operation));
  return stored;
}

// Runs with mutex_ held. The version check and the write are one statement, so the swap is
// atomic against other processes too. The later read only builds the error message.
Result<TokenRecord> SqliteStore::CompareAndSwapTokens(const TokenRecord& record,
                                                      int64_t expected_version) {
  std::string operation = "PutTokens of " + Quoted(record.connection_key);
  auto statement =
      expected_version == 0
          ? database_->Prepare(
                "INSERT INTO tokens (connection_key, sealed_tokens, version, expires_at, "
                "updated_at) VALUES (?1, ?2, 1, ?3, ?4) "
                "ON CONFLICT (connection_key) DO NOTHING RETURNING version",
                operation)
          : database_->Prepare(
                "UPDATE tokens SET sealed_tokens = ?2, version = version + 1, expires_at = ?3, "
                "updated_at = ?4, lease_holder = '', lease_expires_ms = 0, attempt_holder = '', "
                "attempt_started_ms = 0 WHERE connection_key = ?1 AND version = ?5 "
                "RETURNING version",
                operation);
  if (!statement.ok()) return statement.error();
  SqliteStatement& put = **statement;
  put.BindText(1, record.connection_key);
  put.BindBlob(2, record.sealed_tokens);
  put.BindInt64(3, record.expires_at);
  put.BindInt64(4, record.updated_at);
  if (expected_version != 0) put.BindInt64(5, expected_version);

  auto row = put.Step(operation);
  if (!row.ok()) return row.error();
  if (*row) {
    TokenRecord stored = record;
    stored.version = put.ColumnInt64(0);
    CREDGATE_RETURN_IF_ERROR(put.Run(operation));
    return stored;
  }

  auto stored_version = StoredTokenVersion(record.connection_key);
  if (!stored_version.ok()) return stored_version.error();
  std::string found =
      *stored_version ? "version " + std::to_string(**stored_version) : std::string("no record");
  return MakeError(ErrorCode::kConflict,
                   "token record for connection " + Quoted(record.connection_key) + " has " +
                       found + ", expected version " + std::to_string(expected_version) +
                       "; another writer changed it, so reload the tokens and retry");
}

Result<std::optional<int64_t>> SqliteStore::StoredTokenVersion(std::string_view connection_key) {
  auto statement =
      database_->Prepare("SELECT version FROM tokens WHERE connection_key = ?1", "PutTokens");
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, connection_key);
  auto row = (*statement)->Step("PutTokens");
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>((*statement)->ColumnInt64(0));
}

Result<bool> SqliteStore::DeleteTokens(std::string_view connection_key) {
  std::lock_guard lock(mutex_);
  std::string operation = "DeleteTokens of " + Quoted(connection_key);
  auto statement =
      database_->Prepare("DELETE FROM tokens WHERE connection_key = ?1 RETURNING 1", operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, connection_key);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  bool deleted = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  if (deleted) ScrubWal(*database_, operation);
  return deleted;
}

Result<bool> SqliteStore::ReplaceSealedTokens(std::string_view connection_key,
                                              int64_t expected_version,
                                              std::string_view sealed_tokens) {
  std::lock_guard lock(mutex_);
  std::string operation = "ReplaceSealedTokens of " + Quoted(connection_key);
  auto statement = database_->Prepare(
      "UPDATE tokens SET sealed_tokens = ?3 WHERE connection_key = ?1 AND version = ?2 "
      "RETURNING 1",
      operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, connection_key);
  (*statement)->BindInt64(2, expected_version);
  (*statement)->BindBlob(3, sealed_tokens);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  bool replaced = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  return replaced;
}

Result<bool> SqliteStore::ReplaceResourceBody(std::string_view kind, std::string_view key,
                                              int64_t expected_version,
                                              std::string_view body_json) {
  std::lock_guard lock(mutex_);
  std::string operation = "ReplaceResourceBody of " + Quoted(key);
  auto statement = database_->Prepare(
      "UPDATE resources SET body_json = ?4 WHERE kind = ?1 AND key = ?2 AND version = ?3 "
      "RETURNING 1",
      operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, kind);
  (*statement)->BindText(2, key);
  (*statement)->BindInt64(3, expected_version);
  (*statement)->BindText(4, body_json);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  bool replaced = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  return replaced;
}

Result<std::vector<TokenRecord>> SqliteStore::ListAllTokens() {
  std::lock_guard lock(mutex_);
  return ReadInKeyOrder<TokenRecord>(
      *database_, "SELECT rowid FROM tokens ORDER BY connection_key",
      "SELECT connection_key, sealed_tokens, version, expires_at, updated_at, rowid FROM tokens "
      "ORDER BY rowid",
      5, "ListAllTokens", ReadTokens);
}

Result<WriteBatch> SqliteStore::ApplyBatch(const WriteBatch& batch) {
  for (const ResourceRecord& record : batch.resources) {
    CREDGATE_RETURN_IF_ERROR(ValidateResource(record));
  }
  for (const TokenRecord& record : batch.tokens) {
    if (record.connection_key.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "token record needs a connection key");
    }
  }
  std::lock_guard lock(mutex_);
  auto transaction = SqliteTransaction::Begin(*database_, "ApplyBatch");
  if (!transaction.ok()) return transaction.error();
  WriteBatch stored;
  for (const ResourceRecord& record : batch.resources) {
    auto put = PutLocked(record);
    if (!put.ok()) return put.error();
    stored.resources.push_back(std::move(*put));
  }
  for (const TokenRecord& record : batch.tokens) {
    auto put = PutTokensLocked(record);
    if (!put.ok()) return put.error();
    stored.tokens.push_back(std::move(*put));
  }
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());
  return stored;
}

Status SqliteStore::PutAdminKey(const AdminKeyRecord& record) {
  if (record.id.empty() || record.key_hash.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "admin key record needs an id and a key hash");
  }
  std::lock_guard lock(mutex_);
  std::string operation = "PutAdminKey of " + Quoted(record.id);
  auto statement = database_->Prepare(
      "INSERT INTO admin_keys (id, key_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)", operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, record.id);
  (*statement)->BindText(2, record.key_hash);
  (*statement)->BindText(3, record.role);
  (*statement)->BindInt64(4, record.created_at);
  Status status = (*statement)->Run(operation);
  if (!status.ok() && status.error().code == ErrorCode::kAlreadyExists) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "admin key " + Quoted(record.id) +
                         " was not stored: its id or key hash is already taken; generate a new "
                         "key with a new id");
  }
  return status;
}

Result<AdminKeyRecord> SqliteStore::FindAdminKeyByHash(std::string_view key_hash) {
  std::lock_guard lock(mutex_);
  auto statement = database_->Prepare(
      "SELECT id, key_hash, role, created_at FROM admin_keys WHERE key_hash = ?1",
      "FindAdminKeyByHash");
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, key_hash);
  auto row = (*statement)->Step("FindAdminKeyByHash");
  if (!row.ok()) return row.error();
  // The message leaves the hash out: it identifies a credential.
  if (!*row) return MakeError(ErrorCode::kNotFound, "no admin key has the presented hash");
  return ReadAdminKey(**statement);
}

Result<std::vector<AdminKeyRecord>> SqliteStore::ListAdminKeys() {
  std::lock_guard lock(mutex_);
  auto statement = database_->Prepare(
      "SELECT id, key_hash, role, created_at FROM admin_keys ORDER BY id", "ListAdminKeys");
  if (!statement.ok()) return statement.error();
  std::vector<AdminKeyRecord> records;
  while (true) {
    auto row = (*statement)->Step("ListAdminKeys");
    if (!row.ok()) return row.error();
    if (!*row) break;
    records.push_back(ReadAdminKey(**statement));
  }
  return records;
}

Result<bool> SqliteStore::DeleteAdminKey(std::string_view id) {
  std::lock_guard lock(mutex_);
  std::string operation = "DeleteAdminKey of " + Quoted(id);
  auto statement =
      database_->Prepare("DELETE FROM admin_keys WHERE id = ?1 RETURNING 1", operation);
  if (!statement.ok()) return statement.error();
  (*statement)->BindText(1, id);
  auto row = (*statement)->Step(operation);
  if (!row.ok()) return row.error();
  bool deleted = *row;
  CREDGATE_RETURN_IF_ERROR((*statement)->Run(operation));
  if (deleted) ScrubWal(*database_, operation);
  return deleted;
}

}  // namespace credgate::store
