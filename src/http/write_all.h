// WriteAll: writes a whole buffer sequence to a connection, trying a direct write first.
//
// Most messages a proxy sends, a request head or a small response, fit in the socket's send
// buffer. An asynchronous write of one still costs an operation, a posted completion, a round of
// the scheduler (often with a non-blocking epoll_wait) and a suspension of the coroutine. On
// plain TCP, WriteAll first offers the bytes to the kernel with one non-blocking sendmsg
// (TimedSocket::TryWriteSome) and starts an asynchronous write only for what the kernel did not
// take. A failed direct write completes with its own error, as the asynchronous write's first
// attempt would have. TLS streams always write asynchronously.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "http/server_stream.h"
#include "http/timed_socket.h"

namespace credgate::http {

// Writes all of `buffers` to `stream` (a TimedSocket, a ServerStream or a TLS stream) and
// completes with the error of the direct or the asynchronous write, if any, and the bytes
// written.
// No other write may be pending on `stream` while it runs. `buffers` is copied, but the bytes
// it points to must stay valid until completion.
template <typename Stream, typename ConstBufferSequence>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> WriteAll(
    Stream& stream, ConstBufferSequence buffers) {
  std::size_t direct = 0;
  boost::system::error_code direct_ec;
  if constexpr (std::is_same_v<Stream, TimedSocket>) {
    direct = stream.TryWriteSome(buffers, direct_ec);
  } else if constexpr (std::is_same_v<Stream, ServerStream>) {
    if (!stream.IsTls()) direct = stream.Tcp().TryWriteSome(buffers, direct_ec);
  }
  if (direct_ec) co_return std::tuple(direct_ec, std::size_t{0});
  const std::size_t total = boost::asio::buffer_size(buffers);
  if (direct == total) co_return std::tuple(boost::system::error_code(), total);

  boost::beast::buffers_suffix<ConstBufferSequence> rest(buffers);
  rest.consume(direct);
  auto [ec, written] = co_await boost::asio::async_write(
      stream, rest, boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return std::tuple(ec, direct + written);
}

}  // namespace credgate::http
