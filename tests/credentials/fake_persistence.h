// FakePersistence: a TokenPersistence for tests that records saves and connection errors, and
// fails saves on request.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "credentials/token_manager.h"

namespace credgate::credentials::testing {

class FakePersistence final : public TokenPersistence {
 public:
  boost::asio::awaitable<Result<int64_t>> SaveTokens(const std::string& key,
                                                     const TokenSet& tokens) override {
    std::lock_guard lock(mutex_);
    ++saves_;
    last_key_ = key;
    last_access_token_ = std::string(tokens.access_token.Expose());
    if (fail_saves_) co_return MakeError(ErrorCode::kUnavailable, "store is down");
    co_return static_cast<int64_t>(saves_);
  }
  boost::asio::awaitable<void> MarkConnectionError(const std::string& key,
                                                   ConnectionError error) override {
    std::lock_guard lock(mutex_);
    errors_.push_back({key, std::move(error)});
    co_return;
  }

  std::mutex mutex_;
  int saves_ = 0;
  bool fail_saves_ = false;
  std::string last_key_;
  std::string last_access_token_;
  std::vector<std::pair<std::string, ConnectionError>> errors_;
};

}  // namespace credgate::credentials::testing
