// ConnectionPool: idle keep-alive connections keyed by origin and by the execution context that
// owns their sockets, so that an application running one io_context per core gets per-core
// pools and never drives a socket from another context.
//
// Thread-safe: Acquire() and Release() take one mutex for the time of a vector push or pop, and
// never probe or close a socket while holding it.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/connection.h"

namespace credgate::http {

struct PoolOptions {
  size_t max_idle_per_origin = 32;                 // Idle connections kept per origin and context.
  std::chrono::milliseconds idle_timeout{30'000};  // An idle connection older than this is closed.
};

class ConnectionPool {
 public:
  explicit ConnectionPool(PoolOptions options) : options_(options) {}

  // Returns the most recently released live connection for (`context`, `origin_key`), or null.
  // Connections that expired or that the peer closed are discarded on the way.
  std::unique_ptr<Connection> Acquire(const boost::asio::execution_context& context,
                                      const std::string& origin_key);

  // Stores `connection` as idle. When the origin already has max_idle_per_origin idle
  // connections, the oldest is closed.
  void Release(const boost::asio::execution_context& context, const std::string& origin_key,
               std::unique_ptr<Connection> connection);

  size_t IdleCount() const;

 private:
  using Key = std::pair<const void*, std::string>;
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return std::hash<const void*>()(key.first) ^ std::hash<std::string>()(key.second);
    }
  };

  const PoolOptions options_;
  mutable std::mutex mutex_;
  // Oldest first, so Acquire() pops the warmest connection from the back.
  std::unordered_map<Key, std::vector<std::unique_ptr<Connection>>, KeyHash> idle_;
};

}  // namespace credgate::http
