#include "management/transfer_handlers.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "credentials/token_manager.h"
#include "crypto/export_seal.h"
#include "crypto/keyring.h"
#include "management/handlers.h"
#include "management/persistence.h"
#include "management/resources.h"
#include "management/token_persistence.h"
#include "management/transfer.h"
#include "store/async_store.h"
#include "store/resource_keys.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

std::string_view Trimmed(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return path;
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

Result<Secret> ExportKeyOf(const json::object& body) {
  const json::value* key = body.if_contains("exportKey");
  if (key == nullptr || !key->is_string()) {
    return Invalid(
        "missing 'exportKey': send the base64 key that 'credgate export-key create' "
        "prints");
  }
  auto parsed = crypto::ParseExportKey(key->get_string());
  if (!parsed.ok()) return Invalid("'exportKey': " + parsed.error().message);
  return parsed;
}

// Opens the stored token set of every connection of `snapshot`. A record that does not open is
// logged and left out, so that one corrupt record does not stop every backup.
awaitable<Result<std::map<std::string, credentials::TokenSet>>> OpenAllTokens(
    runtime::Services& services, const runtime::Snapshot& snapshot) {
  auto list = [](store::Store& s) { return s.ListAllTokens(); };
  auto records = co_await services.store->Run(std::move(list));
  if (!records.ok()) co_return records.error();
  std::map<std::string, credentials::TokenSet> tokens;
  for (const auto& record : *records) {
    const std::string key = ConnectionKeyOfStoreKey(record.connection_key);
    if (!snapshot.connections.contains(key)) continue;
    auto opened = OpenTokenRecord(record, *services.keyring);
    if (!opened.ok()) {
      spdlog::error("export leaves out the tokens of connection={}: {}", key,
                    opened.error().message);
      continue;
    }
    tokens.emplace(key, std::move(*opened));
  }
  co_return tokens;
}

awaitable<Result<json::value>> Export(runtime::Services& services, const std::string& body) {
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) co_return parsed.error();
  auto key = ExportKeyOf(*parsed);
  if (!key.ok()) co_return key.error();
  auto snapshot = services.config->Current();
  auto tokens = co_await OpenAllTokens(services, *snapshot);
  if (!tokens.ok()) co_return tokens.error();
  OpenSslRandom random;
  auto document = BuildExportDocument(*snapshot, *tokens, *services.statuses, *key,
                                      services.clock->Now(), random);
  if (!document.ok()) co_return document.error();
  spdlog::info("configuration exported resources={} token_sets={}",
               document->at("resources").as_array().size(), tokens->size());
  co_return json::value(std::move(*document));
}

// Applies committed import writes to memory in their order, as cluster sync applies the writes
// of another gateway, and gives the imported tokens to the token manager. A record that does not
// apply is logged and skipped: it is stored, so the next start loads it.
void ApplyImported(runtime::Services& services, const store::WriteBatch& stored,
                   const ImportBatch& batch, Handlers& handlers) {
  bool issuers = false;
  for (const store::ResourceRecord& record : stored.resources) {
    // Status records take effect with their tokens below.
    if (record.kind == "connectionState") continue;
    Status applied = ApplyStoredRecord(record, services);
    if (!applied.ok()) {
      spdlog::error("imported resource stored but not applied key={}: {}", record.key,
                    applied.error().message);
      continue;
    }
    issuers |= record.kind == "trustedIssuer";
    if (record.kind == "provider") {
      auto snapshot = services.config->Current();
      auto path = ParseResourcePath(record.key);
      if (!path.ok()) continue;
      auto provider = snapshot->providers.find(path->first);
      if (provider != snapshot->providers.end()) {
        handlers.UpdateClientCredentialsConnections(*snapshot, *provider->second);
      }
    }
  }
  if (issuers) ApplyTrustedIssuers(*services.config->Current(), *services.validator);

  for (size_t i = 0; i < stored.tokens.size() && i < batch.token_sets.size(); ++i) {
    const ImportBatch::Tokens& imported = batch.token_sets[i];
    credentials::TokenSet tokens = imported.tokens;
    tokens.version = stored.tokens[i].version;
    services.tokens->SetTokens(imported.connection_key, std::move(tokens));
    services.statuses->Set(imported.connection_key, imported.state);
    // As at start-up, an exported need for a new sign-in keeps the manager from refreshing.
    const std::string& code = imported.state.error_code;
    if (code == credentials::kReloginRequired || code == credentials::kRefreshTokenRotationLost) {
      services.tokens->MarkReloginRequired(
          imported.connection_key,
          credentials::ConnectionError{std::string(code), imported.state.error_message});
    }
  }
}

