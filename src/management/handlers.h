// Handlers: the per-resource logic behind ManagementService. Reads come from the in-memory
// snapshot; writes validate, persist through the store thread, then publish to ConfigState.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/result.h"
#include "management/routes.h"
#include "runtime/services.h"

namespace credgate::management {

class Handlers {
 public:
  explicit Handlers(runtime::Services& services) : services_(services) {}

  Result<boost::json::value> List(const ResourcePath& path);
  Result<boost::json::value> Get(const ResourcePath& path);
  // Creates a login link; `caller` is recorded with it for the confirmation page.
  Result<boost::json::value> CreateLoginLink(const ResourcePath& path, const std::string& body,
                                             const std::string& caller);
  // Confirms a consent code (credentials/consent_codes.h). Returns null for an empty 200 body.
  Result<boost::json::value> ConfirmConsentCode(const ResourcePath& path,
                                                const std::string& body);

  // Set `status` to 201 for a created resource, 200 for a replaced or deleted one, 204 for a
  // DELETE of a resource that did not exist.
  boost::asio::awaitable<Result<boost::json::value>> Put(const ResourcePath& path,
                                                        const std::string& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> Delete(const ResourcePath& path,
                                                           int& status);

  // Requests the first token of a client credentials connection and records the outcome as its
  // status: Connected, or Error with the provider's reason.
  boost::asio::awaitable<void> RequestClientCredentialsToken(const std::string& connection_key,
                                                            credentials::ProviderConfig config);
  // Gives the token manager the new settings of each client credentials connection of
  // `provider`.
  void UpdateClientCredentialsConnections(const runtime::Snapshot& snapshot,
                                          const runtime::ProviderEntry& provider);

 private:
  boost::asio::awaitable<Result<boost::json::value>> PutProvider(const ResourcePath& path,
                                                                const boost::json::object& body,
                                                                int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutConnection(
      const ResourcePath& path, const boost::json::object& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutAccessPolicy(
      const ResourcePath& path, const boost::json::object& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutTrustedIssuer(
      const ResourcePath& path, const boost::json::object& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutApi(const ResourcePath& path,
                                                           const boost::json::object& body,
                                                           int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutOperation(
      const ResourcePath& path, const boost::json::object& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutPolicy(const ResourcePath& path,
                                                              const boost::json::object& body,
                                                              int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutPolicyFragment(
      const ResourcePath& path, const boost::json::object& body, int& status);
  boost::asio::awaitable<Result<boost::json::value>> PutBackend(const ResourcePath& path,
                                                               const boost::json::object& body,
                                                               int& status);
  // Defined in certificate_handlers.cc.
  boost::asio::awaitable<Result<boost::json::value>> PutCertificate(const ResourcePath& path,
                                                                    const boost::json::object& body,
                                                                    int& status);

  runtime::Services& services_;
};

}  // namespace credgate::management
