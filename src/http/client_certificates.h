// ClientCertificateContexts: the TLS client contexts that present a client certificate, made on
// first use and kept by the certificate's thumbprint, for the send-request client and the
// backend proxy. Connections that present a certificate are pooled under a key that names it.
//
// Thread-safe.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "crypto/certificate.h"

namespace credgate::http {

class ClientCertificateContexts {
 public:
  // `ca_file`: the extra trusted CA certificates (PEM) of every context, or "" for none.
  explicit ClientCertificateContexts(std::string ca_file) : ca_file_(std::move(ca_file)) {}

  // Returns the context that presents `certificate`. Errors: kInvalidArgument when the
  // certificate has no private key, kInternal when OpenSSL does not take it.
  Result<std::shared_ptr<boost::asio::ssl::context>> Get(const crypto::Certificate& certificate);

 private:
  // Stored certificates are few, but an <authentication-certificate body> expression can return
  // a new certificate per request, so a full map drops its first entry. Connections that use a
  // dropped context keep it alive through their shared_ptr.
  static constexpr size_t kMaxContexts = 256;

  const std::string ca_file_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> contexts_;  // By thumbprint.
};

}  // namespace credgate::http
