// FakeHttpClient: an HttpClient for tests that records each request and returns scripted
// responses, optionally after a delay so that concurrent callers overlap.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "http/client.h"

namespace credgate::credentials::testing {

class FakeHttpClient final : public http::HttpClient {
 public:
  // Queues a response. The last queued response stays and answers every later request.
  void Respond(int status, std::string body, std::string content_type = "application/json") {
    std::lock_guard lock(mutex_);
    http::ClientResponse response;
    response.status = status;
    response.body = std::move(body);
    if (!content_type.empty()) response.headers.emplace_back("Content-Type", content_type);
    responses_.push_back(std::move(response));
  }
  void Fail(Error error) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(error);
  }
  void SetDelay(std::chrono::milliseconds delay) { delay_ = delay; }

  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    if (delay_.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay_);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    std::lock_guard lock(mutex_);
    if (failure_) co_return *failure_;
    if (responses_.empty()) co_return MakeError(ErrorCode::kInternal, "no scripted response");
    http::ClientResponse response = responses_.front();
    if (responses_.size() > 1) responses_.pop_front();
    co_return response;
  }

  size_t RequestCount() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  http::ClientRequest LastRequest() const {
    std::lock_guard lock(mutex_);
    return requests_.back();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<http::ClientResponse> responses_;
  std::optional<Error> failure_;
  std::vector<http::ClientRequest> requests_;
  std::chrono::milliseconds delay_{0};
};

// Returns the value of header `name` in `request`, or "" when absent.
inline std::string HeaderOf(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace credgate::credentials::testing
