#include "http/server_tls.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace credgate::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites with ECDHE key exchange (forward secrecy) and an AEAD cipher. The list leaves out
// CBC ciphers, RSA key exchange and SHA-1 MACs.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN protocol list in wire format: a length byte, then the name.
constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int SelectHttp11(SSL*, const unsigned char** out, unsigned char* out_length,
                 const unsigned char* offered, unsigned int offered_length, void*) {
  unsigned char* selected = nullptr;
  unsigned char selected_length = 0;
  if (SSL_select_next_proto(&selected, &selected_length, kHttp11, sizeof(kHttp11), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *out_length = selected_length;
  return SSL_TLSEXT_ERR_OK;
}

// A password callback that supplies none, so that an encrypted key fails to load instead of
// OpenSSL prompting on the terminal.
int NoPassword(char*, int, int, void*) { return 0; }

// Returns the reason of the earliest OpenSSL error on this thread, which names the cause (for
// example "no start line"), and clears the queue.
std::string TakeOpenSslError() {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(first);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", first);
}

Error FileError(std::string_view file_kind, const std::string& path, std::string_view problem,
                std::string_view fix) {
  return MakeError(ErrorCode::kInvalidArgument,
                   fmt::format("{} file '{}' {}; {}", file_kind, path, problem, fix));
}

// Opens `path` for reading, or fails with an error that names it.
Result<FILE*> OpenForReading(std::string_view file_kind, const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return FileError(file_kind, path, fmt::format("cannot be read: {}", std::strerror(errno)),
                     "check the path and its permissions");
  }
  return file;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& certificate_file,
                                                           const std::string& key_file) {
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("setting the TLS 1.2 cipher list failed: {}", TakeOpenSslError()));
  }
  SSL_CTX_set_alpn_select_cb(native, SelectHttp11, nullptr);

  auto certificate_stream = OpenForReading("TLS certificate", certificate_file);
  if (!certificate_stream.ok()) return certificate_stream.error();
  std::fclose(*certificate_stream);
  if (SSL_CTX_use_certificate_chain_file(native, certificate_file.c_str()) != 1) {
    return FileError("TLS certificate", certificate_file,
                     fmt::format("is not a PEM certificate chain ({})", TakeOpenSslError()),
                     "give the server certificate in PEM, followed by any intermediate "
                     "certificates");
  }

  auto key_stream = OpenForReading("TLS key", key_file);
  if (!key_stream.ok()) return key_stream.error();
  EVP_PKEY* key = PEM_read_PrivateKey(*key_stream, nullptr, NoPassword, nullptr);
  std::fclose(*key_stream);
  if (key == nullptr) {
    return FileError("TLS key", key_file,
                     fmt::format("is not an unencrypted PEM private key ({})", TakeOpenSslError()),
                     "give the certificate's private key in PEM without a passphrase");
  }
  const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(native), key) == 1;
  const bool used = matches && SSL_CTX_use_PrivateKey(native, key) == 1;
  EVP_PKEY_free(key);
  if (!matches || !used || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return FileError("TLS key", key_file,
                     fmt::format("does not belong to the certificate in '{}'", certificate_file),
                     "give the private key that was issued with this certificate");
  }
  ERR_clear_error();
  return context;
}

std::string DescribeServerCertificate(ssl::context& context) {
  X509* certificate = SSL_CTX_get0_certificate(context.native_handle());
  if (certificate == nullptr) return "no certificate";

  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  std::string subject = BioText(bio);
  BIO_free(bio);

  std::string serial;
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  if (number != nullptr) {
    char* hex = BN_bn2hex(number);
    if (hex != nullptr) serial = hex;
    OPENSSL_free(hex);
    BN_free(number);
  }

  bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, X509_get0_notAfter(certificate));
  std::string not_after = BioText(bio);
  BIO_free(bio);
  ERR_clear_error();
  return fmt::format("subject=\"{}\" serial={} not_after=\"{}\"", subject, serial, not_after);
}

Result<std::shared_ptr<ServerTls>> ServerTls::Load(std::string certificate_file,
                                                   std::string key_file) {
  auto context = MakeServerTlsContext(certificate_file, key_file);
  if (!context.ok()) return context.error();
  return std::shared_ptr<ServerTls>(
      new ServerTls(std::move(certificate_file), std::move(key_file), std::move(*context)));
}

ServerTls::ServerTls(std::string certificate_file, std::string key_file,
                     std::shared_ptr<ssl::context> context)
    : certificate_file_(std::move(certificate_file)),
      key_file_(std::move(key_file)),
      context_(std::move(context)) {}

std::shared_ptr<ssl::context> ServerTls::Current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

Status ServerTls::Reload() {
  auto context = MakeServerTlsContext(certificate_file_, key_file_);
  if (!context.ok()) {
    counters_.failed_reloads.fetch_add(1, std::memory_order_relaxed);
    return context.error();
  }
  {
    std::lock_guard lock(mutex_);
    context_ = std::move(*context);
  }
  counters_.reloads.fetch_add(1, std::memory_order_relaxed);
  return OkStatus();
}

}  // namespace credgate::http
