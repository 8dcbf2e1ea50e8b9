// ServerStream: the byte stream of one server connection, either plain TCP or TLS over TCP,
// behind one type so that HttpServer, ServerExchange and the reverse proxy serve both alike.
// It meets Asio's AsyncReadStream and AsyncWriteStream requirements by passing each operation
// to the stream it holds, so Beast's HTTP reads and writes accept it.
//
// Timeouts are set on the TCP layer (expires_after), and they also bound TLS reads, writes and
// the handshake, because those go through that layer. Not thread-safe: a connection uses its
// stream from one strand.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <utility>
#include <variant>

#include "http/timed_socket.h"

namespace credgate::http {

class ServerStream {
 public:
  using PlainStream = TimedSocket;
  using TlsStream = boost::beast::ssl_stream<TimedSocket>;
  using executor_type = PlainStream::executor_type;

  explicit ServerStream(PlainStream stream) : stream_(std::move(stream)) {}
  explicit ServerStream(TlsStream stream) : stream_(std::move(stream)) {}

  executor_type get_executor() { return Tcp().get_executor(); }

  TimedSocket& Tcp() {
    return std::visit(
        [](auto& stream) -> TimedSocket& {
          return boost::beast::get_lowest_layer(stream);
        },
        stream_);
  }
  bool IsTls() const { return std::holds_alternative<TlsStream>(stream_); }
  // The TLS stream, for the handshake. Call only when IsTls() is true.
  TlsStream& Tls() { return std::get<TlsStream>(stream_); }

  void expires_after(std::chrono::steady_clock::duration timeout) { Tcp().expires_after(timeout); }

  template <typename MutableBufferSequence, typename ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::beast::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& buffers_in) {
          // Only the active alternative runs, so the handler is moved once.
          std::visit([&](auto& stream) { stream.async_read_some(buffers_in, std::move(handler)); },
                     stream_);
        },
        token, buffers);
  }

  template <typename ConstBufferSequence, typename WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::beast::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& buffers_in) {
          std::visit([&](auto& stream) { stream.async_write_some(buffers_in, std::move(handler)); },
                     stream_);
        },
        token, buffers);
  }

 private:
  std::variant<PlainStream, TlsStream> stream_;
};

}  // namespace credgate::http
