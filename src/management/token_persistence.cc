#include "management/token_persistence.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "crypto/keyring.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

constexpr std::string_view kProvidersPrefix = "authorizationProviders/";
constexpr std::string_view kConnectionsInfix = "/authorizations/";

// Inverse of ConnectionStoreKey; returns "" for a key of another shape.
std::string ConnectionKeyOfStoreKey(std::string_view store_key) {
  if (!store_key.starts_with(kProvidersPrefix)) return "";
  store_key.remove_prefix(kProvidersPrefix.size());
  size_t infix = store_key.find(kConnectionsInfix);
  if (infix == std::string_view::npos) return "";
  return std::string(store_key.substr(0, infix)) + "/" +
         std::string(store_key.substr(infix + kConnectionsInfix.size()));
}

constexpr std::string_view kConnectionDeleted = "ConnectionDeleted";

Error Deleted(const std::string& connection_key) {
  return MakeError(ErrorCode::kNotFound,
                   "connection " + connection_key + " was deleted, so nothing was stored",
                   std::string(kConnectionDeleted));
}

}  // namespace

std::string ConnectionStoreKey(std::string_view connection_key) {
  size_t slash = connection_key.find('/');
  return std::string(kProvidersPrefix) + std::string(connection_key.substr(0, slash)) +
         std::string(kConnectionsInfix) + std::string(connection_key.substr(slash + 1));
}

awaitable<Status> StoreTokenPersistence::SaveTokens(const std::string& connection_key,
                                                    const credentials::TokenSet& tokens) {
  const std::string store_key = ConnectionStoreKey(connection_key);
  auto sealed = services_.keyring->Seal(credentials::SerializeTokenSet(tokens), store_key);
  if (!sealed.ok()) co_return sealed.error();
  store::TokenRecord record;
  record.connection_key = store_key;
  record.sealed_tokens = std::move(*sealed);
  record.expires_at = tokens.expires_at ? ToUnixSeconds(*tokens.expires_at) : 0;
  record.updated_at = ToUnixSeconds(services_.clock->Now());
  // A named callable: g++ 12 destroys the captures of a lambda inside a co_await twice.
  auto put = [this, connection_key, record = std::move(record)](store::Store& s) {
    return ConnectionExists(connection_key) ? s.PutTokens(record, std::nullopt)
                                            : Result<store::TokenRecord>(Deleted(connection_key));
  };
  auto written = co_await services_.store->Run(std::move(put));
  if (!written.ok() && written.error().reason == kConnectionDeleted) {
    spdlog::info("tokens discarded because the connection was deleted connection={}",
                 connection_key);
    co_return OkStatus();
  }
  if (!written.ok()) {
    spdlog::error("storing tokens failed connection={}: {}", connection_key,
                  written.error().message);
    co_return written.error();
  }
  const ConnectionState connected{true, "", ""};
  co_return co_await SaveState(connection_key, connected);
}

awaitable<void> StoreTokenPersistence::MarkConnectionError(const std::string& connection_key,
                                                           credentials::ConnectionError error) {
  spdlog::warn("connection marked Error connection={} code={}: {}", connection_key, error.code,
               error.message);
  // Named values, not temporaries: g++ 12 destroys a braced temporary inside a co_await twice.
  const ConnectionState failed{false, error.code, error.message};
  Status saved = co_await SaveState(connection_key, failed);
  if (!saved.ok()) {
    spdlog::error("storing the Error status failed connection={}: {}", connection_key,
                  saved.error().message);
  }
}

awaitable<Status> StoreTokenPersistence::SaveState(const std::string& connection_key,
                                                   const ConnectionState& state) {
  json::object body;
  body["connected"] = state.connected;
  body["code"] = state.error_code;
  body["message"] = state.error_message;
  const std::string store_key = ConnectionStoreKey(connection_key);
  store::ResourceRecord record{"connectionState", store_key + "/state", store_key,
                               json::serialize(body), 0, ToUnixSeconds(services_.clock->Now())};
  // The in-memory status changes first: it is what the gateway reports, and a failed store write
  // is logged by the caller.
  services_.statuses->Set(connection_key, state);
  auto put = [this, connection_key, record = std::move(record)](store::Store& s) {
    return ConnectionExists(connection_key) ? s.Put(record)
                                            : Result<store::ResourceRecord>(Deleted(connection_key));
  };
  auto written = co_await services_.store->Run(std::move(put));
  if (!written.ok() && written.error().reason == kConnectionDeleted) co_return OkStatus();
  if (!written.ok()) co_return written.error();
  co_return OkStatus();
}

bool StoreTokenPersistence::ConnectionExists(const std::string& connection_key) const {
  return services_.config->Current()->connections.contains(connection_key);
}

Status LoadTokensFromStore(store::Store& store, runtime::Services& services) {
  auto records = store.ListAllTokens();
  if (!records.ok()) return records.error();
  auto snapshot = services.config->Current();
  size_t loaded = 0;
  for (const auto& record : *records) {
    std::string connection_key = ConnectionKeyOfStoreKey(record.connection_key);
    if (connection_key.empty() || !snapshot->connections.contains(connection_key)) continue;
    auto opened = services.keyring->Open(record.sealed_tokens, record.connection_key);
    Result<credentials::TokenSet> tokens =
        opened.ok() ? credentials::ParseTokenSet(opened->Expose())
                    : Result<credentials::TokenSet>(opened.error());
    if (!tokens.ok()) {
      spdlog::error("stored tokens cannot be read connection={}: {}", connection_key,
                    tokens.error().message);
      services.statuses->Set(connection_key,
                             ConnectionState{false, "TokensUnreadable",
                                             "the stored tokens cannot be decrypted or parsed: " +
                                                 tokens.error().message +
                                                 "; sign in again through a login link"});
      continue;
    }
    services.tokens->SetTokens(connection_key, std::move(*tokens));
    // A stored Error status (for example ReloginRequired) stays in force over the tokens, and
    // ReloginRequired also keeps the token manager from refreshing with the dead grant.
    const ConnectionState stored = services.statuses->Get(connection_key);
    if (stored.error_code == "Unauthenticated") {
      services.statuses->Set(connection_key, ConnectionState{true, "", ""});
    } else if (stored.error_code == credentials::kReloginRequired) {
      services.tokens->MarkReloginRequired(
          connection_key, credentials::ConnectionError{stored.error_code, stored.error_message});
    }
    ++loaded;
  }
  spdlog::info("connection tokens loaded count={}", loaded);
  return OkStatus();
}

}  // namespace credgate::management
