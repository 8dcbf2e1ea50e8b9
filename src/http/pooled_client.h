// PooledHttpClient: the HttpClient (client.h) that sends requests over the network with
// Boost.Beast, keeping connections alive per origin (connection_pool.h) and verifying TLS
// certificates (tls.h).
//
// Thread-safe. Send() runs on the calling coroutine's executor, and the pool keeps the
// connections of each execution context apart.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/client.h"
#include "http/client_certificates.h"
#include "http/connection_pool.h"

namespace credgate::http {

struct ClientOptions {
  PoolOptions pool;
  // PEM file of extra trusted CA certificates, used in addition to the system trust store.
  std::string ca_file;
  size_t max_response_header_bytes = 64 * 1024;
};

class PooledHttpClient final : public HttpClient {
 public:
  // Fails with kInvalidArgument when options.ca_file cannot be loaded.
  static Result<std::unique_ptr<PooledHttpClient>> Create(ClientOptions options);

  // Sends `request` over a pooled or new connection; see HttpClient for the error contract.
  // When a reused connection fails before any byte of the response arrived (the peer closed it
  // while idle), the request is sent once more on a new connection, for any method.
  boost::asio::awaitable<Result<ClientResponse>> Send(ClientRequest request) override;

  // Counts connections opened so far; used by tests and metrics.
  uint64_t ConnectionsOpened() const { return connections_opened_.load(); }
  size_t IdleConnections() const { return pool_.IdleCount(); }

 private:
  PooledHttpClient(ClientOptions options, std::shared_ptr<boost::asio::ssl::context> tls);
  // Optional because co_spawn needs a default-constructible result type.
  boost::asio::awaitable<std::optional<Result<ClientResponse>>> SendOnStrand(ClientRequest request);
  boost::asio::awaitable<Result<ClientResponse>> SendNow(ClientRequest request);
  const ClientOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  ClientCertificateContexts certificate_contexts_;
  ConnectionPool pool_;
  std::atomic<uint64_t> connections_opened_{0};
};

}  // namespace credgate::http
