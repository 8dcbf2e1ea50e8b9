#include "app/management_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <memory>

#include "http/tls.h"

namespace credgate::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// Sends `request` on `stream` and reads the response.
template <typename Stream>
Result<ManagementReply> Exchange(Stream& stream, bhttp::request<bhttp::string_body>& request,
                                 const std::string& description) {
  beast::error_code error;
  bhttp::write(stream, request, error);
  if (!error) {
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response, error);
    if (!error) {
      return ManagementReply{static_cast<int>(response.result_int()), response.body()};
    }
  }
  ErrorCode code =
      error == beast::error::timeout ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable;
  return MakeError(code, description + " failed: " + error.message());
}

// Sets SNI and the expected host name, or the expected IP address, on a client TLS stream.
bool ExpectPeer(SSL* ssl, const std::string& host) {
  boost::system::error_code parse_error;
  asio::ip::make_address(host, parse_error);
  if (!parse_error) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

}  // namespace

Result<ManagementReply> SendManagementRequest(const std::string& base_url,
                                              const std::string& method, const std::string& path,
                                              const Secret& admin_key, const std::string& body,
                                              std::chrono::seconds timeout) {
  auto url = boost::urls::parse_absolute_uri(base_url);
  const bool tls = url && url->scheme() == "https";
  if (!url || (url->scheme() != "http" && !tls) || url->host().empty() ||
      (!url->path().empty() && url->path() != "/")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid management URL '" + base_url +
                         "': use http://host:port or https://host:port, for example "
                         "http://127.0.0.1:8081");
  }
  std::string host = url->host();
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = url->has_port() ? std::string(url->port()) : (tls ? "443" : "80");

  std::shared_ptr<asio::ssl::context> tls_context;
  if (tls) {
    const char* ca_file = std::getenv("CREDGATE_MANAGEMENT_CA_FILE");
    auto context = http::MakeClientTlsContext(ca_file != nullptr ? ca_file : "");
    if (!context.ok()) {
      return MakeError(context.error().code,
                       "CREDGATE_MANAGEMENT_CA_FILE: " + context.error().message);
    }
    tls_context = std::move(*context);
  }

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::error_code error;
  auto endpoints = resolver.resolve(host, port, error);
  if (error) {
    return MakeError(ErrorCode::kUnavailable,
                     "failed to resolve " + base_url + ": " + error.message());
  }
  stream.expires_after(timeout);
  stream.connect(endpoints, error);
  if (error) {
    return MakeError(ErrorCode::kUnavailable, "failed to connect to " + base_url + ": " +
                                                  error.message() +
                                                  "; check that credgate serve is running");
  }

  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), path, 11};
  request.set(bhttp::field::host, url->encoded_host_and_port());
  request.set(bhttp::field::authorization, "Bearer " + std::string(admin_key.Expose()));
  if (!body.empty()) {
    request.set(bhttp::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  const std::string description = method + " " + path + " on " + base_url;
  if (!tls) {
    auto reply = Exchange(stream, request, description);
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
    return reply;
  }

  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *tls_context);
  if (!ExpectPeer(tls_stream.native_handle(), host)) {
    return MakeError(ErrorCode::kInternal, "setting the expected TLS peer " + host + " failed");
  }
  tls_stream.handshake(asio::ssl::stream_base::client, error);
  if (error) {
    return MakeError(ErrorCode::kUnavailable,
                     "TLS handshake with " + base_url + " failed: " + error.message() +
                         "; set CREDGATE_MANAGEMENT_CA_FILE to the PEM file of the CA that "
                         "issued the management certificate");
  }
  auto reply = Exchange(tls_stream, request, description);
  beast::get_lowest_layer(tls_stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both,
                                                       error);
  return reply;
}

Result<boost::json::value> CallManagementApi(const std::string& base_url,
                                             const std::string& method, const std::string& path,
                                             const Secret& admin_key, const std::string& body,
                                             std::chrono::seconds timeout) {
  namespace json = boost::json;
  auto reply = SendManagementRequest(base_url, method, path, admin_key, body, timeout);
  if (!reply.ok()) return reply.error();
  boost::system::error_code parse_error;
  json::value parsed =
      reply->body.empty() ? json::value(json::object()) : json::parse(reply->body, parse_error);
  if (reply->status < 200 || reply->status > 299) {
    std::string message = reply->body;
    if (!parse_error && parsed.is_object()) {
      if (const auto* error = parsed.as_object().if_contains("error");
          error != nullptr && error->is_object() && error->as_object().contains("message") &&
          error->as_object().at("message").is_string()) {
        message = std::string(error->as_object().at("message").as_string());
      }
    }
    return MakeError(
        ErrorCode::kFailedPrecondition,
        method + " " + path + " returned HTTP " + std::to_string(reply->status) + ": " + message);
  }
  if (parse_error) {
    return MakeError(ErrorCode::kInternal,
                     method + " " + path + " returned a body that is not JSON");
  }
  return parsed;
}

}  // namespace credgate::app
