// HttpServer with TLS (ServerOptions::tls) and ServerTls's loading and reloading.
#include "http/server_tls.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fstream>

#include "http/pooled_client.h"
#include "test_support.h"

namespace credgate::http {
namespace {

using namespace testing;
namespace ssl = boost::asio::ssl;

// A blocking TLS client with its own io_context. It verifies nothing, because the tests check
// which certificate the server presents, not whether a client trusts it.
class TlsClient {
 public:
  // `alpn` is the offered protocol list in wire format; empty offers none.
  explicit TlsClient(std::string alpn = std::string("\x08http/1.1", 9),
                     int max_version = TLS1_3_VERSION)
      : context_(ssl::context::tls_client) {
    SSL_CTX_set_max_proto_version(context_.native_handle(), max_version);
    SSL_CTX_set_security_level(context_.native_handle(), 0);  // Lets it offer TLS 1.1.
    if (!alpn.empty()) {
      SSL_CTX_set_alpn_protos(context_.native_handle(),
                              reinterpret_cast<const unsigned char*>(alpn.data()),
                              static_cast<unsigned>(alpn.size()));
    }
    context_.set_verify_mode(ssl::verify_none);
    stream_ = std::make_unique<ssl::stream<tcp::socket>>(io_, context_);
  }

  // Connects to 127.0.0.1:`port` and runs the handshake; returns its error.
  boost::system::error_code Connect(uint16_t port) {
    boost::system::error_code ec;
    stream_->lowest_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) stream_->handshake(ssl::stream_base::client, ec);
    return ec;
  }

  std::string SelectedAlpn() {
    const unsigned char* name = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &name, &length);
    return std::string(reinterpret_cast<const char*>(name), length);
  }

  std::string PeerCertificatePem() {
    X509* certificate = SSL_get1_peer_certificate(stream_->native_handle());
    if (certificate == nullptr) return "";
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, certificate);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(size));
    BIO_free(bio);
    X509_free(certificate);
    return pem;
  }

  // Sends GET `path` with keep-alive and returns the response body, or the error text.
  std::string Get(const std::string& path) {
    bhttp::request<bhttp::string_body> request(bhttp::verb::get, path, 11);
    request.set(bhttp::field::host, "localhost");
    boost::system::error_code ec;
    bhttp::write(*stream_, request, ec);
    if (ec) return "write failed: " + ec.message();
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(*stream_, buffer, response, ec);
    if (ec) return "read failed: " + ec.message();
    return response.body();
  }

 private:
  asio::io_context io_;
  ssl::context context_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;
};

class ServerTlsTest : public IoTest {
 protected:
  ServerTlsTest() {
    first_ = MakeSelfSignedCertificate("DNS:localhost");
    second_ = MakeSelfSignedCertificate("DNS:localhost");
    certificate_file_ = WriteTempFile("server_tls_cert.pem", first_.certificate_pem);
    key_file_ = WriteTempFile("server_tls_key.pem", first_.key_pem);
  }

  // Starts an HTTPS server that responds "secure" with the first certificate.
  void StartHttps(ServerOptions options = {}) {
    auto tls = ServerTls::Load(certificate_file_, key_file_);
    ASSERT_TRUE(tls.ok()) << tls.error().message;
    tls_ = *tls;
    options.tls = tls_;
    StartBuffered(RespondWith("secure"), options);
  }

  // Replaces the certificate and key files with `certificate`.
  void ReplaceFiles(const TestCertificate& certificate) {
    std::ofstream(certificate_file_, std::ios::trunc) << certificate.certificate_pem;
    std::ofstream(key_file_, std::ios::trunc) << certificate.key_pem;
  }

