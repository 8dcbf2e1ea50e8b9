#include "policy/window_counters.h"

#include <algorithm>
#include <functional>

namespace credgate::policy {

WindowCounters::WindowCounters(size_t max_keys)
    : max_keys_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

WindowDecision WindowCounters::Consume(const std::string& key, int64_t limit, int64_t increment,
                                       std::chrono::seconds period, TimePoint origin, TimePoint now,
                                       bool count) {
  const int64_t elapsed =
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(now - origin).count());
  const int64_t length = period.count();
  const int64_t window = length > 0 ? elapsed / length : 0;
  WindowDecision decision;
  if (length > 0) decision.retry_after = std::chrono::seconds((window + 1) * length - elapsed);

  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
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
  if (entry.calls + increment > limit) {
    decision.allowed = false;
    decision.remaining = std::max<int64_t>(0, limit - entry.calls);
    return decision;
  }
  if (count) entry.calls += increment;
  decision.remaining = limit - entry.calls;
  return decision;
}

}  // namespace credgate::policy
