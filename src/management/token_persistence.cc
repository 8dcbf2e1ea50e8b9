#include "management/token_persistence.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <optional>
#include <vector>

#include "common/parallel_for.h"
#include "crypto/keyring.h"
#include "management/connection_events.h"
#include "management/persistence.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

constexpr std::string_view kProvidersPrefix = "authorizationProviders/";
constexpr std::string_view kConnectionsInfix = "/authorizations/";

}  // namespace

std::string ConnectionKeyOfStoreKey(std::string_view store_key) {
  if (!store_key.starts_with(kProvidersPrefix)) return "";
  store_key.remove_prefix(kProvidersPrefix.size());
  size_t infix = store_key.find(kConnectionsInfix);
  if (infix == std::string_view::npos) return "";
  return std::string(store_key.substr(0, infix)) + "/" +
         std::string(store_key.substr(infix + kConnectionsInfix.size()));
}

namespace {

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

Result<store::TokenRecord> StoreTokenPersistence::SealTokens(
    const std::string& connection_key, const credentials::TokenSet& tokens) const {
  const std::string store_key = ConnectionStoreKey(connection_key);
  auto sealed = services_.keyring->Seal(credentials::SerializeTokenSet(tokens), store_key);
  if (!sealed.ok()) return sealed.error();
  store::TokenRecord record;
  record.connection_key = store_key;
  record.sealed_tokens = std::move(*sealed);
  record.expires_at = tokens.expires_at ? ToUnixSeconds(*tokens.expires_at) : 0;
  record.updated_at = ToUnixSeconds(services_.clock->Now());
  return record;
}

awaitable<Result<int64_t>> StoreTokenPersistence::SaveTokens(
    const std::string& connection_key, const credentials::TokenSet& tokens) {
  auto record = SealTokens(connection_key, tokens);
  if (!record.ok()) co_return record.error();
  // A named callable: g++ 12 destroys the captures of a lambda inside a co_await twice.
  auto put = [this, connection_key, record = std::move(*record)](store::Store& s) {
    return ConnectionExists(connection_key) ? s.PutTokens(record, std::nullopt)
                                            : Result<store::TokenRecord>(Deleted(connection_key));
  };
  auto written = co_await services_.store->Run(std::move(put));
  if (!written.ok() && written.error().reason == kConnectionDeleted) {
    spdlog::info("tokens discarded because the connection was deleted connection={}",
                 connection_key);
    co_return written.error();
  }
  if (!written.ok()) {
    spdlog::error("storing tokens failed connection={}: {}", connection_key,
                  written.error().message);
    co_return written.error();
  }
  const ConnectionState connected{true, "", ""};
  Status state = co_await SaveState(connection_key, connected);
  if (!state.ok()) co_return state.error();
  co_await RecordEvent(connection_key, events::EventType::kConnected, connected);
  co_return written->version;
}

awaitable<Result<credentials::RefreshClaim>> StoreTokenPersistence::ClaimRefresh(
    const std::string& connection_key, int64_t version) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             services_.clock->Now().time_since_epoch())
                             .count();
  auto acquire = [store_key = ConnectionStoreKey(connection_key), version,
                  holder = services_.settings.instance_id, now_ms,
                  ttl_ms = services_.settings.refresh_lease_ttl.count()](store::Store& s) {
    return s.AcquireRefreshLease(store_key, version, holder, now_ms, ttl_ms);
  };
  auto lease = co_await services_.store->Run(std::move(acquire));
  if (!lease.ok()) co_return lease.error();

  credentials::RefreshClaim claim;
  switch (lease->outcome) {
    case store::RefreshLease::Outcome::kAcquired:
      claim.outcome = credentials::RefreshClaim::Outcome::kClaimed;
      claim.unfinished_attempt = lease->unfinished_attempt;
      claim.unfinished_holder = lease->unfinished_holder;
      break;
    case store::RefreshLease::Outcome::kHeld:
      claim.outcome = credentials::RefreshClaim::Outcome::kBusy;
      claim.busy_until = TimePoint(std::chrono::milliseconds(lease->lease_expires_ms));
      break;
    case store::RefreshLease::Outcome::kSuperseded: {
      auto tokens = OpenTokenRecord(lease->record, *services_.keyring);
      if (!tokens.ok()) co_return tokens.error();
      claim.outcome = credentials::RefreshClaim::Outcome::kSuperseded;
      claim.stored = std::make_shared<const credentials::TokenSet>(std::move(*tokens));
      break;
    }
  }
  co_return claim;
}

