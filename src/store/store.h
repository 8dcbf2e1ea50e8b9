// Store: the durable copy of credgate's state. credgate serves everything from memory; it writes
// here on every management change and every token refresh, and reads everything back once at
// start (ListAll, ListAllTokens, ListAdminKeys).
//
// The interface is blocking. Implementations are thread-safe, but callers on I/O threads must go
// through AsyncStore (async_store.h), which runs every call on one dedicated thread. Every call
// returns a Result: kNotFound for a missing record, kConflict for a failed compare-and-swap,
// kAlreadyExists for a duplicate admin key, kUnavailable when the database cannot be reached or
// is busy, and kInternal for other database failures; messages name the operation and the key.
//
// SqliteStore (sqlite_store.h) and PostgresStore (postgres_store.h) implement it. Versions are
// compared and bumped in one UPDATE ... WHERE version = expected statement, which both databases
// run atomically, so several credgate processes can share one database.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::store {

// A management resource (credential provider, connection, access policy, ...) as JSON.
struct ResourceRecord {
  std::string kind;  // For example "authorizationProvider".
  std::string key;   // A path, for example "authorizationProviders/github/authorizations/alice".
  std::string parent_key;  // The key of the parent resource; "" for a top-level resource.
  std::string body_json;   // Stored verbatim; the store does not parse it.
  int64_t version = 0;     // 1 after the first Put, incremented by every later Put.
  int64_t updated_at = 0;  // Unix seconds, set by the caller.
};

// The tokens of one connection, sealed (crypto/aead.h) by the caller.
struct TokenRecord {
  std::string connection_key;  // The ResourceRecord key of the connection.
  std::string sealed_tokens;   // Binary sealed blob; the store never sees plaintext.
  int64_t version = 0;         // 1 after the first PutTokens, incremented by every later one.
  int64_t expires_at = 0;      // Unix seconds when the access token expires; 0 when unknown.
  int64_t updated_at = 0;      // Unix seconds, set by the caller.
};

// The outcome of Store::AcquireRefreshLease.
struct RefreshLease {
  enum class Outcome {
    kAcquired,    // The caller has the lease and may call the token endpoint.
    kHeld,        // Another holder's lease is in force: wait for its result.
    kSuperseded,  // The stored version is not the caller's: `record` contains newer tokens.
  };
  Outcome outcome = Outcome::kAcquired;
  TokenRecord record;           // The stored token record, for every outcome.
  std::string holder;           // kHeld: the holder whose lease is in force.
  int64_t lease_expires_ms = 0;  // kAcquired, kHeld: when the lease ends, Unix milliseconds.
  // kAcquired: an earlier attempt, recorded by this or another holder, never finished. Its holder
  // stopped after the attempt was recorded, so the provider may have rotated the refresh token
  // without the new one being stored.
  bool unfinished_attempt = false;
  std::string unfinished_holder;          // The holder of that attempt.
  int64_t unfinished_started_ms = 0;      // When that attempt was recorded, Unix milliseconds.
};

// An admin API key, stored as the hex SHA-256 of the key text (crypto/admin_key.h).
struct AdminKeyRecord {
  std::string id;
  std::string key_hash;
  std::string role;
  int64_t created_at = 0;  // Unix seconds.
};

// A connection event (events/connection_event.h) as JSON, in the order the store received it.
struct EventRecord {
  int64_t id = 0;  // Assigned by the store: greater than the id of every event appended before.
  std::string body_json;   // Stored verbatim; the store does not parse it.
  int64_t created_at = 0;  // Unix milliseconds, set by the caller.
};

// A webhook delivery in the outbox: one row per (event, webhook) that has not yet succeeded or
// been given up.
struct WebhookDelivery {
  int64_t event_id = 0;
  std::string webhook;     // The webhook's key, as passed to AppendEvent.
  int64_t attempts = 0;    // Attempts made so far, 0 before the first.
  std::string body_json;   // The event's stored body (EventRecord::body_json), without its id.
  int64_t created_at = 0;  // The event's time, Unix milliseconds.
};

