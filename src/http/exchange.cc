#include "http/exchange.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/connection.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunkBytes = 64 * 1024;

}  // namespace

asio::awaitable<Status> ServerExchange::SendContinueIfExpected() {
  if (continue_sent_ || parser_.is_done()) co_return OkStatus();
  auto expect = header().find(bhttp::field::expect);
  if (expect == header().end() || !boost::beast::iequals(expect->value(), "100-continue")) {
    co_return OkStatus();
  }
  continue_sent_ = true;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.expires_after(io_timeout_);
  auto [ec, written] = co_await asio::async_write(
      stream_, asio::buffer(kContinue.data(), kContinue.size()), kNoThrow);
  if (ec) co_return TransportError(ec, "sending 100 Continue to", "the client");
  co_return OkStatus();
}

asio::awaitable<Result<std::string>> ServerExchange::ReadBody(size_t max_bytes) {
  std::string body;
  if (parser_.is_done()) co_return body;

  if (auto length = parser_.content_length(); length && *length > max_bytes) {
    co_return MakeError(
        ErrorCode::kResourceExhausted,
        fmt::format("request body of {} bytes exceeds the limit of {} bytes", *length, max_bytes));
  }
  auto continued = co_await SendContinueIfExpected();
  if (!continued.ok()) co_return std::move(continued).take_error();

  // The parser copies body bytes straight into the string's spare capacity.
  while (!parser_.is_done()) {
    const size_t used = body.size();
    const size_t room = std::min(kReadChunkBytes, max_bytes + 1 - used);
    body.resize(used + room);
    auto& chunk = parser_.get().body();
    chunk.data = body.data() + used;
    chunk.size = room;
    stream_.expires_after(io_timeout_);
    auto [ec, read] = co_await bhttp::async_read(stream_, buffer_, parser_, kNoThrow);
    body.resize(used + room - chunk.size);
    request_body_bytes_ += room - chunk.size;
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      if (IsHttpSyntaxError(ec)) {
        co_return MakeError(ErrorCode::kInvalidArgument,
                            fmt::format("malformed request body: {}", ec.message()));
      }
      co_return TransportError(ec, "reading the request body from", "the client");
    }
    if (body.size() > max_bytes) {
      co_return MakeError(ErrorCode::kResourceExhausted,
                          fmt::format("request body exceeds the limit of {} bytes", max_bytes));
    }
  }
  co_return body;
}

bool ServerExchange::MarkResponded(bool response_keep_alive) {
  responded_ = true;
  keep_alive_ = response_keep_alive && parser_.keep_alive() && parser_.is_done() && !stopping_;
  return keep_alive_;
}

asio::awaitable<Status> ServerExchange::Respond(Response response) {
  // Read before the version changes, because keep_alive() of an HTTP/1.0 message defaults to
  // false.
  const bool handler_allows_keep_alive = response.keep_alive();
  response_status_ = static_cast<int>(response.result_int());
  response.version(header().version());
  response.keep_alive(MarkResponded(handler_allows_keep_alive));
  response.prepare_payload();
  stream_.expires_after(io_timeout_);
  auto [ec, written] = co_await bhttp::async_write(stream_, response, kNoThrow);
  if (ec) {
    keep_alive_ = false;
    co_return TransportError(ec, "sending the response to", "the client");
  }
  response_body_bytes_ += response.body().size();
  co_return OkStatus();
}

}  // namespace credgate::http