awaitable<Result<int64_t>> StoreTokenPersistence::CommitRefresh(
    const std::string& connection_key, const credentials::TokenSet& tokens,
    int64_t expected_version) {
  auto record = SealTokens(connection_key, tokens);
  if (!record.ok()) co_return record.error();
  auto commit = [record = std::move(*record), expected_version](store::Store& s) {
    return s.CommitRefresh(record, expected_version);
  };
  auto written = co_await services_.store->Run(std::move(commit));
  if (!written.ok()) co_return written.error();
  // The status is written only when it changes. It is for administrators, and the tokens are
  // stored whatever that write returns.
  const ConnectionState current = services_.statuses->Get(connection_key);
  if (!current.connected || !current.error_code.empty()) {
    const ConnectionState connected{true, "", ""};
    Status state = co_await SaveState(connection_key, connected);
    if (!state.ok()) {
      spdlog::error("storing the Connected status failed connection={}: {}", connection_key,
                    state.error().message);
    }
    co_await RecordEvent(connection_key, events::EventType::kRecovered, connected);
  }
  co_return written->version;
}

awaitable<void> StoreTokenPersistence::ReleaseRefresh(const std::string& connection_key,
                                                      bool attempt_finished) {
  auto release = [store_key = ConnectionStoreKey(connection_key),
                  holder = services_.settings.instance_id, attempt_finished](store::Store& s) {
    return s.ReleaseRefreshLease(store_key, holder, attempt_finished);
  };
  auto released = co_await services_.store->Run(std::move(release));
  if (!released.ok()) {
    // The lease then runs out by itself after its TTL.
    spdlog::warn("releasing the refresh lease failed connection={}: {}", connection_key,
                 released.error().message);
  }
}

awaitable<Result<std::shared_ptr<const credentials::TokenSet>>> StoreTokenPersistence::LoadTokens(
    const std::string& connection_key) {
  auto get = [store_key = ConnectionStoreKey(connection_key)](store::Store& s) {
    return s.GetTokens(store_key);
  };
  auto record = co_await services_.store->Run(std::move(get));
  if (!record.ok()) co_return record.error();
  auto tokens = OpenTokenRecord(*record, *services_.keyring);
  if (!tokens.ok()) co_return tokens.error();
  co_return std::make_shared<const credentials::TokenSet>(std::move(*tokens));
}

