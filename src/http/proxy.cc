#include "http/proxy.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/container/small_vector.hpp>
#include <algorithm>
#include <array>
#include <optional>

#include "http/headers.h"
#include "http/tls.h"
#include "http/write_all.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Parser = bhttp::response_parser<bhttp::buffer_body>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kFieldSeparator = ": ";
constexpr std::string_view kLineEnd = "\r\n";

// Appends each field as "Name: value\r\n" and the blank line that ends a header. Beast's
// serializer writes the same bytes through a chain of buffer views, which costs several times
// more instructions for the small headers of a proxied request.
// The separators are string_views, so that no append calls strlen when g++ does not inline it.
void AppendFields(const bhttp::fields& fields, std::string& wire) {
  for (const auto& field : fields) {
    wire.append(field.name_string());
    wire.append(kFieldSeparator);
    wire.append(field.value());
    wire.append(kLineEnd);
  }
  wire.append(kLineEnd);
}

std::string_view VersionText(unsigned version) { return version == 10 ? "HTTP/1.0" : "HTTP/1.1"; }

// Returns the request line and fields of `header` as HTTP/1.1 wire text.
std::string SerializeHeader(const bhttp::request_header<>& header) {
  std::string wire;
  wire.reserve(512);
  wire.append(header.method_string());
  wire.push_back(' ');
  wire.append(header.target());
  wire.push_back(' ');
  wire.append(VersionText(header.version()));
  wire.append("\r\n");
  AppendFields(header, wire);
  return wire;
}

// Returns the wire text that PrepareRequestHeader() and SerializeHeader() make of `source` with
// `target`, HTTP/1.1 and without the field named `dropped_field`, for a request without a body.
// Writing it straight from `source` saves the tree operations of those changes, and a copy when
// `source` is the client's header. The fields keep their order, and the ones the proxy sets
// follow them in the order in which PrepareRequestHeader() sets them.
std::string SerializeForwardedHeader(const RequestHeader& source, std::string_view target,
                                     std::string_view dropped_field, ServerExchange& exchange,
                                     const std::string& authority) {
  boost::container::small_vector<std::string_view, 8> listed;  // Named in Connection.
  for (const auto& field : source) {
    if (field.name() != bhttp::field::connection) continue;
    for (std::string_view name : bhttp::token_list(field.value())) listed.push_back(name);
  }
  auto is_listed = [&listed](std::string_view name) {
    return std::any_of(listed.begin(), listed.end(), [name](std::string_view item) {
      return boost::beast::iequals(item, name);
    });
  };
  const std::string_view original_host = exchange.header()[bhttp::field::host];
  // The first X-Forwarded-For that PrepareRequestHeader() would find.
  std::optional<std::string_view> forwarded_for;
  auto forwarded = [&](const auto& field) {
    const bhttp::field name = field.name();
    if (IsHopByHopField(name) || (!listed.empty() && is_listed(field.name_string())) ||
        boost::beast::iequals(field.name_string(), dropped_field)) {
      return false;
    }
    if (name == bhttp::field::expect || name == bhttp::field::content_length ||
        name == bhttp::field::host) {
      return false;
    }
    if (boost::beast::iequals(field.name_string(), "x-forwarded-for")) {
      if (!forwarded_for) forwarded_for = field.value();
      return false;
    }
    return !boost::beast::iequals(field.name_string(), "x-forwarded-proto") &&
           !boost::beast::iequals(field.name_string(), "x-forwarded-host");
  };

  std::string wire;
  wire.reserve(512);
  wire.append(source.method_string());
  wire.push_back(' ');
  wire.append(target);
  wire.append(std::string_view(" HTTP/1.1\r\n"));
  auto append_field = [&wire](std::string_view name, std::string_view value) {
    wire.append(name);
    wire.append(kFieldSeparator);
    wire.append(value);
    wire.append(kLineEnd);
  };
  for (const auto& field : source) {
    if (forwarded(field)) append_field(field.name_string(), field.value());
  }
  append_field("Host", authority);
  const std::string& peer = exchange.info().peer_address;
  if (forwarded_for) {
    append_field("x-forwarded-for", fmt::format("{}, {}", *forwarded_for, peer));
  } else {
    append_field("x-forwarded-for", peer);
  }
  append_field("x-forwarded-proto", exchange.stream().IsTls() ? "https" : "http");
  if (!original_host.empty()) append_field("x-forwarded-host", original_host);
  if (auto length = exchange.parser().content_length(); length && *length > 0) {
    append_field("Content-Length", std::to_string(*length));
  }
  wire.append(kLineEnd);
  return wire;
}

