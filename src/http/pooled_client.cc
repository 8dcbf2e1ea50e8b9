#include "http/pooled_client.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/encoding.h"
#include "common/hash.h"
#include "crypto/certificate.h"
#include "http/headers.h"
#include "http/tls.h"
#include "http/url.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The outcome of one request/response exchange on one connection.
struct Attempt {
  std::optional<ClientResponse> response;
  std::optional<Error> error;
  bool keep_alive = false;
  // True when the failure happened before any byte of the response arrived on a connection
  // the peer may have closed while it was idle, so sending again is safe from duplication
  // of a response the caller never saw.
  bool retryable = false;
};

// Builds the request message. Through a proxy, a plain http request carries the absolute-form
// target (RFC 9112 §3.2.2) and `proxy_authorization`.
Result<bhttp::request<bhttp::string_body>> BuildRequest(ClientRequest& request,
                                                        const ParsedUrl& url, bool absolute_form,
                                                        const std::string& proxy_authorization) {
  if (!IsToken(request.method)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("invalid HTTP method '{}'; use a token such as GET or POST", request.method));
  }
  bhttp::request<bhttp::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(absolute_form ? url.origin.Key() + url.Target() : url.Target());
  if (absolute_form && !proxy_authorization.empty()) {
    message.set(bhttp::field::proxy_authorization, proxy_authorization);
  }
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || !IsFieldValue(value)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("invalid request header '{}'; names must be tokens and values "
                                   "must not contain CR, LF or NUL",
                                   name));
    }
    message.insert(name, value);
  }
  if (message.count(bhttp::field::host) == 0)
    message.set(bhttp::field::host, url.origin.Authority());
  message.body() = std::move(request.body);
  const bool has_body = !message.body().empty();
  const bool may_have_body = message.method() == bhttp::verb::post ||
                             message.method() == bhttp::verb::put ||
                             message.method() == bhttp::verb::patch;
  if (has_body || may_have_body) message.prepare_payload();
  message.keep_alive(true);
  return message;
}

template <typename Stream>
asio::awaitable<Attempt> Exchange(Stream& stream, beast::flat_buffer& buffer,
                                  const bhttp::request<bhttp::string_body>& message,
                                  const ClientRequest& request, size_t max_header_bytes,
                                  bool reused, const std::string& authority) {
  Attempt attempt;
  auto [write_ec, written] = co_await bhttp::async_write(stream, message, kNoThrow);
  if (write_ec) {
    attempt.retryable = reused && IsPeerClose(write_ec);
    attempt.error = TransportError(write_ec, "sending the request to", authority);
    co_return attempt;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(max_header_bytes));
  parser.body_limit(request.max_response_body_bytes);
  if (message.method() == bhttp::verb::head) parser.skip(true);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec) {
    if (read_ec == bhttp::error::body_limit) {
      attempt.error = MakeError(ErrorCode::kBadGateway,
                                fmt::format("response from {} is larger than the limit of {} bytes",
                                            authority, request.max_response_body_bytes));
    } else if (IsHttpSyntaxError(read_ec)) {
      attempt.error =
          MakeError(ErrorCode::kBadGateway,
                    fmt::format("malformed response from {}: {}", authority, read_ec.message()));
    } else {
      attempt.retryable = reused && !parser.got_some() && IsPeerClose(read_ec);
      attempt.error = TransportError(read_ec, "reading the response from", authority);
    }
    co_return attempt;
  }

  auto& response = parser.get();
  ClientResponse result;
  result.status = static_cast<int>(response.result_int());
  result.headers.reserve(std::distance(response.begin(), response.end()));
  for (const auto& field : response) {
    result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  result.body = std::move(response.body());
  attempt.keep_alive = response.keep_alive() && message.keep_alive();
  attempt.response = std::move(result);
  co_return attempt;
}

}  // namespace

Result<std::unique_ptr<PooledHttpClient>> PooledHttpClient::Create(ClientOptions options) {
  auto tls = MakeClientTlsContext(options.ca_file);
  if (!tls.ok()) return std::move(tls).take_error();
  return std::unique_ptr<PooledHttpClient>(
      new PooledHttpClient(std::move(options), std::move(tls).value()));
}

PooledHttpClient::PooledHttpClient(ClientOptions options,
                                   std::shared_ptr<boost::asio::ssl::context> tls)
    : options_(std::move(options)),
      tls_(std::move(tls)),
      certificate_contexts_(options_.ca_file),
      pool_(options_.pool) {}

