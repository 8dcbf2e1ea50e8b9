// The refresh lease methods of SqliteStore. Each runs in one BEGIN IMMEDIATE transaction, which
// holds SQLite's write lock from its first statement, so the read of the lease and its change
// are atomic against other processes on the same file too.
#include "store/sqlite_store.h"

#include "store/resource_keys.h"

namespace credgate::store {

Result<RefreshLease> SqliteStore::AcquireRefreshLease(std::string_view connection_key,
                                                      int64_t held_version,
                                                      std::string_view holder, int64_t now_ms,
                                                      int64_t ttl_ms) {
  if (holder.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a refresh lease needs a holder name");
  }
  std::lock_guard lock(mutex_);
  const std::string operation = "AcquireRefreshLease of " + Quoted(connection_key);
  auto transaction = SqliteTransaction::Begin(*database_, operation);
  if (!transaction.ok()) return transaction.error();

  auto record = GetTokensLocked(connection_key);
  if (!record.ok()) return record.error();
  auto state = database_->Prepare(
      "SELECT lease_holder, lease_expires_ms, attempt_holder, attempt_started_ms FROM tokens "
      "WHERE connection_key = ?1",
      operation);
  if (!state.ok()) return state.error();
  (*state)->BindText(1, connection_key);
  auto row = (*state)->Step(operation);
  if (!row.ok()) return row.error();
  RefreshLease lease;
  lease.record = std::move(*record);
  const std::string lease_holder = (*state)->ColumnText(0);
  const int64_t lease_expires_ms = (*state)->ColumnInt64(1);
  const std::string attempt_holder = (*state)->ColumnText(2);
  const int64_t attempt_started_ms = (*state)->ColumnInt64(3);
  state->reset();

  if (lease.record.version != held_version) {
    lease.outcome = RefreshLease::Outcome::kSuperseded;
    return lease;
  }
  if (!lease_holder.empty() && lease_holder != holder && lease_expires_ms > now_ms) {
    lease.outcome = RefreshLease::Outcome::kHeld;
    lease.holder = lease_holder;
    lease.lease_expires_ms = lease_expires_ms;
    return lease;
  }

  auto take = database_->Prepare(
      "UPDATE tokens SET lease_holder = ?2, lease_expires_ms = ?3, attempt_holder = ?2, "
      "attempt_started_ms = ?4 WHERE connection_key = ?1",
      operation);
  if (!take.ok()) return take.error();
  (*take)->BindText(1, connection_key);
  (*take)->BindText(2, holder);
  (*take)->BindInt64(3, now_ms + ttl_ms);
  (*take)->BindInt64(4, now_ms);
  CREDGATE_RETURN_IF_ERROR((*take)->Run(operation));
  CREDGATE_RETURN_IF_ERROR((*transaction)->Commit());

  lease.outcome = RefreshLease::Outcome::kAcquired;
  lease.holder = std::string(holder);
  lease.lease_expires_ms = now_ms + ttl_ms;
  lease.unfinished_attempt = !attempt_holder.empty();
  lease.unfinished_holder = attempt_holder;
  lease.unfinished_started_ms = attempt_started_ms;
  return lease;
}

Result<TokenRecord> SqliteStore::CommitRefresh(const TokenRecord& record,
                                               int64_t expected_version) {
  if (expected_version <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "CommitRefresh of " + Quoted(record.connection_key) +
                         " needs the version the refresh started from, which is at least 1");
  }
  auto stored = PutTokens(record, expected_version);
  if (!stored.ok() && stored.error().code == ErrorCode::kConflict) {
    std::lock_guard lock(mutex_);
    // PutTokens reports a missing record as a conflict; CommitRefresh names it.
    auto current = GetTokensLocked(record.connection_key);
    if (!current.ok()) return current.error();
  }
  return stored;
}

Result<bool> SqliteStore::ReleaseRefreshLease(std::string_view connection_key,
                                              std::string_view holder, bool attempt_finished) {
  std::lock_guard lock(mutex_);
  const std::string operation = "ReleaseRefreshLease of " + Quoted(connection_key);
  auto release = database_->Prepare(
      attempt_finished
          ? "UPDATE tokens SET lease_holder = '', lease_expires_ms = 0, attempt_holder = '', "
            "attempt_started_ms = 0 WHERE connection_key = ?1 AND lease_holder = ?2 RETURNING 1"
          : "UPDATE tokens SET lease_holder = '', lease_expires_ms = 0 "
            "WHERE connection_key = ?1 AND lease_holder = ?2 RETURNING 1",
      operation);
  if (!release.ok()) return release.error();
  (*release)->BindText(1, connection_key);
  (*release)->BindText(2, holder);
  auto row = (*release)->Step(operation);
  if (!row.ok()) return row.error();
  const bool released = *row;
  CREDGATE_RETURN_IF_ERROR((*release)->Run(operation));
  return released;
}

}  // namespace credgate::store
