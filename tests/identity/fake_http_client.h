// FakeHttpClient: an http::HttpClient that returns canned responses by URL and counts requests.
// An unknown URL fails with kUnavailable, like an unreachable host.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "http/client.h"

namespace credgate::identity::testing {

class FakeHttpClient final : public http::HttpClient {
 public:
  void Respond(const std::string& url, int status, std::string body) {
    std::lock_guard lock(mutex_);
    responses_[url] = http::ClientResponse{status, {}, std::move(body)};
  }
  void Remove(const std::string& url) {
    std::lock_guard lock(mutex_);
    responses_.erase(url);
  }
  // Time each request waits before it completes, so that concurrent callers overlap.
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }

  int Calls(const std::string& url) const {
    std::lock_guard lock(mutex_);
    auto found = calls_.find(url);
    return found == calls_.end() ? 0 : found->second;
  }
  int TotalCalls() const {
    std::lock_guard lock(mutex_);
    int total = 0;
    for (const auto& [url, count] : calls_) total += count;
    return total;
  }

  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    {
      std::lock_guard lock(mutex_);
      ++calls_[request.url];
    }
    if (delay_.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay_);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    std::lock_guard lock(mutex_);
    auto found = responses_.find(request.url);
    if (found == responses_.end()) {
      co_return MakeError(ErrorCode::kUnavailable, "connection to " + request.url + " refused");
    }
    co_return found->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, http::ClientResponse> responses_;
  std::map<std::string, int> calls_;
  std::chrono::milliseconds delay_{0};
};

}  // namespace credgate::identity::testing
