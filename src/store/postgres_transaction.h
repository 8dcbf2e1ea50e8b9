// How PostgresStore runs a call on its pool, so that a server restart costs at most one failed
// write and never a half-applied one:
//
// - RunRead runs `body` on a pooled connection. When the connection turns out to be broken (the
//   server restarted, or the backend was terminated), it discards the idle connections and runs
//   `body` once more on a new connection, because a read changes nothing.
// - RunWrite runs `body` between BEGIN and COMMIT. A BEGIN that fails on a broken connection has
//   not changed anything, so it is retried once on a new connection. That is the common case
//   after a restart, when the first statement finds a stale pooled connection. When the
//   connection breaks after BEGIN, the server rolls the transaction back, and the call fails
//   with kUnavailable saying the change was not applied. When it breaks during COMMIT, the
//   outcome cannot be known, and the message says so.
//
// `body` takes a PostgresConnection& and returns a Result<T>. A failed body rolls back.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "store/postgres_pool.h"

namespace credgate::store {

template <class Body>
auto RunRead(PostgresPool& pool, std::string_view operation, Body body)
    -> decltype(body(std::declval<PostgresConnection&>())) {
  for (int attempt = 1;; ++attempt) {
    auto lease = pool.Acquire(operation);
    if (!lease.ok()) return lease.error();
    auto result = body(lease->connection());
    if (result.ok() || !lease->connection().broken() || attempt == 2) return result;
    pool.DiscardIdle();
  }
}

template <class Body>
auto RunWrite(PostgresPool& pool, std::string_view operation, Body body)
    -> decltype(body(std::declval<PostgresConnection&>())) {
  for (int attempt = 1;; ++attempt) {
    auto lease = pool.Acquire(operation);
    if (!lease.ok()) return lease.error();
    PostgresConnection& connection = lease->connection();

    Status begin = connection.ExecuteScript("BEGIN", operation);
    if (!begin.ok()) {
      if (!connection.broken() || attempt == 2) return begin.error();
      pool.DiscardIdle();
      continue;
    }

    auto result = body(connection);
    if (!result.ok()) {
      if (connection.broken()) {
        pool.DiscardIdle();
        Error error = result.error();
        error.code = ErrorCode::kUnavailable;
        error.message +=
            "; the server rolled the transaction back, so the change was not "
            "applied; retry when the database is reachable";
        return error;
      }
      (void)connection.ExecuteScript("ROLLBACK", operation);
      return result;
    }

    Status commit = connection.ExecuteScript("COMMIT", operation);
    if (!commit.ok()) {
      Error error = commit.error();
      if (connection.broken()) {
        pool.DiscardIdle();
        error.message +=
            "; the connection broke during COMMIT, so whether the change was "
            "applied is unknown; read the record back before retrying";
      }
      return error;
    }
    return result;
  }
}

}  // namespace credgate::store
