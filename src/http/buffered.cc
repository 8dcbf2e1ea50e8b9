#include "http/buffered.h"

#include <spdlog/spdlog.h>

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

Response PlainTextResponse(bhttp::status status, std::string_view text) {
  Response response(status, 11);
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(false);
  response.body() = std::string(text) + "\n";
  return response;
}

}  // namespace

StreamingHandler MakeBufferedHandler(BufferedHandler handler, size_t max_body_bytes) {
  return [handler = std::move(handler),
          max_body_bytes](ServerExchange& exchange) -> asio::awaitable<void> {
    auto body = co_await exchange.ReadBody(max_body_bytes);
    if (!body.ok()) {
      const Error& error = body.error();
      // A failed write means the client is gone. Respond() has then closed keep-alive, and
      // nothing else remains to do, so its Status is dropped here and below.
      if (error.code == ErrorCode::kResourceExhausted) {
        (void)co_await exchange.Respond(
            PlainTextResponse(bhttp::status::payload_too_large, error.message));
      } else if (error.code == ErrorCode::kInvalidArgument) {
        (void)co_await exchange.Respond(
            PlainTextResponse(bhttp::status::bad_request, error.message));
      } else {
        // The client is gone or stalled, so no response can be delivered.
        spdlog::debug("http server: request {}: {}", exchange.info().request_id, error.message);
        exchange.MarkResponded(false);
      }
      co_return;
    }

    Request request(exchange.header());
    request.body() = std::move(body).value();
    Response response = co_await handler(std::move(request), exchange.info());
    if (response.find("x-request-id") == response.end()) {
      response.set("x-request-id", exchange.info().request_id);
    }
    (void)co_await exchange.Respond(std::move(response));
  };
}

}  // namespace credgate::http
