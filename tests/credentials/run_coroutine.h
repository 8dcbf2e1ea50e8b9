// RunCoroutine: runs an awaitable to completion on a fresh io_context and returns its value.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <utility>

namespace credgate::credentials::testing {

// Awaits `awaitable` and stores its value in `out`. co_spawn needs a default-constructible
// result type, which Result<T> is not, so tests spawn this wrapper instead.
template <typename T>
boost::asio::awaitable<void> AwaitInto(boost::asio::awaitable<T> awaitable, std::optional<T>& out) {
  out.emplace(co_await std::move(awaitable));
}

template <typename T>
T RunCoroutine(boost::asio::awaitable<T> awaitable) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, AwaitInto(std::move(awaitable), out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return std::move(*out);
}

}  // namespace credgate::credentials::testing
