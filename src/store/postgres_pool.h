// PostgresPool: a fixed number of libpq connections shared by the threads of one PostgresStore.
// Connections are made on first need, and a connection found broken is closed and replaced by a
// new one on the next Acquire, which is how the pool recovers after the server restarts.
// Acquire and the Lease destructor are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/postgres_connection.h"

namespace credgate::store {

struct PostgresPoolOptions {
  PostgresConnectOptions connect;
  size_t size = 4;  // The maximum number of connections open at once; 0 counts as 1.
  // How long Acquire waits for a free connection, and the connect timeout of new ones.
  std::chrono::milliseconds acquire_timeout{5000};
};

class PostgresPool {
 public:
  // A connection borrowed from the pool; the destructor returns it, or closes it when broken.
  class Lease {
   public:
    Lease(PostgresPool* pool, std::unique_ptr<PostgresConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    PostgresConnection& connection() { return *connection_; }

   private:
    PostgresPool* pool_;
    std::unique_ptr<PostgresConnection> connection_;
  };

  explicit PostgresPool(PostgresPoolOptions options);

  // Returns an idle connection, or a new one while fewer than `size` are open. Fails with
  // kUnavailable when no connection is free within acquire_timeout, or when connecting fails;
  // `operation` names the caller in the message.
  Result<Lease> Acquire(std::string_view operation);

  // Closes every idle connection. Callers use it after finding a connection broken, because a
  // server restart breaks the idle ones too, and a retry should not pick another dead one.
  void DiscardIdle();

  const PostgresPoolOptions& options() const { return options_; }

 private:
  void Return(std::unique_ptr<PostgresConnection> connection);

  const PostgresPoolOptions options_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;  // Guarded by mutex_.
  size_t open_ = 0;  // Idle plus leased plus being connected; guarded by mutex_.
};

}  // namespace credgate::store
