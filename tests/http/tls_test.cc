#include <gtest/gtest.h>

#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <mutex>

#include "crypto/certificate.h"
#include "http/pooled_client.h"
#include "test_support.h"

namespace credgate::http {
namespace {

using namespace testing;
namespace ssl = boost::asio::ssl;

// Serves one HTTPS response per connection with the server certificate in `tls`.
asio::awaitable<void> ServeTls(std::shared_ptr<tcp::acceptor> acceptor,
                               std::shared_ptr<ssl::context> tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::server,
                                                          asio::as_tuple(asio::use_awaitable));
    if (handshake_ec) continue;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    auto [read_ec, n] =
        co_await bhttp::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_ec) continue;
    Response response(bhttp::status::ok, 11);
    response.keep_alive(false);
    response.body() = "secure";
    response.prepare_payload();
    co_await bhttp::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  }
}

// Copies bytes from `from` to `to` until `from` ends, then shuts down the sending side of `to`.
asio::awaitable<void> Pipe(tcp::socket& from, tcp::socket& to) {
  std::array<char, 4096> data;
  for (;;) {
    auto [read_ec, n] =
        co_await from.async_read_some(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;
    auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(data.data(), n),
                                                          asio::as_tuple(asio::use_awaitable));
    if (write_ec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

// The request lines (method, target and Proxy-Authorization) that a test proxy received.
struct ProxyLog {
  std::mutex mutex;
  std::vector<std::string> lines;
  void Add(std::string line) {
    std::lock_guard lock(mutex);
    lines.push_back(std::move(line));
  }
};

// A forward proxy for one connection at a time: CONNECT opens a tunnel to the 127.0.0.1 port in
// the target, and any other request gets the response 200 "proxied" without being forwarded.
asio::awaitable<void> ServeProxy(std::shared_ptr<tcp::acceptor> acceptor,
                                 std::shared_ptr<ProxyLog> log) {
  using namespace asio::experimental::awaitable_operators;
  for (;;) {
    auto [ec, client] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    auto [read_ec, n] =
        co_await bhttp::async_read(client, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_ec) continue;
    log->Add(std::string(request.method_string()) + " " + std::string(request.target()) + " " +
             std::string(request[bhttp::field::proxy_authorization]));
    if (request.method() != bhttp::verb::connect) {
      Response response(bhttp::status::ok, 11);
      response.keep_alive(false);
      response.body() = "proxied";
      response.prepare_payload();
      co_await bhttp::async_write(client, response, asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const std::string target(request.target());
    const auto port = static_cast<uint16_t>(std::stoi(target.substr(target.rfind(':') + 1)));
    tcp::socket upstream(acceptor->get_executor());
    auto [connect_ec] = co_await upstream.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
        asio::as_tuple(asio::use_awaitable));
    if (connect_ec) continue;
    constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await asio::async_write(client, asio::buffer(kEstablished),
                               asio::as_tuple(asio::use_awaitable));
    co_await (Pipe(client, upstream) && Pipe(upstream, client));
  }
}

class TlsTest : public IoTest {
 protected:
  // Starts an HTTPS server whose certificate lists `san`, and writes that certificate to a CA
  // file. With `client_ca_pem`, the server requires a client certificate that it signed.
  void StartTlsServer(const std::string& san, const std::string& client_ca_pem = "") {
    TestCertificate certificate = MakeSelfSignedCertificate(san);
    ca_file_ = WriteTempFile("credgate_tls_test_ca.pem", certificate.certificate_pem);
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls->use_certificate_chain(
        asio::buffer(certificate.certificate_pem.data(), certificate.certificate_pem.size()));
    tls->use_private_key(asio::buffer(certificate.key_pem.data(), certificate.key_pem.size()),
                         ssl::context::pem);
    if (!client_ca_pem.empty()) {
      tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      tls->add_certificate_authority(asio::buffer(client_ca_pem.data(), client_ca_pem.size()));
    }
    acceptor_ =
        std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(io_, ServeTls(acceptor_, tls), asio::detached);
  }
  ~TlsTest() override {
    if (acceptor_) RunOnIo([this] { acceptor_->close(); });
    if (proxy_acceptor_) RunOnIo([this] { proxy_acceptor_->close(); });
  }

  Result<ClientResponse> Get(const std::string& host, const std::string& ca_file,
                             ClientRequest request = {}) {
    ClientOptions options;
    options.ca_file = ca_file;
    auto client = PooledHttpClient::Create(options);
    EXPECT_TRUE(client.ok());
    if (request.url.empty()) request.url = "https://" + host + ":" + std::to_string(port_) + "/";
    return Run((*client)->Send(std::move(request)));
  }

  // Starts ServeProxy on 127.0.0.1 and returns its URL.
  std::string StartProxy() {
    proxy_acceptor_ =
        std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(io_, ServeProxy(proxy_acceptor_, proxy_log_), asio::detached);
    return "http://127.0.0.1:" + std::to_string(proxy_acceptor_->local_endpoint().port());
  }

  std::shared_ptr<tcp::acceptor> acceptor_;
  std::shared_ptr<tcp::acceptor> proxy_acceptor_;
  std::shared_ptr<ProxyLog> proxy_log_ = std::make_shared<ProxyLog>();
  std::string ca_file_;
  uint16_t port_ = 0;
};

TEST_F(TlsTest, TrustedCertificateSucceeds) {
  StartTlsServer("DNS:localhost,IP:127.0.0.1");
  auto response = Get("localhost", ca_file_);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "secure");
}

TEST_F(TlsTest, TrustedIpAddressSucceeds) {
  StartTlsServer("IP:127.0.0.1");
  auto response = Get("127.0.0.1", ca_file_);
  ASSERT_TRUE(response.ok()) << response.error().message;
}

TEST_F(TlsTest, UntrustedCertificateFails) {
  StartTlsServer("DNS:localhost,IP:127.0.0.1");
  auto response = Get("localhost", "");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST_F(TlsTest, WrongHostNameFails) {
  StartTlsServer("DNS:other.test");
  auto response = Get("localhost", ca_file_);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << response.error().message;
}

TEST_F(TlsTest, ClientCertificateAccepted) {
  TestCertificate client = MakeSelfSignedCertificate("DNS:client.test");
  StartTlsServer("IP:127.0.0.1", client.certificate_pem);
  ClientRequest request;
  request.client_certificate =
      crypto::Certificate::Parse(client.certificate_pem + client.key_pem, Secret()).value();
  auto response = Get("127.0.0.1", ca_file_, std::move(request));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "secure");
}

TEST_F(TlsTest, MissingClientCertificateFails) {
  TestCertificate client = MakeSelfSignedCertificate("DNS:client.test");
  StartTlsServer("IP:127.0.0.1", client.certificate_pem);
  auto response = Get("127.0.0.1", ca_file_);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << response.error().message;
}

TEST_F(TlsTest, UntrustedClientCertificateFails) {
  TestCertificate trusted = MakeSelfSignedCertificate("DNS:client.test");
  TestCertificate other = MakeSelfSignedCertificate("DNS:other.test");
  StartTlsServer("IP:127.0.0.1", trusted.certificate_pem);
  ClientRequest request;
  request.client_certificate =
      crypto::Certificate::Parse(other.certificate_pem + other.key_pem, Secret()).value();
  auto response = Get("127.0.0.1", ca_file_, std::move(request));
  ASSERT_FALSE(response.ok());
}

TEST_F(TlsTest, HttpsThroughConnectProxy) {
  StartTlsServer("IP:127.0.0.1");
  ClientRequest request;
  request.proxy = ProxySettings{StartProxy(), "user", Secret(std::string("pass"))};
  auto response = Get("127.0.0.1", ca_file_, std::move(request));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "secure");
  std::lock_guard lock(proxy_log_->mutex);
  ASSERT_EQ(proxy_log_->lines.size(), 1u);
  // "user:pass" in base64 is dXNlcjpwYXNz.
  EXPECT_EQ(proxy_log_->lines[0],
            "CONNECT 127.0.0.1:" + std::to_string(port_) + " Basic dXNlcjpwYXNz");
}

TEST_F(TlsTest, HttpThroughProxyUsesAbsoluteForm) {
  ClientRequest request;
  request.url = "http://backend.test:8080/items?id=1";
  request.proxy = ProxySettings{StartProxy(), "", Secret()};
  auto response = Get("", "", std::move(request));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "proxied");
  std::lock_guard lock(proxy_log_->mutex);
  ASSERT_EQ(proxy_log_->lines.size(), 1u);
  EXPECT_EQ(proxy_log_->lines[0], "GET http://backend.test:8080/items?id=1 ");
}

TEST_F(TlsTest, HttpsProxyUrlRejected) {
  ClientRequest request;
  request.url = "http://backend.test/";
  request.proxy = ProxySettings{"https://127.0.0.1:1", "", Secret()};
  auto response = Get("", "", std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(TlsTest, MissingCaFileIsInvalidArgument) {
  ClientOptions options;
  options.ca_file = "/nonexistent/credgate-ca.pem";
  auto client = PooledHttpClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace credgate::http
