#include "http/tls.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

namespace credgate::http {

Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(
    const std::string& ca_file) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(ssl::verify_peer);

  boost::system::error_code ec;
  context->set_default_verify_paths(ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("loading the system trust store failed: {}", ec.message()));
  }
  if (!ca_file.empty()) {
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("loading CA bundle '{}' failed: {}; give a readable PEM file",
                                   ca_file, ec.message()));
    }
  }
  return context;
}

}  // namespace credgate::http
