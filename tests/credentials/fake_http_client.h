// FakeHttpClient: an HttpClient for tests that records each request and returns scripted
// responses, optionally after a delay so that concurrent callers overlap.
#pragma once

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <deque>
#include <map>
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
  // Drops the queued responses and the failure, so that the next Respond() or Fail() decides
  // what later requests get.
  void Reset() {
    std::lock_guard lock(mutex_);
    responses_.clear();
    failure_.reset();
  }
  void Fail(Error error) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(error);
  }
  void SetDelay(std::chrono::milliseconds delay) { delay_ = delay; }

  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    const std::string url = request.url;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      size_t& in_flight = in_flight_[url];
      ++in_flight;
      max_in_flight_[url] = std::max(max_in_flight_[url], in_flight);
    }
    if (delay_.count() > 0) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay_);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    std::lock_guard lock(mutex_);
    --in_flight_[url];
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
  size_t RequestCount(const std::string& url) const {
    std::lock_guard lock(mutex_);
    size_t count = 0;
    for (const auto& request : requests_) count += request.url == url ? 1 : 0;
    return count;
  }
  // Returns the largest number of requests to `url` that were in progress at the same time.
  size_t MaxInFlight(const std::string& url) const {
    std::lock_guard lock(mutex_);
    auto it = max_in_flight_.find(url);
    return it == max_in_flight_.end() ? 0 : it->second;
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
  std::map<std::string, size_t> in_flight_;
  std::map<std::string, size_t> max_in_flight_;
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