  // Waits up to 5 s for the failed handshake counter to reach `expected`.
  bool WaitForFailedHandshakes(uint64_t expected) {
    for (int i = 0; i < 500; ++i) {
      if (tls_->counters().failed_handshakes.load() >= expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  TestCertificate first_;
  TestCertificate second_;
  std::string certificate_file_;
  std::string key_file_;
  std::shared_ptr<ServerTls> tls_;
};

TEST_F(ServerTlsTest, ServesHttpsWithHttp11Alpn) {
  StartHttps();
  TlsClient client(std::string("\x02h2\x08http/1.1", 12));
  ASSERT_FALSE(client.Connect(last_port_));
  EXPECT_EQ(client.SelectedAlpn(), "http/1.1");
  EXPECT_EQ(client.Get("/"), "secure");
  EXPECT_EQ(client.Get("/again"), "secure");
}

TEST_F(ServerTlsTest, ServesClientWithoutAlpn) {
  StartHttps();
  TlsClient client("");
  ASSERT_FALSE(client.Connect(last_port_));
  EXPECT_EQ(client.Get("/"), "secure");
}

TEST_F(ServerTlsTest, RejectsAlpnWithoutHttp11) {
  StartHttps();
  TlsClient client(std::string("\x02h2", 3));
  EXPECT_TRUE(client.Connect(last_port_));
  EXPECT_TRUE(WaitForFailedHandshakes(1));
}

TEST_F(ServerTlsTest, RejectsTls11) {
  StartHttps();
  TlsClient client(std::string("\x08http/1.1", 9), TLS1_1_VERSION);
  EXPECT_TRUE(client.Connect(last_port_));
  EXPECT_TRUE(WaitForFailedHandshakes(1));
}

TEST_F(ServerTlsTest, PlainHttpRequestIsCountedAndClosed) {
  StartHttps();
  RawResult result = RawExchange(last_port_, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(result.closed_by_peer);
  EXPECT_FALSE(result.received.starts_with("HTTP/1.1")) << result.received;
  EXPECT_TRUE(WaitForFailedHandshakes(1));
}

TEST_F(ServerTlsTest, StalledHandshakeTimesOutWithoutBlockingOthers) {
  ServerOptions options;
  options.handshake_timeout = std::chrono::milliseconds(500);
  StartHttps(options);
  asio::io_context io;
  tcp::socket stalled(io);
  stalled.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), last_port_));

  // The stalled connection has sent nothing, and another client is served meanwhile.
  TlsClient client;
  ASSERT_FALSE(client.Connect(last_port_));
  EXPECT_EQ(client.Get("/"), "secure");
  EXPECT_EQ(tls_->counters().failed_handshakes.load(), 0u);

  ASSERT_TRUE(WaitForFailedHandshakes(1));
  char byte;
  boost::system::error_code ec;
  stalled.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
}

TEST_F(ServerTlsTest, PooledClientTrustsServerWithCaFile) {
  StartHttps();
  ClientOptions options;
  options.ca_file = certificate_file_;
  auto client = PooledHttpClient::Create(options);
  ASSERT_TRUE(client.ok());
  ClientRequest request;
  request.url = "https://localhost:" + std::to_string(last_port_) + "/";
  auto response = Run((*client)->Send(std::move(request)));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "secure");
}

TEST_F(ServerTlsTest, ReloadServesNewCertificateToNewConnectionsOnly) {
  StartHttps();
  TlsClient before;
  ASSERT_FALSE(before.Connect(last_port_));
  ASSERT_EQ(before.PeerCertificatePem(), first_.certificate_pem);

  ReplaceFiles(second_);
  ASSERT_TRUE(tls_->Reload().ok());
  EXPECT_EQ(tls_->counters().reloads.load(), 1u);

  TlsClient after;
  ASSERT_FALSE(after.Connect(last_port_));
  EXPECT_EQ(after.PeerCertificatePem(), second_.certificate_pem);
  EXPECT_EQ(after.Get("/"), "secure");
  // The connection made before the reload keeps working on its own session.
  EXPECT_EQ(before.Get("/"), "secure");
}

TEST_F(ServerTlsTest, FailedReloadKeepsCurrentCertificate) {
  StartHttps();
  const auto current = tls_->Current();
  std::ofstream(key_file_, std::ios::trunc) << second_.key_pem;  // The key no longer matches.

  Status reloaded = tls_->Reload();
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.error().message.find(key_file_), std::string::npos)
      << reloaded.error().message;
  EXPECT_EQ(tls_->Current(), current);
  EXPECT_EQ(tls_->counters().failed_reloads.load(), 1u);

  TlsClient client;
  ASSERT_FALSE(client.Connect(last_port_));
  EXPECT_EQ(client.PeerCertificatePem(), first_.certificate_pem);
}

TEST(ServerTlsContext, DescribesCertificate) {
  TestCertificate certificate = MakeSelfSignedCertificate("DNS:localhost");
  auto context =
      MakeServerTlsContext(WriteTempFile("describe_cert.pem", certificate.certificate_pem),
                           WriteTempFile("describe_key.pem", certificate.key_pem));
  ASSERT_TRUE(context.ok()) << context.error().message;
  const std::string description = DescribeServerCertificate(**context);
  EXPECT_NE(description.find("subject=\"CN=credgate test\""), std::string::npos) << description;
  EXPECT_NE(description.find("serial=01"), std::string::npos) << description;
}

}  // namespace
}  // namespace credgate::http
