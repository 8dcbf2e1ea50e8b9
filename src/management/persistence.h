// The glue between management resources, the store and the in-memory snapshot: how each
// resource is written to the store, how a snapshot is edited when one changes, and how the
// whole configuration is loaded at start.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "management/resources.h"
#include "management/routes.h"
#include "runtime/services.h"
#include "store/store.h"

namespace credgate::crypto {
class Keyring;
}
namespace credgate::identity {
class JwtValidator;
}

namespace credgate::management {

// Members of stored resource bodies that hold a sealed blob as base64 (crypto::SealedToBase64),
// bound to the record's key.
inline constexpr std::string_view kSealedSecretMember = "sealedClientSecret";
inline constexpr std::string_view kSealedParametersMember = "sealedParameters";

// Resolves the provider's catalogue entry and parameters into its ProviderConfig, and checks
// every resolved URL like a URL parameter. The caller validates the result with
// credentials::ValidateProviderConfig once the secret is known. Errors: kInvalidArgument.
Result<credentials::ProviderConfig> ToProviderConfig(const ProviderResource& resource,
                                                     const Secret& client_secret);

// Validates a provider's resolved settings as a PUT does. A client credentials provider may
// leave clientId and clientSecret to its connections, so without them only its URL and scopes
// are checked. Errors: kInvalidArgument naming the field.
Status ValidateProviderSettings(const credentials::ProviderConfig& config);

// Returns the settings a client credentials connection requests its tokens with: the
// provider's, with the connection's parameters (clientId, clientSecret) laid over them, and
// validated. Errors: kInvalidArgument naming the missing or invalid parameter, kFailedPrecondition
// when the provider's grant is not clientCredentials.
Result<credentials::ProviderConfig> ClientCredentialsConfig(const runtime::ProviderEntry& provider,
                                                            const ConnectionResource& connection);

// Returns the provider's store record, the client secret sealed under the keyring's active key
// (bound to the record key) in the member "sealedClientSecret".
Result<store::ResourceRecord> ProviderRecord(const std::string& key,
                                             const ProviderResource& resource,
                                             const Secret& client_secret,
                                             const crypto::Keyring& keyring);

// Returns the connection's store record. A client credentials connection's parameters are
// sealed (bound to the record key) in the member "sealedParameters".
Result<store::ResourceRecord> ConnectionRecord(const std::string& key, const std::string& parent,
                                               const ConnectionResource& resource,
                                               const crypto::Keyring& keyring);

void UpsertAccessPolicy(runtime::ConnectionEntry& connection,
                        const AccessPolicyResource& policy);
Status UpsertOperation(runtime::Snapshot& snapshot, const OperationResource& operation,
                       std::vector<runtime::TemplateSegment> segments);
// Sets the policy document that `path` names and recomposes the affected pipelines. Sets
// `status` to 200 when a policy was replaced.
Status SetPolicy(runtime::Snapshot& snapshot, const ResourcePath& path,
                 const PolicyResource& policy,
                 std::shared_ptr<const policy::CompiledDocument> document, int& status);
// Removes the resource `path` names and everything below it. Appends the keys of removed
// connections to `removed_connections`.
Status RemoveResource(runtime::Snapshot& snapshot, const ResourcePath& path,
                      std::vector<std::string>& removed_connections);

// Removes the resource `path` names, and everything below it, from memory: the snapshot, the
// tokens and statuses of removed connections, a removed provider's token settings, and the
// validator's trusted issuers. For a DELETE once the store write succeeded, and for a deletion
// that another gateway made.
Status ForgetResource(const ResourcePath& path, runtime::Services& services);

// Applies one stored resource record to memory, replacing the resource it names and keeping its
// children (a connection's access policies, an API's operations and policy). Used for the
// start-up load and for the writes of other gateways. The caller passes trusted issuers to the
// validator (ApplyTrustedIssuers) after a trustedIssuer record.
Status ApplyStoredRecord(const store::ResourceRecord& record, runtime::Services& services);

// Passes the snapshot's trusted issuers to the validator.
void ApplyTrustedIssuers(const runtime::Snapshot& snapshot, identity::JwtValidator& validator);

// Loads every stored resource into `services`, in dependency order (providers before their
// connections, APIs before operations and policies). LoadTokensFromStore (token_persistence.h)
// loads the tokens afterwards. A stored record that no longer
// validates is logged and skipped, so one bad row cannot keep the gateway from starting. The
// records are parsed on every core, a batch at a time, and applied in order on this thread.
Status LoadFromStore(store::Store& store, runtime::Services& services);

}  // namespace credgate::management
