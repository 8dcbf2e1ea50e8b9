// The per-connection state of TokenManager, shared by token_manager.cc (lookups and refresh
// decisions) and token_refresh.cc (the refresh coroutine). Private to those two files.
#pragma once

#include <boost/asio/experimental/concurrent_channel.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "credentials/retry_backoff.h"
#include "credentials/token_manager.h"

namespace credgate::credentials {

using TokenResult = Result<std::shared_ptr<const TokenSet>>;
// Capacity 1, so the completion signal is kept when it arrives before the waiter receives.
using WakeChannel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

inline bool IsUsable(const TokenSet& tokens, TimePoint now) {
  return !tokens.expires_at || now < *tokens.expires_at;
}

// One refresh in progress and the callers waiting for it. Fields are guarded by mutex_.
struct TokenManager::Flight {
  std::vector<std::shared_ptr<WakeChannel>> waiters;
  std::optional<TokenResult> outcome;  // Set once, when the refresh completes.
};

struct TokenManager::Entry {
  std::shared_ptr<const TokenSet> tokens;
  // Tokens a refresh returned that SaveTokens failed to store. They are saved before use,
  // because after a refresh token rotation the old refresh token may no longer work.
  std::shared_ptr<const TokenSet> unsaved;
  ConnectionState state;
  bool refresh_blocked = false;  // Until SetTokens, after ReloginRequired.
  TimePoint next_attempt_at{};
  int failures = 0;  // Consecutive failed refreshes or saves, for the backoff.
  std::optional<Error> last_failure;
  std::shared_ptr<Flight> flight;
  uint64_t generation = 0;
  bool used = false;            // A request received `tokens`.
  bool from_rejection = false;  // `tokens` came from a refresh that a backend 401 forced.
};

// The inputs of one refresh coroutine, copied out of the entry under the lock.
struct TokenManager::RefreshJob {
  std::shared_ptr<Flight> flight;
  uint64_t generation = 0;
  std::shared_ptr<const ProviderConfig> provider;
  std::shared_ptr<const TokenSet> current;
  std::shared_ptr<const TokenSet> unsaved;
  Cause cause = Cause::kRequest;
};

// The result of looking at an entry: a result to return now, or a flight to wait for.
struct TokenManager::Decision {
  std::optional<TokenResult> ready;
  std::shared_ptr<Flight> flight;
  std::shared_ptr<WakeChannel> channel;
  std::shared_ptr<RefreshJob> job;  // Set when this caller starts the refresh.
};

}  // namespace credgate::credentials
