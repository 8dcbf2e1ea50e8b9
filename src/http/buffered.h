// Buffered handlers: the handler style for the management API and the login pages, which want
// the whole request body in memory and build the whole response before sending it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>

#include "http/exchange.h"
#include "http/server.h"

namespace credgate::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// Receives the complete request and returns the response to send. It should not throw. The
// server responds to an exception with 500, and a failure belongs in the response.
using BufferedHandler =
    std::function<boost::asio::awaitable<Response>(Request&&, const RequestInfo&)>;

inline constexpr size_t kDefaultMaxBodyBytes = 1 << 20;

// Adapts `handler` to the server's StreamingHandler. Bodies larger than `max_body_bytes` are
// rejected with 413 and a malformed body with 400, without calling `handler`, and the
// connection is then closed. Every response gets an `x-request-id` field unless the handler set
// one.
StreamingHandler MakeBufferedHandler(BufferedHandler handler,
                                     size_t max_body_bytes = kDefaultMaxBodyBytes);

}  // namespace credgate::http