// Writes that Store::ApplyBatch commits together.
struct WriteBatch {
  // Each one stored as Put stores it, in this order.
  std::vector<ResourceRecord> resources;
  // Each one stored as PutTokens without an expected version stores it, after the resources.
  std::vector<TokenRecord> tokens;
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts or replaces the resource at (kind, key). The stored version becomes the previous
  // version plus one, or 1 for a new resource, whatever `record.version` holds. Returns the
  // record as stored.
  virtual Result<ResourceRecord> Put(const ResourceRecord& record) = 0;
  // Fails with kNotFound when there is no resource at (kind, key).
  virtual Result<ResourceRecord> Get(std::string_view kind, std::string_view key) = 0;
  // Returns the resources of `kind` directly under `parent_key`, ordered by key.
  virtual Result<std::vector<ResourceRecord>> List(std::string_view kind,
                                                   std::string_view parent_key) = 0;
  // Returns every resource, ordered by key, so that parents come before their children.
  virtual Result<std::vector<ResourceRecord>> ListAll() = 0;
  // Deletes, in one transaction, the resources at `key` (of any kind), every resource whose key
  // starts with `key + "/"`, and the token records of all of them. Returns the number of
  // resources deleted; 0 is not an error.
  virtual Result<int64_t> DeleteTree(std::string_view key) = 0;

  // Fails with kNotFound when the connection has no token record.
  virtual Result<TokenRecord> GetTokens(std::string_view connection_key) = 0;
  // Writes a token record. With `expected_version` the write is a compare-and-swap: it succeeds
  // only if the stored version equals it (0 means "no record yet"), and fails with kConflict
  // otherwise, so that of two concurrent refreshes only one is kept. Without it the write is
  // unconditional. Either way it clears the refresh lease and attempt, because the tokens are
  // new (a sign-in). Returns the record as stored, with its new version.
  virtual Result<TokenRecord> PutTokens(const TokenRecord& record,
                                        std::optional<int64_t> expected_version) = 0;
  // Returns true when a record was deleted.
  virtual Result<bool> DeleteTokens(std::string_view connection_key) = 0;
  // Returns every token record, ordered by connection key.
  virtual Result<std::vector<TokenRecord>> ListAllTokens() = 0;

  // Master key rotation. Both calls replace sealed bytes whose plaintext is unchanged, so they
  // keep the stored version, so a refresh that read the version before the rewrap still commits. Each one
  // is a single compare-and-swap statement, so a rewrap can run while credgate serves and can
  // stop at any record.
  //
  // Replaces the sealed blob of a token record when its version still equals
  // `expected_version`, keeping the version, expiry, refresh lease and attempt. Returns false,
  // and changes nothing, when the version differs or the record is gone.
  virtual Result<bool> ReplaceSealedTokens(std::string_view connection_key,
                                           int64_t expected_version,
                                           std::string_view sealed_tokens) = 0;
  // Replaces the body of the resource at (kind, key) when its version still equals
  // `expected_version`, keeping the version and updated_at. Returns false, and changes nothing,
  // when the version differs or the resource is gone.
  virtual Result<bool> ReplaceResourceBody(std::string_view kind, std::string_view key,
                                           int64_t expected_version,
                                           std::string_view body_json) = 0;