// Returns the status line and fields of `header` as wire text. An empty reason phrase becomes
// the standard one for the status code, as Beast's serializer does.
std::string SerializeHeader(const bhttp::response_header<>& header) {
  std::string wire;
  wire.reserve(512);
  wire.append(VersionText(header.version()));
  wire.push_back(' ');
  wire.append(std::to_string(header.result_int()));
  wire.push_back(' ');
  std::string_view reason = header.reason();
  if (reason.empty()) reason = bhttp::obsolete_reason(header.result());
  wire.append(reason);
  wire.append("\r\n");
  AppendFields(header, wire);
  return wire;
}

void PrepareRequestHeader(RequestHeader& header, ServerExchange& exchange,
                          const std::string& authority, const std::string* replacement_body) {
  const std::string original_host(exchange.header()[bhttp::field::host]);
  RemoveHopByHopFields(header);
  // The proxy responds to "Expect: 100-continue" itself (SendContinueIfExpected), so the backend
  // receives the body without waiting.
  header.erase(bhttp::field::expect);
  header.erase(bhttp::field::content_length);
  header.set(bhttp::field::host, authority);

  std::string forwarded_for = exchange.info().peer_address;
  if (auto it = header.find("x-forwarded-for"); it != header.end()) {
    forwarded_for = fmt::format("{}, {}", it->value(), forwarded_for);
  }
  header.set("x-forwarded-for", forwarded_for);
  header.set("x-forwarded-proto", exchange.stream().IsTls() ? "https" : "http");
  if (!original_host.empty()) header.set("x-forwarded-host", original_host);

  header.version(11);
  const RequestParser& in = exchange.parser();
  if (replacement_body != nullptr) {
    // RFC 9112 §6.2: a body of known length is framed by Content-Length.
    header.erase(bhttp::field::transfer_encoding);
    const bool had_body = in.chunked() || in.content_length().value_or(0) > 0;
    if (!replacement_body->empty() || had_body) {
      header.set(bhttp::field::content_length, std::to_string(replacement_body->size()));
    }
  } else if (in.chunked()) {
    header.set(bhttp::field::transfer_encoding, "chunked");
  } else if (auto length = in.content_length(); length && *length > 0) {
    header.set(bhttp::field::content_length, std::to_string(*length));
  }
}

// Parses body bytes that already arrived in `buffer`, usually together with the response header,
// into the parser's body chunk. Beast's async_read_some would parse the same bytes and then post
// its completion through the io_context. Returns false, with `ec` clear, when the parser needs
// bytes from the stream first. Otherwise `ec` is Beast's parse result, which is need_buffer when
// the chunk filled up.
bool ParseBufferedBody(beast::flat_buffer& buffer, Parser& parser, boost::system::error_code& ec) {
  if (buffer.size() == 0) return false;
  const size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  if (ec == bhttp::error::need_more) {
    ec = {};
    return false;
  }
  return true;
}

// Reads the next piece of the backend body into `buffer`, through the parser's body chunk: from
// bytes that already arrived, or else from the connection within `io_timeout`. A full chunk
// (need_buffer) is not an error.
asio::awaitable<boost::system::error_code> ReadBodyPiece(Connection& connection, Parser& in,
                                                         std::vector<char>& buffer,
                                                         std::chrono::milliseconds io_timeout) {
  auto& chunk = in.get().body();
  chunk.data = buffer.data();
  chunk.size = buffer.size();
  boost::system::error_code read_ec;
  if (!ParseBufferedBody(connection.buffer(), in, read_ec)) {
    connection.Tcp().expires_after(io_timeout);
    auto [ec, read] = co_await connection.Visit([&](auto& stream) {
      return bhttp::async_read_some(stream, connection.buffer(), in, kNoThrow);
    });
    read_ec = ec;
  }
  if (read_ec == bhttp::error::need_buffer) read_ec = {};
  co_return read_ec;
}

