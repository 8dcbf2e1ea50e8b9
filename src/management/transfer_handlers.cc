#include "management/transfer_handlers.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "credentials/token_manager.h"
#include "crypto/export_seal.h"
#include "crypto/keyring.h"
#include "management/handlers.h"
#include "management/resources.h"
#include "management/token_persistence.h"
#include "management/transfer.h"
#include "store/async_store.h"

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

// Stores imported tokens as a sign-in does, and gives them to the token manager.
awaitable<Status> ImportTokens(runtime::Services& services, const ImportItem& item) {
  const std::string key = runtime::ConnectionKey(item.path.first, item.path.second);
  StoreTokenPersistence persistence(services, /*record_events=*/false);
  credentials::TokenSet tokens = *item.tokens;
  Result<int64_t> saved = co_await persistence.SaveTokens(key, tokens);
  if (!saved.ok()) co_return saved.error();
  tokens.version = *saved;
  services.tokens->SetTokens(key, std::move(tokens));
  if (item.error_status) {
    credentials::ConnectionError error = *item.error_status;
    co_await persistence.MarkConnectionError(key, std::move(error));
  }
  co_return OkStatus();
}

bool IsClientCredentials(const runtime::Services& services, const ResourcePath& path) {
  auto snapshot = services.config->Current();
  auto it = snapshot->connections.find(runtime::ConnectionKey(path.first, path.second));
  return it != snapshot->connections.end() &&
         it->second->resource.grant_type == GrantType::kClientCredentials;
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

  // NOTE: validation reads one snapshot. A management change that lands between validation and
  // the writes below can still make a write fail, and the earlier writes then stay.
  auto items = ValidateImportDocument(*document, *key, *services.config->Current(), mode);
  if (!items.ok()) co_return items.error();

  Handlers handlers(services);
  int64_t created = 0;
  int64_t replaced = 0;
  int64_t token_sets = 0;
  for (const ImportItem& item : *items) {
    const std::string item_body(item.body.Expose());
    int put_status = 200;
    auto put = co_await handlers.Put(item.path, item_body, put_status);
    auto applied_error = [&](const Error& error) {
      return MakeError(error.code,
                       item.path_text + ": " + error.message + " (" +
                           std::to_string(created + replaced) +
                           " resources were imported before this one and stay)",
                       error.reason);
    };
    if (!put.ok()) co_return applied_error(put.error());
    (item.replaces ? replaced : created) += 1;
    if (item.tokens && !IsClientCredentials(services, item.path)) {
      Status stored = co_await ImportTokens(services, item);
      if (!stored.ok()) co_return applied_error(stored.error());
      ++token_sets;
    }
  }
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