asio::awaitable<Result<ClientResponse>> PooledHttpClient::Send(ClientRequest request) {
  // Beast runs a stream's timeout handler on the completion handler's executor, so the exchange
  // needs a strand when the caller's io_context has several threads. Without one, a timeout can
  // surface as operation_aborted instead of beast::error::timeout.
  auto executor = co_await asio::this_coro::executor;
  std::optional<Result<ClientResponse>> result = co_await asio::co_spawn(
      asio::make_strand(executor), SendOnStrand(std::move(request)), asio::use_awaitable);
  co_return std::move(*result);
}

asio::awaitable<std::optional<Result<ClientResponse>>> PooledHttpClient::SendOnStrand(
    ClientRequest request) {
  co_return co_await SendNow(std::move(request));
}

asio::awaitable<Result<ClientResponse>> PooledHttpClient::SendNow(ClientRequest request) {
  auto url = ParseHttpUrl(request.url);
  if (!url.ok()) co_return std::move(url).take_error();
  std::string key = url->origin.Key();

  // The TLS context: the shared one, or one that presents the request's client certificate.
  std::shared_ptr<asio::ssl::context> tls = tls_;
  if (request.client_certificate) {
    auto with_certificate = certificate_contexts_.Get(*request.client_certificate);
    if (!with_certificate.ok()) co_return std::move(with_certificate).take_error();
    tls = std::move(with_certificate).value();
    key += " client-certificate=" + request.client_certificate->thumbprint();
  }
  std::optional<Origin> proxy;
  std::string proxy_authorization;
  if (request.proxy) {
    auto proxy_url = ParseHttpUrl(request.proxy->url);
    if (!proxy_url.ok()) co_return std::move(proxy_url).take_error();
    if (proxy_url->origin.tls) {
      co_return MakeError(ErrorCode::kInvalidArgument,
                          fmt::format("the proxy URL {} is https; only http proxies are supported",
                                      request.proxy->url));
    }
    proxy = proxy_url->origin;
    if (!request.proxy->username.empty()) {
      const std::string credentials =
          request.proxy->username + ":" + std::string(request.proxy->password.Expose());
      proxy_authorization = "Basic " + Base64Encode(credentials);
    }
    // Connections through a proxy are pooled apart, per proxy and credentials. The key contains a
    // digest of the credentials, so a tunnel opened with one password never serves another.
    key += " proxy=" + proxy->Key() + " credentials=" +
           Base64UrlEncode(Sha256String(proxy_authorization));
  }
  auto message = BuildRequest(request, *url, proxy && !url->origin.tls, proxy_authorization);
  if (!message.ok()) co_return std::move(message).take_error();

  const SteadyTime deadline = std::chrono::steady_clock::now() + request.timeout;
  auto executor = co_await asio::this_coro::executor;
  const asio::execution_context& context = asio::query(executor, asio::execution::context);
  const std::string authority = url->origin.Authority();

  // A second attempt happens only after a reused connection turned out to be closed.
  for (int attempt_number = 0; attempt_number < 2; ++attempt_number) {
    std::unique_ptr<Connection> connection = pool_.Acquire(context, key);
    const bool reused = connection != nullptr;
    if (!reused) {
      Result<std::unique_ptr<Connection>> connected =
          MakeError(ErrorCode::kInternal, "no connection attempt was made");
      if (proxy) {
        connected = co_await ConnectThroughProxy(*proxy, url->origin, proxy_authorization,
                                                 tls.get(), deadline);
      } else {
        connected = co_await Connect(url->origin, tls.get(), deadline);
      }
      if (!connected.ok()) co_return std::move(connected).take_error();
      connection = std::move(connected).value();
      ++connections_opened_;
    }

    connection->Tcp().expires_at(deadline);
    Attempt attempt = co_await connection->Visit([&](auto& stream) {
      return Exchange(stream, connection->buffer(), *message, request,
                      options_.max_response_header_bytes, reused, authority);
    });
    if (attempt.error) {
      connection->Close();
      if (attempt.retryable && attempt_number == 0) {
        spdlog::debug(
            "http client: pooled connection to {} was closed by the peer; retrying on a "
            "new connection",
            authority);
        continue;
      }
      co_return std::move(*attempt.error);
    }

    if (attempt.keep_alive) {
      connection->Tcp().expires_never();
      pool_.Release(context, key, std::move(connection));
    } else {
      connection->Close();
    }
    co_return std::move(*attempt.response);
  }
  co_return MakeError(ErrorCode::kUnavailable,
                      fmt::format("sending the request to {} failed twice", authority));
}

}  // namespace credgate::http
