// TLS client settings shared by PooledHttpClient and UpstreamPool.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.h"

namespace credgate::http {

// Creates a TLS client context that requires TLS 1.2 or later and verifies the peer's
// certificate chain against the system's default trust store and, when `ca_file` is not empty,
// the PEM certificates in that file too. Host name checks are set per connection (Connect() in
// connection.h). Fails with kInvalidArgument when `ca_file` cannot be loaded.
// The context is thread-safe for creating connections once built.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const std::string& ca_file);

}  // namespace credgate::http