  // Refresh lease: the cluster-wide single flight of token refreshes. One atomic statement
  // checks and changes the record, so two processes never both hold a connection's lease.
  //
  // Acquires the lease of `connection_key` for `holder` until now_ms + ttl_ms, and records a
  // refresh attempt, when the stored version equals `held_version` and no other holder's lease
  // is in force (its end is after now_ms). Otherwise returns kSuperseded (the version differs) or
  // kHeld, and changes nothing. A holder may acquire its own lease again. An attempt that is
  // still recorded when the lease is acquired is reported as unfinished. Fails with kNotFound
  // when the connection has no token record.
  virtual Result<RefreshLease> AcquireRefreshLease(std::string_view connection_key,
                                                   int64_t held_version, std::string_view holder,
                                                   int64_t now_ms, int64_t ttl_ms) = 0;
  // Stores refreshed tokens when the stored version still equals `expected_version`, whichever
  // holder has the lease. Bumps the version and clears the lease and the attempt. The version is
  // the fencing value: a holder whose lease ran out while it was paused cannot overwrite tokens
  // that another holder stored meanwhile. Fails with kConflict when the version differs, and with
  // kNotFound when the record is gone.
  virtual Result<TokenRecord> CommitRefresh(const TokenRecord& record,
                                            int64_t expected_version) = 0;
  // Ends `holder`'s lease without new tokens. With `attempt_finished` the recorded attempt is
  // cleared too, because the token endpoint responded and rotated nothing; without it the attempt
  // stays recorded, because its outcome is unknown (a timeout, a lost connection). Returns false
  // when `holder` did not hold the lease.
  virtual Result<bool> ReleaseRefreshLease(std::string_view connection_key,
                                           std::string_view holder, bool attempt_finished) = 0;

  // Applies every write of `batch` in one transaction, so either all of them are stored or none
  // is. Returns the batch as stored, with each record's new version. Fails as Put and PutTokens
  // do, and then nothing is stored. On PostgreSQL each write sends its change notification, and
  // listeners receive them only when the transaction commits.
  virtual Result<WriteBatch> ApplyBatch(const WriteBatch& batch) = 0;

  // Inserts an admin key. Fails with kAlreadyExists when the id or the hash is taken.
  virtual Status PutAdminKey(const AdminKeyRecord& record) = 0;
  // Fails with kNotFound when no key has this hash.
  virtual Result<AdminKeyRecord> FindAdminKeyByHash(std::string_view key_hash) = 0;
  // Returns every admin key, ordered by id.
  virtual Result<std::vector<AdminKeyRecord>> ListAdminKeys() = 0;
  // Returns true when a key was deleted.
  virtual Result<bool> DeleteAdminKey(std::string_view id) = 0;

  // Connection events, the feed behind GET /events. Every gateway on a shared database appends
  // to one sequence, so an event id is a cursor that works on every gateway.
  //
  // Appends an event and returns it with its id. In the same transaction it adds one outbox row
  // per key in `webhooks`, due at `created_at`, so that a committed event always has its
  // deliveries. Then it deletes the events whose id is `retain` or more below the new one, with
  // their outbox rows, so the table keeps about the newest `retain` events. Appends commit in id
  // order, so ListEvents never returns an id while a lower one is still to commit.
  virtual Result<EventRecord> AppendEvent(std::string_view body_json, int64_t created_at,
                                          int64_t retain,
                                          std::span<const std::string> webhooks) = 0;
  // Returns up to `limit` events with an id greater than `after_id`, in id order.
  virtual Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int64_t limit) = 0;

  // The webhook outbox: deliveries survive a restart, and on a shared database each one is sent
  // by one gateway at a time. A claim is a lease: one atomic statement hands a row to `holder`
  // until now_ms + lease_ms, and no other holder claims it before that time.
  //
  // Claims up to `limit` deliveries to `webhook` that are due (their next attempt is at or before
  // now_ms) and not leased (no lease, or one that ended at or before now_ms), oldest event first.
  virtual Result<std::vector<WebhookDelivery>> ClaimWebhookDeliveries(std::string_view webhook,
                                                                      std::string_view holder,
                                                                      int64_t now_ms,
                                                                      int64_t lease_ms,
                                                                      int64_t limit) = 0;
  // Deletes a delivery that succeeded or was given up, when `holder` still holds its lease.
  // Returns false, and deletes nothing, when another holder claimed it after the lease ended or
  // the row is gone.
  virtual Result<bool> FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                             std::string_view holder) = 0;
  // Records `attempts` and the time of the next attempt, and ends the lease, when `holder` still
  // holds it. Returns false, and changes nothing, as FinishWebhookDelivery does.
  virtual Result<bool> RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                 std::string_view holder, int64_t attempts,
                                                 int64_t next_attempt_ms) = 0;
};

}  // namespace credgate::store
