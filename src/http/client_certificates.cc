#include "http/client_certificates.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include "http/tls.h"

namespace credgate::http {

namespace asio = boost::asio;

Result<std::shared_ptr<asio::ssl::context>> ClientCertificateContexts::Get(
    const crypto::Certificate& certificate) {
  std::lock_guard lock(mutex_);
  if (auto found = contexts_.find(certificate.thumbprint());
      found != contexts_.end()) {
    return found->second;
  }
  if (certificate.private_key() == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("the client certificate {} has no private key",
                                 certificate.subject()));
  }
  auto tls = MakeClientTlsContext(ca_file_);
  if (!tls.ok()) return std::move(tls).take_error();
  SSL_CTX* native = (*tls)->native_handle();
  bool loaded = SSL_CTX_use_certificate(native, certificate.x509()) == 1 &&
                SSL_CTX_use_PrivateKey(native, certificate.private_key()) == 1;
  for (const auto& intermediate : certificate.chain()) {
    loaded = loaded && SSL_CTX_add1_chain_cert(native, intermediate.get()) == 1;
  }
  if (!loaded) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("loading the client certificate {} into TLS failed",
                                 certificate.subject()));
  }
  if (contexts_.size() >= kMaxContexts) {
    contexts_.erase(contexts_.begin());
  }
  std::shared_ptr<asio::ssl::context> context = std::move(tls).value();
  contexts_.emplace(certificate.thumbprint(), context);
  return context;
}

}  // namespace credgate::http
