#include "test_support.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>

namespace credgate::http::testing {

uint16_t ClosedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TimedSocket ConnectedPair(asio::io_context& io, tcp::socket& peer) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  TimedSocket client(io.get_executor());
  client.socket().connect(acceptor.local_endpoint());
  peer = acceptor.accept();
  return client;
}

RawResult RawExchange(uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout,
                      std::string_view more, std::chrono::milliseconds pause) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  boost::system::error_code ec;
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
  if (!more.empty()) {
    std::this_thread::sleep_for(pause);
    asio::write(socket, asio::buffer(more.data(), more.size()), ec);
  }

  RawResult result;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(socket.native_handle(), chunk, sizeof(chunk), 0);
    if (n > 0) {
      result.received.append(chunk, static_cast<size_t>(n));
      continue;
    }
    result.closed_by_peer = n == 0 || errno == ECONNRESET;
    break;
  }
  return result;
}

TestCertificate MakeSelfSignedCertificate(const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("credgate test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_subject_alt_name, san},
        std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
  }
  X509_sign(cert, key, EVP_sha256());

  TestCertificate result;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  result.certificate_pem.assign(data, static_cast<size_t>(size));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  size = BIO_get_mem_data(bio, &data);
  result.key_pem.assign(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return result;
}

std::string WriteTempFile(const std::string& name, const std::string& text) {
  // CTest runs each test in its own process, in parallel: the process id keeps their files apart.
  std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

BufferedHandler RespondWith(std::string body) {
  return [body](Request&&, const RequestInfo&) -> asio::awaitable<Response> {
    Response response(bhttp::status::ok, 11);
    response.body() = body;
    co_return response;
  };
}

}  // namespace credgate::http::testing
