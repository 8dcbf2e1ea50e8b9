// ConnectionPool: idle keep-alive connections keyed by origin and by the execution context that
// owns their sockets, so that an application running one io_context per core gets per-core
// pools and never drives a socket from another context.
//
// Thread-safe: the pool is split into shards by execution context, each behind its own mutex,
// so that I/O threads running different io_contexts rarely take the same mutex. Acquire() and
// Release() hold it for the time of a vector push or pop, and never probe or close a socket
// while holding it.
#pragma once

#include <array>
#include <boost/asio/execution_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/connection.h"

namespace credgate::http {

struct PoolOptions {
  size_t max_idle_per_origin = 32;                 // Idle connections kept per origin and context.
  std::chrono::milliseconds idle_timeout{30'000};  // An idle connection older than this is closed.
  // A connection idle for less than this skips the liveness probe, which costs a system call.
  // If the backend closed it meanwhile, the request fails before any response byte and the
  // proxy retries it on a new connection.
  std::chrono::milliseconds probe_after_idle{1'000};
};

class ConnectionPool {
 public:
  explicit ConnectionPool(PoolOptions options) : options_(options) {}

  // Returns the most recently released live connection for (`context`, `origin_key`), or null.
  // Connections that expired, or that were idle for probe_after_idle and fail the liveness
  // probe, are discarded on the way.
  std::unique_ptr<Connection> Acquire(const boost::asio::execution_context& context,
                                      const std::string& origin_key);

  // Stores `connection` as idle. When the origin already has max_idle_per_origin idle
  // connections, the oldest is closed.
  void Release(const boost::asio::execution_context& context, const std::string& origin_key,
               std::unique_ptr<Connection> connection);

  size_t IdleCount() const;

 private:
  using Key = std::pair<const void*, std::string>;
  // Looks up (context, origin) pairs without building a Key, so Acquire() allocates nothing.
  using KeyView = std::pair<const void*, std::string_view>;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& key) const {
      return std::hash<const void*>()(key.first) ^ std::hash<std::string_view>()(key.second);
    }
    size_t operator()(const Key& key) const { return (*this)(KeyView(key.first, key.second)); }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.first == b.first && std::string_view(a.second) == std::string_view(b.second);
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    // Oldest first, so Acquire() pops the warmest connection from the back.
    std::unordered_map<Key, std::vector<std::unique_ptr<Connection>>, KeyHash, KeyEqual> idle;
  };
  static constexpr size_t kShards = 16;

  Shard& ShardFor(const boost::asio::execution_context& context);

  const PoolOptions options_;
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::http
