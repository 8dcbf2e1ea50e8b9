// ClusterSync: keeps the in-memory configuration, connection statuses and tokens of one gateway
// up to date with the writes that the other gateways of a cluster make to the shared store.
//
// Each change notification (store/change_feed.h) names a record and its new version. ClusterSync
// reads that record from the store and applies it, unless memory already has that version, so
// its own writes and repeated notifications cost one version comparison. Because notifications
// can be lost, it also reconciles everything, comparing every stored version with memory, every
// Options::reconcile_interval and whenever the feed reports kResync.
//
// Every change is applied on one executor, one at a time, so the version maps need no lock.
// Store reads go through AsyncStore, so they do not block that executor.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/result.h"
#include "runtime/services.h"
#include "store/change_feed.h"
#include "store/store.h"

namespace credgate::management {

class ClusterSync {
 public:
  struct Options {
    std::chrono::milliseconds reconcile_interval{30'000};
  };

  struct Counters {
    uint64_t changes_applied = 0;   // Notifications that changed memory.
    uint64_t changes_skipped = 0;   // Notifications memory already had.
    uint64_t change_failures = 0;   // Notifications whose record could not be read or applied.
    uint64_t reconciliations = 0;   // Full comparisons with the store.
    uint64_t records_repaired = 0;  // Records that a reconciliation found out of date.
  };

  // `services` and `feed` must outlive the ClusterSync; `executor` runs every change.
  ClusterSync(runtime::Services& services, store::ChangeFeed& feed,
              boost::asio::any_io_executor executor, Options options);
  ~ClusterSync();
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;

  // Records the versions that the start-up load applied, from the blocking store, then starts
  // the feed and the reconciliation timer. Call after LoadFromStore and before serving.
  Status Start(store::Store& blocking_store);
  // Stops the feed and the timer. Changes already posted to the executor may still run.
  void Stop();

  Counters GetCounters() const;

 private:
  boost::asio::awaitable<void> Apply(store::StoreChange change);
  boost::asio::awaitable<void> ApplyResource(const std::string& kind, const std::string& key,
                                             int64_t version);
  boost::asio::awaitable<void> ApplyTokens(const std::string& store_key, int64_t version);
  void ApplyTreeDeletion(const std::string& key);
  boost::asio::awaitable<void> Reconcile();
  boost::asio::awaitable<void> ReconcileLoop();
  // Applies `record` to memory and records its version. Returns false when it failed.
  bool ApplyRecord(const store::ResourceRecord& record);

  runtime::Services& services_;
  store::ChangeFeed& feed_;
  boost::asio::any_io_executor executor_;
  const Options options_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<boost::asio::steady_timer> timer_;

  // Applied resource versions, keyed by "<kind> <key>". Used on executor_ only.
  std::map<std::string, int64_t> versions_;

  std::atomic<uint64_t> changes_applied_{0};
  std::atomic<uint64_t> changes_skipped_{0};
  std::atomic<uint64_t> change_failures_{0};
  std::atomic<uint64_t> reconciliations_{0};
  std::atomic<uint64_t> records_repaired_{0};
};

}  // namespace credgate::management
