// ServerTls: the TLS settings of one listener. It contains a server context built from a PEM
// certificate chain file and a PEM private key file, and Reload() replaces that context with
// one built from the files' current contents. A connection takes the context that is current
// when it is accepted and keeps it to its end, so a reload changes only new connections.
//
// Every context requires TLS 1.2 or later, offers only ECDHE key exchange with AEAD ciphers for
// TLS 1.2 (OpenSSL's default TLS 1.3 suites are all AEAD), disables compression and
// renegotiation, and selects ALPN "http/1.1" (RFC 7301 §3.2: a client that offers only other
// protocols gets the no_application_protocol alert).
//
// Thread-safe: Current() and Reload() may run on any thread, and several HttpServers may share
// one ServerTls.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"

namespace credgate::http {

// Builds a TLS server context from `certificate_file` (PEM, the leaf certificate first, then any
// intermediates) and `key_file` (PEM, unencrypted). Fails with kInvalidArgument, naming the file
// and the fix, when a file cannot be read or parsed or the key does not belong to the
// certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& certificate_file, const std::string& key_file);

// Describes the leaf certificate of `context` for logs: subject, serial number and expiry.
std::string DescribeServerCertificate(boost::asio::ssl::context& context);

struct ServerTlsCounters {
  std::atomic<uint64_t> failed_handshakes{0};  // Includes handshakes that timed out.
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> failed_reloads{0};
};

class ServerTls {
 public:
  // Loads the files once. Fails as MakeServerTlsContext() does.
  static Result<std::shared_ptr<ServerTls>> Load(std::string certificate_file,
                                                 std::string key_file);

  // Returns the context for a new connection. Never null.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Reads both files again and makes the new context current. On failure the current context
  // stays, the failure is counted, and the error names the file as MakeServerTlsContext() does.
  Status Reload();

  const std::string& certificate_file() const { return certificate_file_; }
  const std::string& key_file() const { return key_file_; }

  const ServerTlsCounters& counters() const { return counters_; }
  void CountFailedHandshake() {
    counters_.failed_handshakes.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  ServerTls(std::string certificate_file, std::string key_file,
            std::shared_ptr<boost::asio::ssl::context> context);

  const std::string certificate_file_;
  const std::string key_file_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // Guarded by mutex_.
  ServerTlsCounters counters_;
};

}  // namespace credgate::http