struct ForwardOutcome {
  std::optional<Error> error;
  bool retryable = false;  // Failed on a reused connection before any response byte arrived.
  std::unique_ptr<Parser> parser;
};

// Reads a response header into `parser` with the steps of async_read_header in Beast (Boost
// 1.81). It parses what `buffer` already contains and reads more while the parser needs it. A
// close before any byte is end_of_stream, and a close within the header is partial_message.
// Doing it here saves the two composed operations that Beast wraps around each read.
template <typename Stream>
asio::awaitable<boost::system::error_code> ReadHeader(Stream& stream, beast::flat_buffer& buffer,
                                                      Parser& parser) {
  boost::system::error_code ec;
  while (!ec && !parser.is_header_done()) {
    if (buffer.size() != 0) {
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec != bhttp::error::need_more) continue;
      ec = {};
    }
    // The read size that Beast's read_some_op uses.
    const size_t size = beast::read_size(buffer, 65536);
    if (size == 0) co_return bhttp::error::buffer_overflow;
    auto [read_ec, read] = co_await stream.async_read_some(buffer.prepare(size), kNoThrow);
    buffer.commit(read);
    if (read_ec == asio::error::eof) {
      if (!parser.got_some()) co_return bhttp::error::end_of_stream;
      parser.put_eof(ec);
      co_return ec;
    }
    ec = read_ec;
  }
  co_return ec;
}

// Reads the backend's final response header on `stream`, skipping interim responses.
template <typename Stream>
asio::awaitable<ForwardOutcome> ReadResponseHeader(Stream& stream, Connection& connection,
                                                   bhttp::verb method, const std::string& authority,
                                                   const Upstream& upstream,
                                                   size_t max_header_bytes, bool reused) {
  ForwardOutcome outcome;
  // Interim 1xx responses (RFC 9110 §15.2) are skipped. A 101 is rejected as a bad gateway,
  // because the proxy removed Upgrade from the request.
  connection.Tcp().expires_after(upstream.response_timeout);
  for (;;) {
    auto parser = std::make_unique<Parser>();
    parser->header_limit(static_cast<uint32_t>(max_header_bytes));
    parser->body_limit(boost::none);
    if (method == bhttp::verb::head) parser->skip(true);
    const boost::system::error_code read_ec =
        co_await ReadHeader(stream, connection.buffer(), *parser);
    if (read_ec) {
      outcome.retryable = reused && !parser->got_some() && IsPeerClose(read_ec);
      outcome.error = IsHttpSyntaxError(read_ec)
                          ? MakeError(ErrorCode::kBadGateway,
                                      fmt::format("malformed response header from {}: {}",
                                                  authority, read_ec.message()))
                          : TransportError(read_ec, "reading the response from", authority);
      co_return outcome;
    }
    const unsigned status = parser->get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;
    if (status == 101) {
      outcome.error =
          MakeError(ErrorCode::kBadGateway,
                    fmt::format("{} switched protocols without an Upgrade request", authority));
      co_return outcome;
    }
    outcome.parser = std::move(parser);
    co_return outcome;
  }
}

// Sends the header of `out` and `body` after it in one write.
template <typename Stream>
asio::awaitable<bool> WriteBufferedRequest(Stream& stream, Connection& connection,
                                           bhttp::request<bhttp::buffer_body>& out,
                                           const std::string& body, const Upstream& upstream,
                                           const std::string& authority, bool reused,
                                           ForwardOutcome& outcome) {
  // buffer_body takes a mutable pointer, but the serializer only reads through it.
  out.body().data = const_cast<char*>(body.data());
  out.body().size = body.size();
  out.body().more = false;
  bhttp::request_serializer<bhttp::buffer_body> serializer(out);
  connection.Tcp().expires_after(upstream.io_timeout);
  auto [write_ec, written] = co_await bhttp::async_write(stream, serializer, kNoThrow);
  if (write_ec == bhttp::error::need_buffer) write_ec = {};
  if (write_ec) {
    outcome.retryable = reused && written == 0 && IsPeerClose(write_ec);
    outcome.error = TransportError(write_ec, "sending the request to", authority);
    co_return false;
  }
  co_return true;
}

