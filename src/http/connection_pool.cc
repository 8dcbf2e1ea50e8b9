#include "http/connection_pool.h"

#include <cstdint>

namespace credgate::http {

ConnectionPool::Shard& ConnectionPool::ShardFor(const boost::asio::execution_context& context) {
  // Drops the low address bits, which allocation alignment makes alike for every context.
  return shards_[(reinterpret_cast<uintptr_t>(&context) >> 6) % kShards];
}

std::unique_ptr<Connection> ConnectionPool::Acquire(const boost::asio::execution_context& context,
                                                    const std::string& origin_key) {
  const SteadyTime now = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<std::unique_ptr<Connection>> expired;
    std::unique_ptr<Connection> candidate;
    {
      Shard& shard = ShardFor(context);
      std::lock_guard lock(shard.mutex);
      auto it = shard.idle.find(KeyView(&context, origin_key));
      if (it == shard.idle.end()) return nullptr;
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
    if (now - candidate->idle_since < options_.probe_after_idle) return candidate;
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
    Shard& shard = ShardFor(context);
    std::lock_guard lock(shard.mutex);
    auto found = shard.idle.find(KeyView(&context, origin_key));
    if (found == shard.idle.end()) {
      found = shard.idle.try_emplace(Key(&context, origin_key)).first;
    }
    auto& connections = found->second;
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
  size_t count = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [key, connections] : shard.idle) count += connections.size();
  }
  return count;
}

}  // namespace credgate::http
