#include "http/connection_pool.h"

namespace credgate::http {

std::unique_ptr<Connection> ConnectionPool::Acquire(const boost::asio::execution_context& context,
                                                    const std::string& origin_key) {
  const SteadyTime now = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<std::unique_ptr<Connection>> expired;
    std::unique_ptr<Connection> candidate;
    {
      std::lock_guard lock(mutex_);
      auto it = idle_.find(Key(&context, origin_key));
      if (it == idle_.end()) return nullptr;
      auto& connections = it->second;
      while (!connections.empty() && !candidate) {
        std::unique_ptr<Connection> newest = std::move(connections.back());
        connections.pop_back();
        if (now - newest->idle_since < options_.idle_timeout) {
          candidate = std::move(newest);
        } else {
          expired.push_back(std::move(newest));
        }
      }
    }
    // Sockets close, and the liveness probe (a system call) runs, outside the lock, so that
    // the I/O threads sharing this pool do not wait on each other.
    for (auto& connection : expired) connection->Close();
    if (!candidate) return nullptr;
    if (candidate->LooksReusable()) return candidate;
    candidate->Close();
  }
}

void ConnectionPool::Release(const boost::asio::execution_context& context,
                             const std::string& origin_key,
                             std::unique_ptr<Connection> connection) {
  const SteadyTime now = std::chrono::steady_clock::now();
  connection->idle_since = now;
  std::vector<std::unique_ptr<Connection>> discarded;
  {
    std::lock_guard lock(mutex_);
    auto& connections = idle_[Key(&context, origin_key)];
    // Expired connections sit at the front because the vector is ordered by release time.
    size_t expired = 0;
    while (expired < connections.size() &&
           now - connections[expired]->idle_since >= options_.idle_timeout) {
      ++expired;
    }
    if (options_.max_idle_per_origin > 0 &&
        connections.size() - expired >= options_.max_idle_per_origin) {
      ++expired;
    }
    for (size_t i = 0; i < expired; ++i) discarded.push_back(std::move(connections[i]));
    connections.erase(connections.begin(), connections.begin() + static_cast<ptrdiff_t>(expired));
    if (options_.max_idle_per_origin > 0) {
      connections.push_back(std::move(connection));
    } else {
      discarded.push_back(std::move(connection));
    }
  }
  for (auto& idle : discarded) idle->Close();
}

size_t ConnectionPool::IdleCount() const {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (const auto& [key, connections] : idle_) count += connections.size();
  return count;
}

}  // namespace credgate::http