awaitable<void> StoreTokenPersistence::MarkConnectionError(const std::string& connection_key,
                                                           credentials::ConnectionError error) {
  spdlog::warn("connection marked Error connection={} code={}: {}", connection_key, error.code,
               error.message);
  // Named values, not temporaries: g++ 12 destroys a braced temporary inside a co_await twice.
  const ConnectionState failed{false, error.code, error.message};
  // One event per change: a failure that repeats the current error code records none.
  const ConnectionState previous = services_.statuses->Get(connection_key);
  const bool changed = previous.connected || previous.error_code != error.code;
  Status saved = co_await SaveState(connection_key, failed);
  if (!saved.ok()) {
    spdlog::error("storing the Error status failed connection={}: {}", connection_key,
                  saved.error().message);
  }
  if (changed) {
    co_await RecordEvent(connection_key, EventTypeForError(error.code), failed);
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

Result<credentials::TokenSet> OpenTokenRecord(const store::TokenRecord& record,
                                              const crypto::Keyring& keyring) {
  auto opened = keyring.Open(record.sealed_tokens, record.connection_key);
  if (!opened.ok()) return opened.error();
  auto tokens = credentials::ParseTokenSet(opened->Expose());
  if (!tokens.ok()) return tokens.error();
  tokens->version = record.version;
  return tokens;
}

awaitable<void> StoreTokenPersistence::RecordEvent(const std::string& connection_key,
                                                  events::EventType type,
                                                  const ConnectionState& state) {
  if (!record_events_) co_return;
  co_await RecordConnectionEvent(services_, connection_key, type, state);
}

bool StoreTokenPersistence::ConnectionExists(const std::string& connection_key) const {
  return services_.config->Current()->connections.contains(connection_key);
}

OpenedTokenRecords OpenTokenRecords(const std::vector<store::TokenRecord>& records,
                                    const crypto::Keyring& keyring) {
  OpenedTokenRecords opened;
  opened.items.resize(records.size(), {"", MakeError(ErrorCode::kNotFound, "not opened")});
  // Unsealing (AES-256-GCM) and parsing each record is most of the load's time, so it runs on
  // every core; the request path has not started. The keyring is immutable.
  ParallelFor(records.size(), 1024, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const store::TokenRecord& record = records[i];
      OpenedTokenRecords::Item& item = opened.items[i];
      item.connection_key = ConnectionKeyOfStoreKey(record.connection_key);
      if (item.connection_key.empty()) continue;
      item.tokens = OpenTokenRecord(record, keyring);
    }
  });
  return opened;
}

Status ApplyTokenRecords(OpenedTokenRecords opened, runtime::Services& services) {
  auto snapshot = services.config->Current();
  size_t loaded = 0;
  for (OpenedTokenRecords::Item& item : opened.items) {
    const std::string& connection_key = item.connection_key;
    if (connection_key.empty() || !snapshot->connections.contains(connection_key)) continue;
    Result<credentials::TokenSet>& tokens = item.tokens;
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
    // Without a stored status the connection now reads as Connected through its tokens, which
    // is the common case and needs no further lookup.
    const std::optional<ConnectionState> stored_status =
        services.statuses->GetStored(connection_key);
    if (!stored_status && services.statuses->ReadsConnectedFromTokens()) {
      ++loaded;
      continue;
    }
    // A stored Error status (for example ReloginRequired) stays in force over the tokens, and
    // ReloginRequired also keeps the token manager from refreshing with the dead grant.
    const ConnectionState stored =
        stored_status ? *stored_status : services.statuses->Get(connection_key);
    const bool plain_connected =
        stored.connected && stored.error_code.empty() && stored.error_message.empty();
    if (stored.error_code == "Unauthenticated" || plain_connected) {
      // With the tokens in place, a table that reads Connected from them drops the stored
      // Connected status that the configuration load set.
      services.statuses->Set(connection_key, ConnectionState{true, "", ""});
    } else if (stored.error_code == credentials::kReloginRequired ||
               stored.error_code == credentials::kRefreshTokenRotationLost) {
      services.tokens->MarkReloginRequired(
          connection_key, credentials::ConnectionError{stored.error_code, stored.error_message});
    }
    ++loaded;
  }
  spdlog::info("connection tokens loaded count={}", loaded);
  return OkStatus();
}

Status LoadTokensFromStore(store::Store& store, runtime::Services& services) {
  auto records = store.ListAllTokens();
  if (!records.ok()) return records.error();
  OpenedTokenRecords opened = OpenTokenRecords(*records, *services.keyring);
  // Freed here, before the tokens are applied, so that the token sets can reuse the memory.
  records->clear();
  records->shrink_to_fit();
  return ApplyTokenRecords(std::move(opened), services);
}

}  // namespace credgate::management
