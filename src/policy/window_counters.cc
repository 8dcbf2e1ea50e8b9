#include "policy/window_counters.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

namespace credgate::policy {

WindowCounters::WindowCounters(size_t max_keys)
    : max_keys_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

namespace {

// The index of the window of `period` that contains `now`, windows starting at `origin`, and the
// seconds elapsed since `origin`. A zero `period` is one window, index 0.
std::pair<int64_t, int64_t> WindowOf(std::chrono::seconds period, TimePoint origin, TimePoint now) {
  const int64_t elapsed =
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - origin).count());
  const int64_t length = period.count();
  return {length > 0 ? elapsed / length : 0, elapsed};
}

}  // namespace

WindowCounters::Entry& WindowCounters::EntryFor(Shard& shard, const std::string& key,
                                                int64_t window) {
  auto found = shard.entries.find(key);
  if (found == shard.entries.end()) {
    if (shard.entries.size() >= max_keys_per_shard_) {
      std::erase_if(shard.entries, [&](const auto& item) { return item.second.window < window; });
      if (shard.entries.size() >= max_keys_per_shard_) shard.entries.erase(shard.entries.begin());
    }
    found = shard.entries.emplace(key, Entry{window, 0}).first;
  }
  Entry& entry = found->second;
  if (entry.window != window) entry = Entry{window, 0};
  return entry;
}

WindowDecision WindowCounters::Consume(const std::string& key, int64_t limit, int64_t increment,
                                       std::chrono::seconds period, TimePoint origin, TimePoint now,
                                       bool count) {
  const auto [window, elapsed] = WindowOf(period, origin, now);
  const int64_t length = period.count();
  WindowDecision decision;
  if (length > 0) decision.retry_after = std::chrono::seconds((window + 1) * length - elapsed);

  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  Entry& entry = EntryFor(shard, key, window);
  // Written so that a counter that Add() saturated cannot overflow.
  if (increment > limit - entry.calls) {
    decision.allowed = false;
    decision.remaining = std::max<int64_t>(0, limit - entry.calls);
    return decision;
  }
  if (count) entry.calls += increment;
  decision.remaining = limit - entry.calls;
  return decision;
}

void WindowCounters::Add(const std::string& key, int64_t amount, std::chrono::seconds period,
                         TimePoint origin, TimePoint at) {
  const int64_t window = WindowOf(period, origin, at).first;
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  if (auto found = shard.entries.find(key);
      found != shard.entries.end() && found->second.window > window) {
    return;
  }
  Entry& entry = EntryFor(shard, key, window);
  // Saturates, because a counter that reached the limit rejects anyway.
  entry.calls = amount > std::numeric_limits<int64_t>::max() - entry.calls
                    ? std::numeric_limits<int64_t>::max()
                    : entry.calls + amount;
}

}  // namespace credgate::policy
