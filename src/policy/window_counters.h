// WindowCounters: in-memory counters per key in fixed time windows, for rate-limit-by-key and
// quota-by-key. They count calls, or bytes for the bandwidth of quota-by-key. Counters live in
// this process only, so each gateway of a cluster counts separately, and they restart when the
// policy is saved again.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace credgate::policy {

struct WindowDecision {
  bool allowed = true;
  int64_t remaining = 0;  // Calls left in the window after this one.
  std::chrono::seconds
      retry_after{};  // Time until the window ends; 0 for a window that never ends.
};

// Thread-safe: keys are spread over kShards maps, each under its own mutex.
class WindowCounters {
 public:
  // `max_keys` bounds the keys kept; a full shard first drops keys of past windows, then any key.
  explicit WindowCounters(size_t max_keys);

  // Checks and counts one call of `key` in the window of `period` that contains `now`, windows
  // starting at `origin`. A zero `period` is one window that never ends. When count + increment
  // exceeds `limit` the call is not counted and `allowed` is false. With `count` false the call
  // is only checked.
  WindowDecision Consume(const std::string& key, int64_t limit, int64_t increment,
                         std::chrono::seconds period, TimePoint origin, TimePoint now, bool count);

  // Adds `amount` to `key` in the window that contains `at`, without a limit, for bytes known
  // only after the response. Nothing is added when the key has moved on to a later window.
  void Add(const std::string& key, int64_t amount, std::chrono::seconds period, TimePoint origin,
           TimePoint at);

  static constexpr size_t kShards = 16;

 private:
  struct Entry {
    int64_t window = 0;
    int64_t calls = 0;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
  };

  // Returns the entry of `key` reset to `window` when it was in another one, making room
  // for a new key first. The caller holds shard.mutex.
  Entry& EntryFor(Shard& shard, const std::string& key, int64_t window);

  size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::policy
