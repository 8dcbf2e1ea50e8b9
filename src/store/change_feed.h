// ChangeFeed: notifications of the writes that any process sharing the database makes, so that
// every gateway of a cluster can bring its in-memory copy up to date within a second.
//
// A store that several processes share sends one notification per committed write, in the
// same transaction as the write, so a notification is never delivered for a write that was
// rolled back. Notifications can still be lost (a dropped listener connection), so a feed also
// delivers kResync after it reconnects, and the receiver reconciles its whole copy then.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"

namespace credgate::store {

struct StoreChange {
  enum class Type {
    kResourcePut,    // Put of the resource (kind, key), now at `version`.
    kTreeDeleted,    // DeleteTree(key): the resource, its descendants and their tokens.
    kTokensPut,      // PutTokens or CommitRefresh of the connection `key`, now at `version`.
    kTokensDeleted,  // DeleteTokens(key).
    kResync,         // Changes may have been missed: reconcile everything.
  };
  Type type = Type::kResync;
  std::string kind;     // kResourcePut only.
  std::string key;      // Empty for kResync.
  int64_t version = 0;  // kResourcePut and kTokensPut.
};

// Encodes a change as a notification payload, and parses one. Parse fails with
// kInvalidArgument for a payload that Encode did not produce.
std::string EncodeStoreChange(const StoreChange& change);
Result<StoreChange> ParseStoreChange(std::string_view payload);

class ChangeFeed {
 public:
  using Callback = std::function<void(StoreChange)>;

  virtual ~ChangeFeed() = default;

  // Starts listening and calls `callback` for each change, on a thread of the feed's own, one
  // call at a time and in the order the database delivered them. Changes made by this process
  // are delivered too. The callback must not block for long. Fails when the first connection
  // cannot be made; later connection failures are retried with backoff and followed by kResync.
  virtual Status Start(Callback callback) = 0;
  // Stops listening and joins the thread; no callback runs after it returns.
  virtual void Stop() = 0;
};

}  // namespace credgate::store