// Sends the header of `out`, then streams the client's request body after it. A request without
// a body sends `head` instead when it is not empty (SerializeForwardedHeader).
template <typename Stream>
asio::awaitable<bool> WriteStreamedRequest(Stream& stream, Connection& connection,
                                           ServerExchange& exchange,
                                           bhttp::request<bhttp::buffer_body>& out,
                                           const std::string& head, const Upstream& upstream,
                                           const std::string& authority, bool reused,
                                           ForwardOutcome& outcome) {
  RequestParser& in = exchange.parser();
  std::vector<char>& buffer = exchange.relay_buffer();

  out.body().data = nullptr;
  out.body().size = 0;
  out.body().more = !in.is_done();
  connection.Tcp().expires_after(upstream.io_timeout);
  if (in.is_done()) {
    // No body: the header is the whole request, so it goes out as one flat buffer.
    const std::string serialized = head.empty() ? SerializeHeader(out.base()) : std::string();
    const std::string& text = head.empty() ? serialized : head;
    const asio::const_buffer head_buffer(text.data(), text.size());
    auto [write_ec, written] = co_await WriteAll(stream, head_buffer);
    if (write_ec) {
      outcome.retryable = reused && IsPeerClose(write_ec);
      outcome.error = TransportError(write_ec, "sending the request to", authority);
      co_return false;
    }
    co_return true;
  }
  bhttp::request_serializer<bhttp::buffer_body> serializer(out);
  auto [header_ec, header_bytes] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
  if (header_ec) {
    outcome.retryable = reused && IsPeerClose(header_ec);
    outcome.error = TransportError(header_ec, "sending the request to", authority);
    co_return false;
  }

  if (!in.is_done()) {
    if (Status sent = co_await exchange.SendContinueIfExpected(); !sent.ok()) {
      outcome.error = std::move(sent).take_error();
      co_return false;
    }
  }
  // Each read takes what the client has sent so far, so the backend receives the body as it
  // arrives.
  while (!in.is_done()) {
    auto& chunk = in.get().body();
    chunk.data = buffer.data();
    chunk.size = buffer.size();
    exchange.stream().expires_after(exchange.io_timeout());
    auto [read_ec, read] =
        co_await bhttp::async_read_some(exchange.stream(), exchange.buffer(), in, kNoThrow);
    if (read_ec == bhttp::error::need_buffer) read_ec = {};
    if (read_ec) {
      outcome.error = IsHttpSyntaxError(read_ec)
                          ? MakeError(ErrorCode::kInvalidArgument,
                                      fmt::format("malformed request body: {}", read_ec.message()))
                          : TransportError(read_ec, "reading the request body from", "the client");
      co_return false;
    }
    const size_t filled = buffer.size() - chunk.size;
    if (filled == 0) continue;

    out.body().data = buffer.data();
    out.body().size = filled;
    out.body().more = !in.is_done();
    connection.Tcp().expires_after(upstream.io_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, serializer, kNoThrow);
    if (write_ec == bhttp::error::need_buffer) write_ec = {};
    if (write_ec) {
      outcome.error = TransportError(write_ec, "sending the request body to", authority);
      co_return false;
    }
    exchange.add_request_body_bytes(filled);
  }
  if (!serializer.is_done()) {
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = false;
    connection.Tcp().expires_after(upstream.io_timeout);
    auto [end_ec, written] = co_await bhttp::async_write(stream, serializer, kNoThrow);
    if (end_ec) {
      outcome.error = TransportError(end_ec, "sending the request body to", authority);
      co_return false;
    }
  }

  co_return true;
}

