#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

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

class TlsTest : public IoTest {
 protected:
  // Starts an HTTPS server whose certificate lists `san`, and writes that certificate to a CA
  // file.
  void StartTlsServer(const std::string& san) {
    TestCertificate certificate = MakeSelfSignedCertificate(san);
    ca_file_ = WriteTempFile("credgate_tls_test_ca.pem", certificate.certificate_pem);
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls->use_certificate_chain(
        asio::buffer(certificate.certificate_pem.data(), certificate.certificate_pem.size()));
    tls->use_private_key(asio::buffer(certificate.key_pem.data(), certificate.key_pem.size()),
                         ssl::context::pem);
    acceptor_ =
        std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(io_, ServeTls(acceptor_, tls), asio::detached);
  }
  ~TlsTest() override {
    if (acceptor_) RunOnIo([this] { acceptor_->close(); });
  }

  Result<ClientResponse> Get(const std::string& host, const std::string& ca_file) {
    ClientOptions options;
    options.ca_file = ca_file;
    auto client = PooledHttpClient::Create(options);
    EXPECT_TRUE(client.ok());
    ClientRequest request;
    request.url = "https://" + host + ":" + std::to_string(port_) + "/";
    return Run((*client)->Send(std::move(request)));
  }

  std::shared_ptr<tcp::acceptor> acceptor_;
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

TEST_F(TlsTest, MissingCaFileIsInvalidArgument) {
  ClientOptions options;
  options.ca_file = "/nonexistent/credgate-ca.pem";
  auto client = PooledHttpClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace credgate::http
