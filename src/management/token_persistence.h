// StoreTokenPersistence: writes connections' tokens and status changes to the store, sealed
// under the master keyring, and mirrors status changes into the in-memory status table. The
// token manager calls it after every refresh; the login callback after every sign-in.
//
// A write for a connection that is no longer in the configuration is dropped. The check runs on
// the store thread just before the write. The DELETE handler removes the connection's records
// once more after it has removed the connection from the configuration, so a refresh that
// finishes after the DELETE cannot store the tokens again.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "credentials/token_manager.h"
#include "events/connection_event.h"
#include "management/resources.h"
#include "runtime/services.h"
#include "store/store.h"

namespace credgate::crypto {
class Keyring;
}

namespace credgate::management {

// Returns the store key of a connection: "authorizationProviders/<p>/authorizations/<a>" for
// the connection key "<p>/<a>".
std::string ConnectionStoreKey(std::string_view connection_key);
// The inverse of ConnectionStoreKey; returns "" for a key of another shape.
std::string ConnectionKeyOfStoreKey(std::string_view store_key);

class StoreTokenPersistence final : public credentials::TokenPersistence {
 public:
  // With `record_events` false, status changes record no connection event (events/event_log.h),
  // so that an import of many connections neither floods the webhooks nor slows down.
  explicit StoreTokenPersistence(runtime::Services& services, bool record_events = true)
      : services_(services), record_events_(record_events) {}

  boost::asio::awaitable<Result<int64_t>> SaveTokens(const std::string& connection_key,
                                                     const credentials::TokenSet& tokens) override;
  boost::asio::awaitable<void> MarkConnectionError(const std::string& connection_key,
                                                   credentials::ConnectionError error) override;
  // The refresh lease of the store (Store::AcquireRefreshLease), held under
  // Settings::instance_id for Settings::refresh_lease_ttl.
  boost::asio::awaitable<Result<credentials::RefreshClaim>> ClaimRefresh(
      const std::string& connection_key, int64_t version) override;
  boost::asio::awaitable<Result<int64_t>> CommitRefresh(const std::string& connection_key,
                                                        const credentials::TokenSet& tokens,
                                                        int64_t expected_version) override;
  boost::asio::awaitable<void> ReleaseRefresh(const std::string& connection_key,
                                              bool attempt_finished) override;
  boost::asio::awaitable<Result<std::shared_ptr<const credentials::TokenSet>>> LoadTokens(
      const std::string& connection_key) override;

 private:
  Result<store::TokenRecord> SealTokens(const std::string& connection_key,
                                        const credentials::TokenSet& tokens) const;
  boost::asio::awaitable<Status> SaveState(const std::string& connection_key,
                                           const ConnectionState& state);
  bool ConnectionExists(const std::string& connection_key) const;

  // Records an event of `type` when record_events_ is set.
  boost::asio::awaitable<void> RecordEvent(const std::string& connection_key,
                                           events::EventType type, const ConnectionState& state);

  runtime::Services& services_;
  const bool record_events_;
};

// Opens a stored token record into a TokenSet carrying the record's version. Errors name the
// connection: the record cannot be decrypted (wrong master key) or parsed.
Result<credentials::TokenSet> OpenTokenRecord(const store::TokenRecord& record,
                                              const crypto::Keyring& keyring);

// Stored token records after OpenTokenRecords, before ApplyTokenRecords.
struct OpenedTokenRecords {
  struct Item {
    std::string connection_key;  // Empty for a record whose store key names no connection.
    Result<credentials::TokenSet> tokens;
  };
  std::vector<Item> items;
};

// Unseals (AES-256-GCM) and parses every record on every core. It needs only the keyring.
OpenedTokenRecords OpenTokenRecords(const std::vector<store::TokenRecord>& records,
                                    const crypto::Keyring& keyring);

// Puts opened records into the token manager. A record of a connection that the configuration
// lacks is skipped. A record that failed to open is logged and its connection marked
// TokensUnreadable, so that one corrupt row does not stop the start. A connection stored as
// ReloginRequired is not refreshed until a new sign-in.
Status ApplyTokenRecords(OpenedTokenRecords opened, runtime::Services& services);

// Loads every stored token record into the token manager: OpenTokenRecords, then
// ApplyTokenRecords. Call it after LoadFromStore.
Status LoadTokensFromStore(store::Store& store, runtime::Services& services);

}  // namespace credgate::management