// Sends one forwarded request on `stream`, with `replacement_body` in place of the client's body
// when it is not null, and reads the final response header. A non-empty `head` is the wire text
// of the request header, for a request without a body.
template <typename Stream>
asio::awaitable<ForwardOutcome> ForwardOnce(Stream& stream, Connection& connection,
                                            ServerExchange& exchange,
                                            bhttp::request<bhttp::buffer_body>& out,
                                            const std::string& head,
                                            const std::string* replacement_body,
                                            const Upstream& upstream, const std::string& authority,
                                            size_t max_header_bytes, bool reused) {
  ForwardOutcome outcome;
  bool sent = false;
  if (replacement_body != nullptr) {
    sent = co_await WriteBufferedRequest(stream, connection, out, *replacement_body, upstream,
                                         authority, reused, outcome);
  } else {
    sent = co_await WriteStreamedRequest(stream, connection, exchange, out, head, upstream,
                                         authority, reused, outcome);
  }
  if (!sent) co_return outcome;
  co_return co_await ReadResponseHeader(stream, connection, out.method(), authority, upstream,
                                        max_header_bytes, reused);
}

}  // namespace

UpstreamResponse::~UpstreamResponse() = default;

Result<std::unique_ptr<UpstreamPool>> UpstreamPool::Create(UpstreamOptions options) {
  auto tls = MakeClientTlsContext(options.ca_file);
  if (!tls.ok()) return std::move(tls).take_error();
  return std::unique_ptr<UpstreamPool>(new UpstreamPool(std::move(options), std::move(*tls)));
}

UpstreamPool::UpstreamPool(UpstreamOptions options, std::shared_ptr<asio::ssl::context> tls)
    : options_(std::move(options)),
      tls_(std::move(tls)),
      certificate_contexts_(options_.ca_file),
      pool_(options_.pool) {}

asio::awaitable<Result<UpstreamResponse>> UpstreamPool::ProxyRequest(
    ServerExchange& exchange, const Upstream& upstream, RequestHeader header,
    const std::string* replacement_body) {
  return Forward(exchange, upstream, std::move(header), {}, {}, replacement_body);
}

asio::awaitable<Result<UpstreamResponse>> UpstreamPool::ProxyRequestAsIs(
    ServerExchange& exchange, const Upstream& upstream, std::string target,
    std::string_view dropped_field) {
  if (exchange.parser().is_done()) {
    return Forward(exchange, upstream, RequestHeader(), std::move(target), dropped_field, nullptr);
  }
  RequestHeader header = exchange.header();
  header.target(target);
  header.version(11);
  header.erase(dropped_field);
  return Forward(exchange, upstream, std::move(header), {}, {}, nullptr);
}

asio::awaitable<Result<UpstreamResponse>> UpstreamPool::Forward(
    ServerExchange& exchange, const Upstream& upstream, RequestHeader header,
    std::string as_is_target, std::string_view dropped_field,
    const std::string* replacement_body) {
  // The authority goes into the Host field and error messages, and the key selects pooled
  // connections. Each is formatted once per request.
  const std::string authority = upstream.origin.Authority();
  std::string key = upstream.origin.Key();
  std::string head;
  if (!as_is_target.empty()) {
    head = SerializeForwardedHeader(exchange.header(), as_is_target, dropped_field, exchange,
                                    authority);
    // ReadResponseHeader() reads the method to tell a response to HEAD, which has no body.
    const bhttp::verb method = exchange.header().method();
    if (method != bhttp::verb::unknown) header.method(method);
  } else if (replacement_body == nullptr && exchange.parser().is_done()) {
    head = SerializeForwardedHeader(header, header.target(), {}, exchange, authority);
  } else {
    PrepareRequestHeader(header, exchange, authority, replacement_body);
  }
  if (exchange.relay_buffer().size() < options_.relay_buffer_bytes) {
    exchange.relay_buffer().resize(options_.relay_buffer_bytes);
  }
  auto executor = co_await asio::this_coro::executor;
  const asio::execution_context& context = asio::query(executor, asio::execution::context);
  asio::ssl::context* tls = tls_.get();
  std::shared_ptr<asio::ssl::context> certificate_tls;
  if (upstream.client_certificate && upstream.origin.tls) {
    auto found = certificate_contexts_.Get(*upstream.client_certificate);
    if (!found.ok()) co_return std::move(found).take_error();
    certificate_tls = std::move(found).value();
    tls = certificate_tls.get();
    key += " client-certificate=" + upstream.client_certificate->thumbprint();
  }
  bhttp::request<bhttp::buffer_body> out(std::move(header));
  out.keep_alive(true);

  // A second attempt is made only when nothing of the body was consumed from the client.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool body_pending = replacement_body == nullptr && !exchange.parser().is_done();
    std::unique_ptr<Connection> connection = pool_.Acquire(context, key);
    const bool reused = connection != nullptr;
    if (!reused) {
      auto connected = co_await Connect(upstream.origin, tls,
                                        std::chrono::steady_clock::now() + upstream.connect_timeout);
      if (!connected.ok()) co_return std::move(connected).take_error();
      connection = std::move(connected).value();
      ++connections_opened_;
    }

    ForwardOutcome outcome = co_await connection->Visit([&](auto& stream) {
      return ForwardOnce(stream, *connection, exchange, out, head, replacement_body, upstream,
                         authority, options_.max_response_header_bytes, reused);
    });
    if (outcome.error) {
      connection->Close();
      if (outcome.retryable && !body_pending && attempt == 0) {
        spdlog::debug("proxy: pooled connection to {} was closed by the backend; retrying",
                      authority);
        continue;
      }
      co_return std::move(*outcome.error);
    }

    RemoveHopByHopFields(outcome.parser->get().base());
    UpstreamResponse response;
    response.connection_ = std::move(connection);
    response.parser_ = std::move(outcome.parser);
    response.pool_key_ = std::move(key);
    response.context_ = &context;
    response.io_timeout_ = upstream.io_timeout;
    co_return response;
  }
  co_return MakeError(ErrorCode::kUnavailable,
                      fmt::format("sending the request to {} failed twice", authority));
}

