// Services: the long-lived objects of one credgate process that the management API and the
// gateway share. The application owns every member and outlives both listeners; the pointers
// are never null while a listener runs.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "runtime/state.h"

namespace credgate::crypto {
class Keyring;
}
namespace credgate::store {
class AsyncStore;
}
namespace credgate::credentials {
class ConsentCodes;
class LoginSessions;
class TokenManager;
class TokenClient;
}  // namespace credgate::credentials
namespace credgate::identity {
class JwtValidator;
}
namespace credgate::http {
class HttpClient;
}
namespace credgate::events {
class EventLog;
}

namespace credgate::runtime {

class AuditSink;

struct Settings {
  std::string public_url;  // No trailing slash.
  std::vector<std::string> post_login_redirect_allow;
  std::optional<std::pair<std::string, std::string>> managed_identity;  // tenant id, object id.
  // The client credentials provider that issues the tokens of authentication-managed-identity;
  // empty when none is configured.
  std::string managed_identity_token_provider;
  // Sends authentication-managed-identity's resource as the `resource` token request parameter
  // instead of as the scope "<resource>/.default".
  bool managed_identity_resource_parameter = false;
  // User-assigned identities: client id -> the client credentials provider that issues the
  // tokens of authentication-managed-identity client-id="...".
  std::map<std::string, std::string> managed_identity_user_assigned;
  // The Dapr sidecar that set-backend-service backend-id="dapr" sends to.
  std::string dapr_sidecar_url = "http://127.0.0.1:3500";
  // The name this process holds refresh leases under; unique among the gateways of a cluster.
  std::string instance_id = "credgate";
  // How long a refresh lease lasts. Set it longer than a token request may take, so that a live
  // holder keeps its lease; nothing checks this at start.
  std::chrono::milliseconds refresh_lease_ttl{30'000};

  // Returns the OAuth redirect URL registered at every provider.
  std::string CallbackUrl() const { return public_url + "/.credgate/callback"; }
};

struct Services {
  Settings settings;
  const Clock* clock = nullptr;
  ConfigState* config = nullptr;
  ConnectionStatusTable* statuses = nullptr;
  store::AsyncStore* store = nullptr;
  const crypto::Keyring* keyring = nullptr;
  credentials::LoginSessions* login_sessions = nullptr;
  credentials::ConsentCodes* consent_codes = nullptr;
  credentials::TokenManager* tokens = nullptr;
  credentials::TokenClient* token_client = nullptr;
  identity::JwtValidator* validator = nullptr;
  http::HttpClient* http_client = nullptr;
  // Receives management changes and issued tokens; null records nothing (unit tests).
  AuditSink* audit = nullptr;
  // Records connection status changes for GET /events and the webhooks; null records nothing.
  events::EventLog* event_log = nullptr;
};

}  // namespace credgate::runtime
