#include "store/postgres_pool.h"

#include <algorithm>

namespace credgate::store {

PostgresPool::Lease::~Lease() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Return(std::move(connection_));
}

PostgresPool::PostgresPool(PostgresPoolOptions options) : options_(std::move(options)) {}

Result<PostgresPool::Lease> PostgresPool::Acquire(std::string_view operation) {
  const size_t size = std::max<size_t>(1, options_.size);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_lock lock(mutex_);
  while (idle_.empty() && open_ >= size) {
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= size) {
      return MakeError(ErrorCode::kUnavailable,
                       std::string(operation) + " found no free PostgreSQL connection within " +
                           std::to_string(options_.acquire_timeout.count()) + " ms; all " +
                           std::to_string(size) + " are in use, so raise the pool size or " +
                           "look for slow statements");
    }
  }
  if (!idle_.empty()) {
    std::unique_ptr<PostgresConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (!connection->broken()) return Lease(this, std::move(connection));
    --open_;  // Replaced below.
  }

  // Connect without holding the lock, so that other calls can return connections meanwhile.
  ++open_;
  lock.unlock();
  PostgresConnectOptions connect = options_.connect;
  connect.connect_timeout = options_.acquire_timeout;
  auto connection = PostgresConnection::Connect(connect);
  if (!connection.ok()) {
    lock.lock();
    --open_;
    released_.notify_one();
    Error error = connection.error();
    error.message = std::string(operation) + ": " + error.message;
    return error;
  }
  return Lease(this, std::move(*connection));
}

void PostgresPool::DiscardIdle() {
  std::vector<std::unique_ptr<PostgresConnection>> discarded;
  {
    std::lock_guard lock(mutex_);
    discarded.swap(idle_);
    open_ -= discarded.size();
  }
  released_.notify_all();
  // The connections close here, outside the lock.
}

void PostgresPool::Return(std::unique_ptr<PostgresConnection> connection) {
  // A connection left inside a transaction (a caller that failed to end it) is not reusable.
  bool reusable =
      !connection->broken() && PQtransactionStatus(connection->handle()) == PQTRANS_IDLE;
  {
    std::lock_guard lock(mutex_);
    if (reusable) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  released_.notify_one();
  // An unusable connection closes here, outside the lock.
}

}  // namespace credgate::store
