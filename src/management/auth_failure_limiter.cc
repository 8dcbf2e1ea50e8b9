#include "management/auth_failure_limiter.h"

namespace credgate::management {

std::optional<std::chrono::seconds> AuthFailureLimiter::RetryAfter(std::string_view peer) {
  if (limits_.max_failures == 0) return std::nullopt;
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mutex_);
  auto found = failures_.find(std::string(peer));
  if (found == failures_.end() || found->second.size() < limits_.max_failures) {
    return std::nullopt;
  }
  const TimePoint allowed_at = found->second.front() + limits_.window;
  if (allowed_at <= now) return std::nullopt;
  ++counters_.limited;
  auto wait = std::chrono::ceil<std::chrono::seconds>(allowed_at - now);
  return std::max(wait, std::chrono::seconds(1));
}

bool AuthFailureLimiter::RecordFailure(std::string_view peer) {
  if (limits_.max_failures == 0) return false;
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mutex_);
  ++counters_.failures;
  std::string key(peer);
  if (!failures_.contains(key) && failures_.size() >= limits_.max_peers) DropOldPeersLocked(now);
  auto& times = failures_[key];
  times.push_back(now);
  while (times.size() > limits_.max_failures) times.pop_front();
  return times.size() == limits_.max_failures && times.front() + limits_.window > now;
}

void AuthFailureLimiter::DropOldPeersLocked(TimePoint now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    if (it->second.back() + limits_.window <= now) {
      it = failures_.erase(it);
    } else {
      ++it;
    }
  }
  if (failures_.size() < limits_.max_peers) return;
  auto oldest = failures_.begin();
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->second.back() < oldest->second.back()) oldest = it;
  }
  failures_.erase(oldest);
}

AuthFailureCounters AuthFailureLimiter::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace credgate::management