// Requests the first token of each imported client credentials connection, as its PUT does.
awaitable<void> RequestClientCredentialsTokens(runtime::Services& services,
                                               const std::vector<std::string>& connections,
                                               Handlers& handlers) {
  for (const std::string& key : connections) {
    auto snapshot = services.config->Current();
    auto connection = snapshot->connections.find(key);
    if (connection == snapshot->connections.end()) continue;
    const ConnectionResource resource = connection->second->Resource(key);
    auto provider = snapshot->providers.find(resource.provider_id);
    if (provider == snapshot->providers.end()) continue;
    auto config = ClientCredentialsConfig(*provider->second, resource);
    if (!config.ok()) {
      spdlog::error("imported client credentials connection has invalid settings connection={}: {}",
                    key, config.error().message);
      continue;
    }
    co_await handlers.RequestClientCredentialsToken(key, std::move(*config));
  }
}

// Returns the document path of the item whose write failed, or "" when `store_message` names no
// item. Store errors quote the key of the record they failed on: the item's own key for its
// resource and tokens, and "<key>/state" for a connection's status.
std::string FailedItemPath(const std::vector<ImportItem>& items, std::string_view store_message) {
  for (const ImportItem& item : items) {
    const std::string key = StoreKey(item.path);
    if (store_message.find(store::Quoted(key)) != std::string_view::npos ||
        store_message.find(store::Quoted(key + "/state")) != std::string_view::npos) {
      return item.path_text;
    }
  }
  return "";
}

awaitable<Result<json::value>> Import(runtime::Services& services, const std::string& body) {
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) co_return parsed.error();
  auto key = ExportKeyOf(*parsed);
  if (!key.ok()) co_return key.error();
  ImportMode mode = ImportMode::kCreateOnly;
  if (const json::value* m = parsed->if_contains("mode"); m != nullptr) {
    if (!m->is_string()) co_return Invalid("'mode' must be 'create-only' or 'replace'");
    auto parsed_mode = ParseImportMode(m->get_string());
    if (!parsed_mode.ok()) co_return parsed_mode.error();
    mode = *parsed_mode;
  }
  const json::value* document = parsed->if_contains("document");
  if (document == nullptr) co_return Invalid("missing 'document': send the export document");

  auto snapshot = services.config->Current();
  auto items = ValidateImportDocument(*document, *key, *snapshot, mode);
  if (!items.ok()) co_return items.error();
  auto batch = BuildImportBatch(*items, *snapshot, *services.keyring, services.clock->Now());
  if (!batch.ok()) co_return batch.error();

  // NOTE: validation reads one snapshot. A management change that lands between validation and
  // the commit is not detected: the import's records replace a changed resource, and store again
  // one that was deleted meanwhile.
  auto apply = [writes = batch->writes](store::Store& s) { return s.ApplyBatch(writes); };
  auto stored = co_await services.store->Run(std::move(apply));
  if (!stored.ok()) {
    const std::string item = FailedItemPath(*items, stored.error().message);
    co_return MakeError(stored.error().code,
                        (item.empty() ? "" : item + ": ") +
                            "the import stored nothing, because the store rejected it: " +
                            stored.error().message + "; fix the cause and run the import again",
                        stored.error().reason);
  }

  Handlers handlers(services);
  ApplyImported(services, *stored, *batch, handlers);
  co_await RequestClientCredentialsTokens(services, batch->client_credentials, handlers);
  int64_t created = 0;
  int64_t replaced = 0;
  for (const ImportItem& item : *items) (item.replaces ? replaced : created) += 1;
  const int64_t token_sets = static_cast<int64_t>(stored->tokens.size());
  spdlog::info("configuration imported created={} replaced={} token_sets={}", created, replaced,
               token_sets);
  json::object out;
  out["created"] = created;
  out["replaced"] = replaced;
  out["tokens"] = token_sets;
  co_return json::value(std::move(out));
}

}  // namespace

bool IsTransferPath(std::string_view path) {
  std::string_view trimmed = Trimmed(path);
  return trimmed == "export" || trimmed == "import";
}

bool IsExportPath(std::string_view path) { return Trimmed(path) == "export"; }

awaitable<Result<json::value>> HandleTransferCall(runtime::Services& services,
                                                  const std::string& method, std::string_view path,
                                                  const std::string& body, int& status) {
  status = 200;
  if (method != "POST") {
    co_return MakeError(ErrorCode::kMethodNotAllowed,
                        "method " + method + " is not supported on this resource: use POST",
                        "MethodNotAllowed");
  }
  if (IsExportPath(path)) co_return co_await Export(services, body);
  co_return co_await Import(services, body);
}

}  // namespace credgate::management
