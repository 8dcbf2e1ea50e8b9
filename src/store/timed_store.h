// TimedStore: a Store that forwards every call to another Store and records how long each call
// took, by operation (the Store method), for the credgate_store_operation_duration_seconds
// histogram. AsyncStore puts one in front of the store it owns, so the times are those of the
// store thread's calls, without the wait in its queue.
//
// Thread-safe as the wrapped store is. StoreLatency::Write() may run on any thread while calls
// are recorded.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "metrics/exposition.h"
#include "store/store.h"

namespace credgate::store {

enum class StoreOperation {
  kPut,
  kGet,
  kList,
  kListAll,
  kDeleteTree,
  kGetTokens,
  kPutTokens,
  kDeleteTokens,
  kListAllTokens,
  kReplaceSealedTokens,
  kReplaceResourceBody,
  kAcquireRefreshLease,
  kCommitRefresh,
  kReleaseRefreshLease,
  kApplyBatch,
  kPutAdminKey,
  kFindAdminKeyByHash,
  kListAdminKeys,
  kDeleteAdminKey,
  kAppendEvent,
  kListEvents,
  kClaimWebhookDeliveries,
  kFinishWebhookDelivery,
  kRescheduleWebhookDelivery,
};
inline constexpr size_t kStoreOperationCount =
    static_cast<size_t>(StoreOperation::kRescheduleWebhookDelivery) + 1;

// Returns the Store method's name, for example "PutTokens".
std::string_view StoreOperationName(StoreOperation operation);

class StoreLatency {
 public:
  // Upper bounds of the duration buckets, in seconds.
  static constexpr std::array<double, 13> kBoundsSeconds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};

  void Record(StoreOperation operation, std::chrono::nanoseconds duration);

  // Writes credgate_store_operation_duration_seconds{operation} for every operation called at
  // least once.
  void Write(metrics::Exposition& out) const;

 private:
  struct Series {
    std::array<std::atomic<uint64_t>, kBoundsSeconds.size() + 1> buckets{};
    std::atomic<uint64_t> sum_nanoseconds{0};
  };
  std::array<Series, kStoreOperationCount> series_;
};

class TimedStore final : public Store {
 public:
  // `latency` must outlive the store.
  TimedStore(std::unique_ptr<Store> inner, StoreLatency& latency)
      : inner_(std::move(inner)), latency_(latency) {}

  Result<ResourceRecord> Put(const ResourceRecord& record) override;
  Result<ResourceRecord> Get(std::string_view kind, std::string_view key) override;
  Result<std::vector<ResourceRecord>> List(std::string_view kind,
                                           std::string_view parent_key) override;
  Result<std::vector<ResourceRecord>> ListAll() override;
  Result<int64_t> DeleteTree(std::string_view key) override;
  Result<TokenRecord> GetTokens(std::string_view connection_key) override;
  Result<TokenRecord> PutTokens(const TokenRecord& record,
                                std::optional<int64_t> expected_version) override;
  Result<bool> DeleteTokens(std::string_view connection_key) override;
  Result<std::vector<TokenRecord>> ListAllTokens() override;
  Result<bool> ReplaceSealedTokens(std::string_view connection_key, int64_t expected_version,
                                   std::string_view sealed_tokens) override;
  Result<bool> ReplaceResourceBody(std::string_view kind, std::string_view key,
                                   int64_t expected_version, std::string_view body_json) override;
  Result<RefreshLease> AcquireRefreshLease(std::string_view connection_key, int64_t held_version,
                                           std::string_view holder, int64_t now_ms,
                                           int64_t ttl_ms) override;
  Result<TokenRecord> CommitRefresh(const TokenRecord& record, int64_t expected_version) override;
  Result<bool> ReleaseRefreshLease(std::string_view connection_key, std::string_view holder,
                                   bool attempt_finished) override;
  Result<WriteBatch> ApplyBatch(const WriteBatch& batch) override;
  Status PutAdminKey(const AdminKeyRecord& record) override;
  Result<AdminKeyRecord> FindAdminKeyByHash(std::string_view key_hash) override;
  Result<std::vector<AdminKeyRecord>> ListAdminKeys() override;
  Result<bool> DeleteAdminKey(std::string_view id) override;
  Result<EventRecord> AppendEvent(std::string_view body_json, int64_t created_at, int64_t retain,
                                  std::span<const std::string> webhooks) override;
  Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int64_t limit) override;
  Result<std::vector<WebhookDelivery>> ClaimWebhookDeliveries(std::string_view webhook,
                                                              std::string_view holder,
                                                              int64_t now_ms, int64_t lease_ms,
                                                              int64_t limit) override;
  Result<bool> FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                     std::string_view holder) override;
  Result<bool> RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                         std::string_view holder, int64_t attempts,
                                         int64_t next_attempt_ms) override;

 private:
  // Calls `call` and records its duration under `operation`.
  template <class Call>
  auto Timed(StoreOperation operation, Call call) {
    const auto start = std::chrono::steady_clock::now();
    auto result = call();
    latency_.Record(operation, std::chrono::steady_clock::now() - start);
    return result;
  }

  std::unique_ptr<Store> inner_;
  StoreLatency& latency_;
};

}  // namespace credgate::store
