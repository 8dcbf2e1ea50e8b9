// PostgresStore: the Store on a PostgreSQL database that several credgate processes share.
//
// Open connects once to apply schema migrations (postgres_migrations.h) and then serves every
// call from a small pool of connections (postgres_pool.h), so calls from different threads run
// in parallel. Every method is thread-safe. A call whose connection broke (a server restart, a
// terminated backend) reconnects. Reads, and writes that had not started, are retried once. A
// write whose transaction broke fails with kUnavailable without being applied, as
// postgres_transaction.h describes. Multi-statement writes run in one transaction.
//
// Every write (Put, DeleteTree, PutTokens, CommitRefresh, DeleteTokens) sends a notification on
// the channel `change_channel` in its own transaction, with an EncodeStoreChange payload, so
// that PostgresChangeFeed listeners learn of it exactly when it commits. Refresh lease changes
// are not notified: they do not change what a gateway serves. Channels are per database, not
// per schema, so deployments that share a database in separate schemas need separate channels.
//
// NOTE: statements have no timeout of their own. A server that stops responding without closing
// the connection blocks a call until TCP gives up; a URL parameter such as
// ?options=-cstatement_timeout%3D5000 bounds each statement.
//
// Sealed tokens are BYTEA. Key columns compare with COLLATE "C", as SQLite's BINARY collation.
// Errors are those of store.h: kUnavailable when the server cannot be reached or no pooled
// connection is free in time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "store/change_feed.h"
#include "store/postgres_migrations.h"
#include "store/postgres_pool.h"
#include "store/store.h"

namespace credgate::store {

// The key of the transaction-scoped advisory lock that AppendEvent takes so that event ids
// commit in id order: the bytes of "cgevents" as a big-endian 64-bit number. Advisory locks are
// per database, so deployments that share a database in separate schemas also wait for each
// other's appends.
inline constexpr int64_t kEventLockKey = 7162805291538347123;

// The default LISTEN/NOTIFY channel of store changes.
inline constexpr std::string_view kChangeChannel = "credgate_changes";

struct PostgresStoreOptions {
  // A libpq connection URI, for example postgresql://credgate:secret@db.internal:5432/credgate.
  std::string url;
  // The schema holding credgate's tables, created when missing; empty uses the server's default
  // search_path (normally "public").
  std::string schema;
  // Shown in pg_stat_activity, to tell credgate's connections apart.
  std::string application_name = "credgate";
  // The channel of change notifications; PostgresChangeFeedOptions::channel must match it.
  std::string change_channel = std::string(kChangeChannel);
  size_t pool_size = 4;  // The maximum number of connections open at once.
  // How long a call waits for a free connection, and the timeout of each connection attempt.
  std::chrono::milliseconds acquire_timeout{5000};
  // The schema to migrate to. Tests replace it to check upgrades; everything else keeps the
  // default.
  std::span<const Migration> migrations = PostgresMigrations();
};

class PostgresStore final : public Store {
 public:
  // Connects and applies migrations. Fails with kUnavailable when the server cannot be reached,
  // kInvalidArgument for a malformed URL, and as ApplyPostgresMigrations does.
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresStoreOptions& options);

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
  PostgresStore(std::unique_ptr<PostgresPool> pool, std::string change_channel, int schema_version)
      : pool_(std::move(pool)),
        change_channel_(std::move(change_channel)),
        schema_version_(schema_version) {}

  Result<std::vector<ResourceRecord>> QueryResources(std::string_view sql,
                                                     std::string_view operation,
                                                     std::span<const PgParam> params);
  Result<std::vector<TokenRecord>> QueryTokens(PostgresConnection& connection, std::string_view sql,
                                               std::string_view operation,
                                               std::span<const PgParam> params);
  Result<std::vector<AdminKeyRecord>> QueryAdminKeys(std::string_view sql,
                                                     std::string_view operation,
                                                     std::span<const PgParam> params);
  // Writes the resource record in the open transaction of `connection`, as Put does, and sends
  // the change notification.
  Result<ResourceRecord> WriteResource(PostgresConnection& connection, const ResourceRecord& record,
                                       std::string_view operation);
  // Writes the token record in the open transaction of `connection`: unconditionally without
  // `expected_version`, as a compare-and-swap with it. Sends the change notification. A failed
  // swap is kConflict, or kNotFound with `missing_is_not_found` when there is no record.
  Result<TokenRecord> WriteTokens(PostgresConnection& connection, const TokenRecord& record,
                                  std::optional<int64_t> expected_version,
                                  std::string_view operation, bool missing_is_not_found = false);

  std::unique_ptr<PostgresPool> pool_;
  const std::string change_channel_;
  int schema_version_;
};

// Sends `change` on `channel` in the open transaction of `connection`. A payload longer
// than NOTIFY accepts (8000 bytes) is sent as kResync instead.
Status NotifyChange(PostgresConnection& connection, std::string_view channel,
                    const StoreChange& change, std::string_view operation);

}  // namespace credgate::store
