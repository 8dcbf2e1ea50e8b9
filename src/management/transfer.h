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
// caller (transfer_handlers.h) reads and writes. An import is all-or-nothing: the caller commits
// BuildImportBatch's writes in one transaction (Store::ApplyBatch) and changes memory only after
// the commit.
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
#include "management/resources.h"
#include "management/routes.h"
#include "runtime/state.h"
#include "store/store.h"

namespace credgate::crypto {
class Keyring;
}

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

// One resource of a validated document, ready for BuildImportBatch.
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

// The store writes of a validated import, and what memory takes once they have committed.
struct ImportBatch {
  struct Tokens {
    std::string connection_key;  // "<provider>/<connection>".
    credentials::TokenSet tokens;
    ConnectionState state;  // Connected, or the exported Error status.
  };
  // The resources in document order followed by each imported connection's status record, and
  // the token records, sealed under the keyring's active key.
  store::WriteBatch writes;
  std::vector<Tokens> token_sets;  // Parallel to writes.tokens.
  // The keys of client credentials connections, which request a token once the batch is applied.
  std::vector<std::string> client_credentials;
};

// Builds every store write of `items` as their PUTs and sign-ins would store them: resource
// records (secrets sealed under `keyring`'s active key, a missing client secret taken from
// `current` as a PUT does), token records and status records. Writes nothing. Errors: those of
// parsing (the message starts with the resource path) and of sealing.
Result<ImportBatch> BuildImportBatch(const std::vector<ImportItem>& items,
                                     const runtime::Snapshot& current,
                                     const crypto::Keyring& keyring, TimePoint now);

}  // namespace credgate::management
