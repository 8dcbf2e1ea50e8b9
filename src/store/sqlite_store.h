// SqliteStore: the Store on one SQLite file, normally `<data dir>/credgate.db`.
//
// Open creates the file with mode 0600, enables WAL journaling with synchronous=FULL (every
// commit is on disk before the call returns, which matters most for rotated refresh tokens),
// sets a busy timeout for other processes holding the lock, and applies schema migrations
// (migrations.h). It also turns on secure_delete, so SQLite overwrites deleted rows with zeros.
// Every delete ends with a WAL checkpoint that truncates the WAL, so after DeleteTree,
// DeleteTokens or DeleteAdminKey returns, the deleted sealed bytes and key hashes are in neither
// the database file nor its WAL. A read by another connection blocks that checkpoint, and the
// bytes then leave the WAL at the next checkpoint. Statements are prepared once and reused. Every method is thread-safe, and one
// mutex serializes them, so calls never overlap inside one process.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "store/migrations.h"
#include "store/sqlite_database.h"
#include "store/store.h"

namespace credgate::store {

struct SqliteStoreOptions {
  std::string path;  // The database file; its folder must exist.
  // How long a call waits for a lock that another process holds before failing with
  // kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // The schema to migrate to. Tests replace it to check upgrades; everything else keeps the
  // default.
  std::span<const Migration> migrations = SqliteMigrations();
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the database. Fails as SqliteDatabase::Open and ApplyMigrations do.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);

  // The schema version after migrations ran.
  int schema_version() const { return schema_version_; }

  // Store:
  Result<ResourceRecord> Put(const ResourceRecord& record) override;
  Result<ResourceRecord> Get(std::string_view kind, std::string_view key) override;
  Result<std::vector<ResourceRecord>> List(std::string_view kind,
                                           std::string_view parent_key) override;
  Result<std::vector<ResourceRecord>> ListAll() override;
  Result<int64_t> DeleteTree(std::string_view key) override;
  Result<TokenRecord> GetTokens(std::string_view connection_key) override;
  Result<TokenRecord> PutTokens(const TokenRecord& record,
                                std::optional<int64_t> expected_version) override;
  Result<bool> DeleteTokens(std::string_view connection_key) override;
  Result<std::vector<TokenRecord>> ListAllTokens() override;
  Result<bool> ReplaceSealedTokens(std::string_view connection_key, int64_t expected_version,
                                   std::string_view sealed_tokens) override;
  Result<bool> ReplaceResourceBody(std::string_view kind, std::string_view key,
                                   int64_t expected_version, std::string_view body_json) override;
  Result<RefreshLease> AcquireRefreshLease(std::string_view connection_key, int64_t held_version,
                                           std::string_view holder, int64_t now_ms,
                                           int64_t ttl_ms) override;
  Result<TokenRecord> CommitRefresh(const TokenRecord& record, int64_t expected_version) override;
  Result<bool> ReleaseRefreshLease(std::string_view connection_key, std::string_view holder,
                                   bool attempt_finished) override;
  Result<WriteBatch> ApplyBatch(const WriteBatch& batch) override;
  Status PutAdminKey(const AdminKeyRecord& record) override;
  Result<AdminKeyRecord> FindAdminKeyByHash(std::string_view key_hash) override;
  Result<std::vector<AdminKeyRecord>> ListAdminKeys() override;
  Result<bool> DeleteAdminKey(std::string_view id) override;
  Result<EventRecord> AppendEvent(std::string_view body_json, int64_t created_at, int64_t retain,
                                  std::span<const std::string> webhooks) override;
  Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int64_t limit) override;
  Result<std::vector<WebhookDelivery>> ClaimWebhookDeliveries(std::string_view webhook,
                                                              std::string_view holder,
                                                              int64_t now_ms, int64_t lease_ms,
                                                              int64_t limit) override;
  Result<bool> FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                     std::string_view holder) override;
  Result<bool> RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                         std::string_view holder, int64_t attempts,
                                         int64_t next_attempt_ms) override;

 private:
  SqliteStore(std::unique_ptr<SqliteDatabase> database, int schema_version)
      : database_(std::move(database)), schema_version_(schema_version) {}

  Result<std::vector<ResourceRecord>> QueryResources(std::string_view sql,
                                                     std::string_view operation,
                                                     std::span<const std::string_view> params);
  // Put and unconditional PutTokens, with mutex_ held.
  Result<ResourceRecord> PutLocked(const ResourceRecord& record);
  Result<TokenRecord> PutTokensLocked(const TokenRecord& record);
  Result<std::optional<int64_t>> StoredTokenVersion(std::string_view connection_key);
  Result<TokenRecord> CompareAndSwapTokens(const TokenRecord& record, int64_t expected_version);
  Result<TokenRecord> GetTokensLocked(std::string_view connection_key);

  std::mutex mutex_;
  std::unique_ptr<SqliteDatabase> database_;  // Guarded by mutex_.
  int schema_version_;
};

}  // namespace credgate::store
