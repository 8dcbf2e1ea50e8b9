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

// One connection of TokenManager::entries_.
struct TokenManager::Entry {
  // The refresh fields that matter only while a refresh runs, after a refresh failed, or while
  // refreshed tokens wait to be saved. Most connections have none of these between two loads,
  // so the entry keeps them behind a pointer. It is allocated by the first change of a field
  // and freed when a refresh ends or new tokens arrive with every field back at its default.
  struct RefreshState {
    // Tokens a refresh returned that SaveTokens failed to store. They are saved before use,
    // because after a refresh token rotation the old refresh token may no longer work.
    std::shared_ptr<const TokenSet> unsaved;
    ConnectionState state;
    TimePoint next_attempt_at{};
    int failures = 0;  // Consecutive failed refreshes or saves, for the backoff.
    std::optional<Error> last_failure;
    std::shared_ptr<Flight> flight;

    bool IsDefault() const {
      return unsaved == nullptr && state.status == ConnectionStatus::kConnected &&
             state.error.code.empty() && state.error.message.empty() &&
             next_attempt_at == TimePoint{} && failures == 0 && !last_failure &&
             flight == nullptr;
    }
  };

  std::shared_ptr<const TokenSet> tokens;
  std::unique_ptr<RefreshState> refresh;  // Null for most connections.
  uint64_t generation = 0;
  bool refresh_blocked = false;  // Until SetTokens, after ReloginRequired.
  bool used = false;             // A request received `tokens`.
  bool from_rejection = false;   // `tokens` came from a refresh that a backend 401 forced.
  uint32_t key_size_ = 0;        // The connection key's characters follow the entry (KeyedSet).

  std::string_view key() const { return KeyedSet<Entry>::KeyOf(*this); }

  // Gives the entry new tokens and a new generation, with every other field at its default. A
  // refresh that started before finds another generation and leaves the entry alone.
  void Replace(std::shared_ptr<const TokenSet> new_tokens, uint64_t new_generation) {
    const uint32_t key_size = key_size_;
    *this = Entry{};
    key_size_ = key_size;
    tokens = std::move(new_tokens);
    generation = new_generation;
  }

  // The fields of RefreshState, with their defaults when it is not allocated.
  const std::shared_ptr<const TokenSet>& unsaved() const {
    return refresh != nullptr ? refresh->unsaved : kDefaults.unsaved;
  }
  const ConnectionState& state() const {
    return refresh != nullptr ? refresh->state : kDefaults.state;
  }
  TimePoint next_attempt_at() const {
    return refresh != nullptr ? refresh->next_attempt_at : TimePoint{};
  }
  const std::optional<Error>& last_failure() const {
    return refresh != nullptr ? refresh->last_failure : kDefaults.last_failure;
  }
  const std::shared_ptr<Flight>& flight() const {
    return refresh != nullptr ? refresh->flight : kDefaults.flight;
  }

  // Returns the refresh state for a change, allocating it on the first call.
  RefreshState& MutableRefresh() {
    if (refresh == nullptr) refresh = std::make_unique<RefreshState>();
    return *refresh;
  }

  // Clears the fields that new tokens reset: the unsaved tokens, the Error status, the backoff
  // and the last failure. A running flight stays.
  void ClearFailure() {
    if (refresh == nullptr) return;
    std::shared_ptr<Flight> running = std::move(refresh->flight);
    *refresh = RefreshState{};
    refresh->flight = std::move(running);
    Compact();
  }

  // Frees the refresh state once every field has its default again.
  void Compact() {
    if (refresh != nullptr && refresh->IsDefault()) refresh.reset();
  }

  static const RefreshState kDefaults;
};

inline const TokenManager::Entry::RefreshState TokenManager::Entry::kDefaults{};

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