asio::awaitable<Status> UpstreamPool::RelayResponse(ServerExchange& exchange,
                                                    UpstreamResponse&& response,
                                                    ResponseHeader header) {
  UpstreamResponse upstream = std::move(response);
  Parser& in = *upstream.parser_;
  Connection& connection = *upstream.connection_;
  std::vector<char>& buffer = exchange.relay_buffer();

  // Framing follows the backend body, whatever the caller's header says (RFC 9112 §6.3).
  RemoveHopByHopFields(header);
  const unsigned version = exchange.header().version();
  header.version(version);
  const bool no_body = in.is_done();
  bool length_known = true;
  if (!no_body) {
    header.erase(bhttp::field::content_length);
    if (auto length = in.content_length()) {
      header.set(bhttp::field::content_length, std::to_string(*length));
    } else if (version >= 11) {
      header.set(bhttp::field::transfer_encoding, "chunked");
    } else {
      length_known = false;  // An HTTP/1.0 client reads until the connection closes.
    }
  }
  bhttp::response<bhttp::buffer_body> out(std::move(header));
  exchange.set_response_status(static_cast<int>(out.result_int()));
  out.keep_alive(exchange.MarkResponded(length_known));
  out.body().data = nullptr;
  out.body().size = 0;
  out.body().more = !no_body;
  // Only a chunked body needs Beast's serializer to frame it. Otherwise the body bytes go out
  // as they arrive, after a header serialized into one flat buffer.
  const bool chunked = !no_body && length_known && !in.content_length();
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer;
  std::string head;
  if (chunked) {
    serializer.emplace(out);
  } else {
    head = SerializeHeader(out.base());
  }
  auto fail = [&](Error error) -> Status {
    exchange.MarkResponded(false);
    return error;
  };

  // When body bytes arrived with the backend's header, the header goes out together with the
  // first body chunk in one write. Otherwise it goes out at once, so that a streaming response
  // reaches the client before its first chunk does.
  if (no_body || connection.buffer().size() == 0) {
    exchange.stream().expires_after(exchange.io_timeout());
    boost::system::error_code header_ec;
    if (serializer) {
      auto [ec, written] = co_await bhttp::async_write_header(exchange.stream(), *serializer, kNoThrow);
      header_ec = ec;
    } else {
      const asio::const_buffer head_buffer(head.data(), head.size());
      auto [ec, written] = co_await WriteAll(exchange.stream(), head_buffer);
      header_ec = ec;
      head.clear();
    }
    if (header_ec) {
      co_return fail(TransportError(header_ec, "sending the response to", "the client"));
    }
  }

  while (!in.is_done()) {
    const boost::system::error_code read_ec =
        co_await ReadBodyPiece(connection, in, buffer, upstream.io_timeout_);
    if (read_ec) {
      co_return fail(IsHttpSyntaxError(read_ec)
                         ? MakeError(ErrorCode::kBadGateway,
                                     fmt::format("malformed response body from backend: {}",
                                                 read_ec.message()))
                         : TransportError(read_ec, "reading the response body from", "backend"));
    }
    const size_t filled = buffer.size() - in.get().body().size;
    if (filled == 0) continue;

    exchange.stream().expires_after(exchange.io_timeout());
    boost::system::error_code write_ec;
    if (serializer) {
      out.body().data = buffer.data();
      out.body().size = filled;
      out.body().more = !in.is_done();
      auto [ec, written] = co_await bhttp::async_write(exchange.stream(), *serializer, kNoThrow);
      if (ec != bhttp::error::need_buffer) write_ec = ec;
    } else {
      const std::array<asio::const_buffer, 2> pieces = {
          asio::const_buffer(head.data(), head.size()), asio::const_buffer(buffer.data(), filled)};
      auto [ec, written] = co_await WriteAll(exchange.stream(), pieces);
      write_ec = ec;
      head.clear();
    }
    if (write_ec) {
      co_return fail(TransportError(write_ec, "sending the response body to", "the client"));
    }
    exchange.add_response_body_bytes(filled);
  }
  if (serializer && !serializer->is_done()) {
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = false;
    exchange.stream().expires_after(exchange.io_timeout());
    auto [end_ec, written] = co_await bhttp::async_write(exchange.stream(), *serializer, kNoThrow);
    if (end_ec) {
      co_return fail(TransportError(end_ec, "sending the response body to", "the client"));
    }
  }
  if (!head.empty()) {
    // The header waited to go out with the first body bytes, and the body ended without any.
    exchange.stream().expires_after(exchange.io_timeout());
    const asio::const_buffer head_buffer(head.data(), head.size());
    auto [head_ec, written] = co_await WriteAll(exchange.stream(), head_buffer);
    if (head_ec) {
      co_return fail(TransportError(head_ec, "sending the response to", "the client"));
    }
  }

  if (in.keep_alive()) {
    connection.Tcp().expires_never();
    pool_.Release(*upstream.context_, upstream.pool_key_, std::move(upstream.connection_));
  }
  co_return OkStatus();
}

