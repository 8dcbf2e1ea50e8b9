// The refresh lease methods of PostgresStore. AcquireRefreshLease reads the row with SELECT ...
// FOR UPDATE and changes it in the same transaction, so a concurrent caller in any process waits
// for the row lock and then reads the lease that this one took.
#include "store/postgres_store.h"
#include "store/postgres_transaction.h"
#include "store/resource_keys.h"

namespace credgate::store {

Result<RefreshLease> PostgresStore::AcquireRefreshLease(std::string_view connection_key,
                                                        int64_t held_version,
                                                        std::string_view holder, int64_t now_ms,
                                                        int64_t ttl_ms) {
  if (holder.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a refresh lease needs a holder name");
  }
  const std::string operation = "AcquireRefreshLease of " + Quoted(connection_key);
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<RefreshLease> {
    const PgParam key[] = {PgParam::Text(connection_key)};
    auto row = connection.Execute(
        "SELECT connection_key, sealed_tokens, version, expires_at, updated_at, lease_holder, "
        "lease_expires_ms, attempt_holder, attempt_started_ms FROM tokens "
        "WHERE connection_key = $1 FOR UPDATE",
        key, operation);
    if (!row.ok()) return row.error();
    if (row->rows() == 0) {
      return MakeError(ErrorCode::kNotFound,
                       "no token record for connection " + Quoted(connection_key));
    }
    RefreshLease lease;
    lease.record = TokenRecord{row->Bytes(0, 0), row->Bytes(0, 1), row->Int64(0, 2),
                               row->Int64(0, 3), row->Int64(0, 4)};
    const std::string lease_holder = row->Bytes(0, 5);
    const int64_t lease_expires_ms = row->Int64(0, 6);
    const std::string attempt_holder = row->Bytes(0, 7);
    const int64_t attempt_started_ms = row->Int64(0, 8);

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

    const PgParam take_params[] = {PgParam::Text(connection_key), PgParam::Text(holder),
                                   PgParam::Int64(now_ms + ttl_ms), PgParam::Int64(now_ms)};
    auto take = connection.Execute(
        "UPDATE tokens SET lease_holder = $2, lease_expires_ms = $3, attempt_holder = $2, "
        "attempt_started_ms = $4 WHERE connection_key = $1",
        take_params, operation);
    if (!take.ok()) return take.error();

    lease.outcome = RefreshLease::Outcome::kAcquired;
    lease.holder = std::string(holder);
    lease.lease_expires_ms = now_ms + ttl_ms;
    lease.unfinished_attempt = !attempt_holder.empty();
    lease.unfinished_holder = attempt_holder;
    lease.unfinished_started_ms = attempt_started_ms;
    return lease;
  });
}

Result<TokenRecord> PostgresStore::CommitRefresh(const TokenRecord& record,
                                                 int64_t expected_version) {
  if (expected_version <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "CommitRefresh of " + Quoted(record.connection_key) +
                         " needs the version the refresh started from, which is at least 1");
  }
  const std::string operation = "CommitRefresh of " + Quoted(record.connection_key);
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<TokenRecord> {
    return WriteTokens(connection, record, expected_version, operation,
                       /*missing_is_not_found=*/true);
  });
}

Result<bool> PostgresStore::ReleaseRefreshLease(std::string_view connection_key,
                                                std::string_view holder, bool attempt_finished) {
  const std::string operation = "ReleaseRefreshLease of " + Quoted(connection_key);
  const PgParam params[] = {PgParam::Text(connection_key), PgParam::Text(holder)};
  return RunWrite(*pool_, operation, [&](PostgresConnection& connection) -> Result<bool> {
    auto released = connection.Execute(
        attempt_finished
            ? "UPDATE tokens SET lease_holder = '', lease_expires_ms = 0, attempt_holder = '', "
              "attempt_started_ms = 0 WHERE connection_key = $1 AND lease_holder = $2"
            : "UPDATE tokens SET lease_holder = '', lease_expires_ms = 0 "
              "WHERE connection_key = $1 AND lease_holder = $2",
        params, operation);
    if (!released.ok()) return released.error();
    return released->AffectedRows() > 0;
  });
}

}  // namespace credgate::store
