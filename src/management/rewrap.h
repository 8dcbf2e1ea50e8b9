// Master key rotation: rewrapping the data key of every sealed record (token records, provider
// client secrets, connection parameters) under the keyring's active key. Only the wrapped data
// key changes (crypto::Rewrap); payloads stay as they are.
//
// Each record is read, rewrapped and written back with one compare-and-swap on its version
// (Store::ReplaceSealedTokens, Store::ReplaceResourceBody), so a rewrap can run while credgate
// serves and can be stopped at any point. A record that another writer changed meanwhile is
// left to that writer, which sealed it under its own active key, and counted. Running a rewrap
// again only counts records already under the active key, so it is idempotent.
//
// After a rewrap that reports no failures, the older master keys are no longer needed by any
// stored record and can be removed from the key file at the next start.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "crypto/keyring.h"
#include "store/async_store.h"
#include "store/store.h"

namespace credgate::management {

struct RewrapCounts {
  int64_t rewrapped = 0;             // Sealed values now wrapped under the active key.
  int64_t already_current = 0;       // Sealed values that already were.
  int64_t changed_concurrently = 0;  // Records another writer replaced during the rewrap.
  int64_t failed = 0;                // Sealed values that could not be opened; see the log.
};

enum class RewrapOutcome { kRewrapped, kAlreadyCurrent, kChangedConcurrently };

// Rewraps the token record of `connection_key`. A record deleted meanwhile counts as changed.
Result<RewrapOutcome> RewrapTokenRecord(store::Store& store, const crypto::Keyring& keyring,
                                        std::string_view connection_key);

// Rewraps every sealed member of the resource (kind, key). Returns kAlreadyCurrent when the
// resource contains no sealed member.
Result<RewrapOutcome> RewrapResourceRecord(store::Store& store, const crypto::Keyring& keyring,
                                           std::string_view kind, std::string_view key);

// Rewraps every record, one store call per record. A record whose value cannot be opened (its
// master key is not in the keyring, or the value is corrupt) is logged by key, counted as
// failed, and skipped. Fails only when the store cannot list the records or a write fails.
Result<RewrapCounts> RewrapAll(store::Store& store, const crypto::Keyring& keyring);

// RewrapAll through the store thread, one store call per record, so that other store calls
// interleave with the rewrap and the gateway keeps serving.
boost::asio::awaitable<Result<RewrapCounts>> RewrapAllAsync(store::AsyncStore& store,
                                                            const crypto::Keyring& keyring);

}  // namespace credgate::management
