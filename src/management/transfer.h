// Moving and backing up: the export document, which carries every resource of one credgate
// instance, with its secrets and the tokens of its connections, to another instance.
//
// The document is JSON:
//
//   {"formatVersion": 1,
//    "createdAt": "2026-12-04T22:50:00Z",
//    "resources": [
//      {"path": "/authorizationProviders/github",
//       "body": {... the PUT body, without secrets ...},
//       "sealed": {"properties.oauth2.grantTypes.authorizationCode.clientSecret": "<base64>"}},
//      {"path": "/authorizationProviders/github/authorizations/alice",
//       "body": {... "properties": {"status": "Connected", ...}},
//       "sealed": {"tokens": "<base64>"}},
//      ...]}
//
// Resources are listed parents first: trusted issuers, providers, connections, access policies,
// APIs, operations, backends, policy fragments, then policy documents. Each member of "sealed" is a secret sealed under the
// export key for its resource path and member name (crypto/export_seal.h). The member "tokens"
// is the connection's token set (access token, refresh token, expiry, scope) as the store keeps
// it. The member "properties.credentials" of a backend is its credentials object as JSON text.
// Any other member is the dotted path of the body field that the opened value goes into.
//
// Nothing here touches the store or the running configuration: the functions are pure and the
// caller (transfer_handlers.h) reads and writes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "credentials/model.h"
#include "management/routes.h"
#include "runtime/state.h"

namespace credgate::management {

inline constexpr int64_t kExportFormatVersion = 1;

// The treatment of a resource that the importing instance already has.
enum class ImportMode {
  kCreateOnly,  // The import fails, naming the resource, and nothing is written.
  kReplace,     // The document's version replaces it. Resources absent from the document stay.
};

// Parses "create-only" or "replace". Errors: kInvalidArgument.
Result<ImportMode> ParseImportMode(std::string_view text);

// Returns the export document of `snapshot`. `tokens` contains the opened token set of each
// connection that has one, by connection key ("<provider>/<connection>"); `statuses` gives each
// connection's status. Fails only when sealing fails (kInternal).
Result<boost::json::object> BuildExportDocument(
    const runtime::Snapshot& snapshot, const std::map<std::string, credentials::TokenSet>& tokens,
    const runtime::ConnectionStatusTable& statuses, const Secret& export_key, TimePoint now,
    RandomSource& random);

// One resource of a validated document, ready for Handlers::Put.
struct ImportItem {
  ResourcePath path;
  std::string path_text;  // "/" + StoreKey(path).
  Secret body;            // The PUT body as JSON, with its secrets opened.
  std::optional<credentials::TokenSet> tokens;
  // The exported status of a connection that was not Connected.
  std::optional<credentials::ConnectionError> error_status;
  bool replaces = false;  // The importing instance has this resource already.
};

// Validates the whole document against `current`, the importing instance's configuration, and
// returns its resources in the order to apply them. It checks the format version and that every
// sealed value opens. Every body must pass the validation of its PUT (parsing, provider
// settings, URL templates, policy compilation), and every parent must be in the document or in
// `current`. In create-only mode no resource may exist yet. Errors are kInvalidArgument
// (kAlreadyExists for an existing resource in create-only mode) with a message that starts with
// the resource path and names the field.
Result<std::vector<ImportItem>> ValidateImportDocument(const boost::json::value& document,
                                                       const Secret& export_key,
                                                       const runtime::Snapshot& current,
                                                       ImportMode mode);

}  // namespace credgate::management
