// AsyncStore: runs blocking Store calls on one dedicated thread, so that coroutines on I/O threads
// never wait on SQLite. Run() posts the call to that thread and resumes the awaiting coroutine on
// the coroutine's own executor with the result:
//
//   auto record = co_await async_store.Run(
//       [key](store::Store& s) { return s.GetTokens(key); });
//
// Calls run one at a time in the order they were submitted, which keeps writes to the same
// record in order. Run() is thread-safe. The destructor waits for calls already submitted, so
// destroy the AsyncStore only after the io_contexts that await it have stopped submitting.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "store/store.h"
#include "store/timed_store.h"

namespace credgate::store {

class AsyncStore {
 public:
  // Takes ownership of `store`, times its calls (timed_store.h), and starts the store thread.
  explicit AsyncStore(std::unique_ptr<Store> store);
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;
  // Finishes the calls already submitted, then joins the store thread.
  ~AsyncStore();

  // Calls f(store) on the store thread and returns its result. `f` must not throw, because an
  // exception would end the store thread; Store methods report failures through Result.
  // When `f` captures values that own memory, bind it to a named local and pass it moved:
  // g++ 12 destroys the captures twice when such a lambda is written inside the co_await
  // expression itself.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F, Store&>> Run(F f);

  // The store itself, for blocking use where no I/O thread is involved: the start-up load before
  // serving, and tests. Do not call it from a coroutine.
  Store& blocking_store() { return *store_; }

  // The duration of every store call so far, by operation.
  const StoreLatency& latency() const { return latency_; }

 private:
  StoreLatency latency_;
  std::unique_ptr<Store> store_;
  boost::asio::thread_pool thread_{1};
};

template <class F>
boost::asio::awaitable<std::invoke_result_t<F, Store&>> AsyncStore::Run(F f) {
  using Value = std::invoke_result_t<F, Store&>;
  static_assert(!std::is_void_v<Value>, "a store call must return a value, such as a Result");

  auto initiation = [this](auto handler, F call) {
    // The work guard keeps the caller's io_context running while the call is on the store thread.
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(thread_, [this, call = std::move(call), handler = std::move(handler),
                                work = std::move(work)]() mutable {
      Value value = call(*store_);
      auto executor = work.get_executor();
      boost::asio::post(
          executor, [handler = std::move(handler), value = std::move(value),
                     work = std::move(work)]() mutable { std::move(handler)(std::move(value)); });
    });
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Value)>(
      std::move(initiation), boost::asio::use_awaitable, std::move(f));
}

}  // namespace credgate::store
