// AsyncEvent: a one-shot event that coroutines await, on any executor and thread, until Set()
// is called. Waits that start after Set() complete at once.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace credgate::identity {

// Thread-safe. Each waiter resumes through a post() to its own executor, never inside Set(), and
// keeps that executor's io_context from running out of work while it waits.
class AsyncEvent {
 public:
  boost::asio::awaitable<void> Wait() {
    co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
        [this](auto handler) {
          auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                          boost::asio::execution::outstanding_work.tracked);
          std::unique_lock lock(mutex_);
          if (set_) {
            lock.unlock();
            boost::asio::post(work, std::move(handler));
            return;
          }
          // std::function needs a copyable target, and the handler is move-only.
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          waiters_.push_back([work, shared]() { boost::asio::post(work, std::move(*shared)); });
        },
        boost::asio::use_awaitable);
  }

  void Set() {
    std::vector<std::function<void()>> waiters;
    {
      std::lock_guard lock(mutex_);
      set_ = true;
      waiters.swap(waiters_);
    }
    for (auto& resume : waiters) resume();
  }

 private:
  std::mutex mutex_;
  bool set_ = false;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace credgate::identity
