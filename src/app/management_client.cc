#include "app/management_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace credgate::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

Result<ManagementReply> SendManagementRequest(const std::string& base_url,
                                              const std::string& method, const std::string& path,
                                              const Secret& admin_key, const std::string& body,
                                              std::chrono::seconds timeout) {
  auto url = boost::urls::parse_absolute_uri(base_url);
  if (!url || url->scheme() != "http" || url->host().empty() ||
      (!url->path().empty() && url->path() != "/")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid management URL '" + base_url +
                         "': use http://host:port, for example http://127.0.0.1:8081");
  }
  std::string host = url->host();
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = url->has_port() ? std::string(url->port()) : "80";

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
  stream.expires_after(timeout);
  bhttp::write(stream, request, error);
  if (!error) {
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream, buffer, response, error);
    if (!error) {
      stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
      return ManagementReply{static_cast<int>(response.result_int()), response.body()};
    }
  }
  ErrorCode code =
      error == beast::error::timeout ? ErrorCode::kDeadlineExceeded : ErrorCode::kUnavailable;
  return MakeError(code, method + " " + path + " on " + base_url + " failed: " + error.message());
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