asio::awaitable<Result<std::string>> UpstreamPool::ReadResponseBody(UpstreamResponse&& response,
                                                                    size_t max_bytes) {
  UpstreamResponse upstream = std::move(response);
  Parser& in = *upstream.parser_;
  Connection& connection = *upstream.connection_;
  std::string body;
  if (auto length = in.content_length(); length && *length > max_bytes) {
    co_return MakeError(ErrorCode::kResourceExhausted,
                        fmt::format("the response body of {} bytes is larger than {} bytes",
                                    *length, max_bytes));
  }
  std::vector<char> buffer(options_.relay_buffer_bytes);
  while (!in.is_done()) {
    const boost::system::error_code read_ec =
        co_await ReadBodyPiece(connection, in, buffer, upstream.io_timeout_);
    if (read_ec) {
      co_return IsHttpSyntaxError(read_ec)
          ? MakeError(ErrorCode::kBadGateway,
                      fmt::format("malformed response body from backend: {}", read_ec.message()))
          : TransportError(read_ec, "reading the response body from", "backend");
    }
    const size_t filled = buffer.size() - in.get().body().size;
    if (body.size() + filled > max_bytes) {
      co_return MakeError(ErrorCode::kResourceExhausted,
                          fmt::format("the response body is larger than {} bytes", max_bytes));
    }
    body.append(buffer.data(), filled);
  }
  if (in.keep_alive()) {
    connection.Tcp().expires_never();
    pool_.Release(*upstream.context_, upstream.pool_key_, std::move(upstream.connection_));
  }
  co_return body;
}

}  // namespace credgate::http
