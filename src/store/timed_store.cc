#include "store/timed_store.h"

#include <algorithm>

namespace credgate::store {

namespace {

constexpr std::string_view kOperationNames[] = {
    "Put",
    "Get",
    "List",
    "ListAll",
    "DeleteTree",
    "GetTokens",
    "PutTokens",
    "DeleteTokens",
    "ListAllTokens",
    "ReplaceSealedTokens",
    "ReplaceResourceBody",
    "AcquireRefreshLease",
    "CommitRefresh",
    "ReleaseRefreshLease",
    "ApplyBatch",
    "PutAdminKey",
    "FindAdminKeyByHash",
    "ListAdminKeys",
    "DeleteAdminKey",
    "AppendEvent",
    "ListEvents",
    "ClaimWebhookDeliveries",
    "FinishWebhookDelivery",
    "RescheduleWebhookDelivery",
};
static_assert(std::size(kOperationNames) == kStoreOperationCount);

}  // namespace

std::string_view StoreOperationName(StoreOperation operation) {
  return kOperationNames[static_cast<size_t>(operation)];
}

void StoreLatency::Record(StoreOperation operation, std::chrono::nanoseconds duration) {
  Series& series = series_[static_cast<size_t>(operation)];
  const double seconds = std::chrono::duration<double>(duration).count();
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds) -
                          kBoundsSeconds.begin());
  series.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  series.sum_nanoseconds.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, duration.count())),
                                   std::memory_order_relaxed);
}

void StoreLatency::Write(metrics::Exposition& out) const {
  for (size_t i = 0; i < kStoreOperationCount; ++i) {
    const Series& series = series_[i];
    metrics::HistogramValues values;
    values.bounds = kBoundsSeconds;
    uint64_t total = 0;
    for (const auto& bucket : series.buckets) {
      values.counts.push_back(bucket.load(std::memory_order_relaxed));
      total += values.counts.back();
    }
    if (total == 0) continue;
    values.sum = static_cast<double>(series.sum_nanoseconds.load(std::memory_order_relaxed)) / 1e9;
    out.Histogram("credgate_store_operation_duration_seconds",
                  "Time the store took for each call, by Store operation", values,
                  {{"operation", kOperationNames[i]}});
  }
}

Result<ResourceRecord> TimedStore::Put(const ResourceRecord& record) {
  return Timed(StoreOperation::kPut, [&] { return inner_->Put(record); });
}
Result<ResourceRecord> TimedStore::Get(std::string_view kind, std::string_view key) {
  return Timed(StoreOperation::kGet, [&] { return inner_->Get(kind, key); });
}
Result<std::vector<ResourceRecord>> TimedStore::List(std::string_view kind,
                                                     std::string_view parent_key) {
  return Timed(StoreOperation::kList, [&] { return inner_->List(kind, parent_key); });
}
Result<std::vector<ResourceRecord>> TimedStore::ListAll() {
  return Timed(StoreOperation::kListAll, [&] { return inner_->ListAll(); });
}
Result<int64_t> TimedStore::DeleteTree(std::string_view key) {
  return Timed(StoreOperation::kDeleteTree, [&] { return inner_->DeleteTree(key); });
}
Result<TokenRecord> TimedStore::GetTokens(std::string_view connection_key) {
  return Timed(StoreOperation::kGetTokens, [&] { return inner_->GetTokens(connection_key); });
}
Result<TokenRecord> TimedStore::PutTokens(const TokenRecord& record,
                                          std::optional<int64_t> expected_version) {
  return Timed(StoreOperation::kPutTokens,
               [&] { return inner_->PutTokens(record, expected_version); });
}
Result<bool> TimedStore::DeleteTokens(std::string_view connection_key) {
  return Timed(StoreOperation::kDeleteTokens, [&] { return inner_->DeleteTokens(connection_key); });
}
Result<std::vector<TokenRecord>> TimedStore::ListAllTokens() {
  return Timed(StoreOperation::kListAllTokens, [&] { return inner_->ListAllTokens(); });
}
Result<bool> TimedStore::ReplaceSealedTokens(std::string_view connection_key,
                                             int64_t expected_version,
                                             std::string_view sealed_tokens) {
  return Timed(StoreOperation::kReplaceSealedTokens, [&] {
    return inner_->ReplaceSealedTokens(connection_key, expected_version, sealed_tokens);
  });
}
Result<bool> TimedStore::ReplaceResourceBody(std::string_view kind, std::string_view key,
                                             int64_t expected_version, std::string_view body_json) {
  return Timed(StoreOperation::kReplaceResourceBody,
               [&] { return inner_->ReplaceResourceBody(kind, key, expected_version, body_json); });
}
Result<RefreshLease> TimedStore::AcquireRefreshLease(std::string_view connection_key,
                                                     int64_t held_version, std::string_view holder,
                                                     int64_t now_ms, int64_t ttl_ms) {
  return Timed(StoreOperation::kAcquireRefreshLease, [&] {
    return inner_->AcquireRefreshLease(connection_key, held_version, holder, now_ms, ttl_ms);
  });
}
Result<TokenRecord> TimedStore::CommitRefresh(const TokenRecord& record, int64_t expected_version) {
  return Timed(StoreOperation::kCommitRefresh,
               [&] { return inner_->CommitRefresh(record, expected_version); });
}
Result<bool> TimedStore::ReleaseRefreshLease(std::string_view connection_key,
                                             std::string_view holder, bool attempt_finished) {
  return Timed(StoreOperation::kReleaseRefreshLease, [&] {
    return inner_->ReleaseRefreshLease(connection_key, holder, attempt_finished);
  });
}
Status TimedStore::PutAdminKey(const AdminKeyRecord& record) {
  return Timed(StoreOperation::kPutAdminKey, [&] { return inner_->PutAdminKey(record); });
}
Result<AdminKeyRecord> TimedStore::FindAdminKeyByHash(std::string_view key_hash) {
  return Timed(StoreOperation::kFindAdminKeyByHash,
               [&] { return inner_->FindAdminKeyByHash(key_hash); });
}
Result<std::vector<AdminKeyRecord>> TimedStore::ListAdminKeys() {
  return Timed(StoreOperation::kListAdminKeys, [&] { return inner_->ListAdminKeys(); });
}
Result<bool> TimedStore::DeleteAdminKey(std::string_view id) {
  return Timed(StoreOperation::kDeleteAdminKey, [&] { return inner_->DeleteAdminKey(id); });
}
Result<EventRecord> TimedStore::AppendEvent(std::string_view body_json, int64_t created_at,
                                            int64_t retain, std::span<const std::string> webhooks) {
  return Timed(StoreOperation::kAppendEvent,
               [&] { return inner_->AppendEvent(body_json, created_at, retain, webhooks); });
}
Result<std::vector<EventRecord>> TimedStore::ListEvents(int64_t after_id, int64_t limit) {
  return Timed(StoreOperation::kListEvents, [&] { return inner_->ListEvents(after_id, limit); });
}
Result<WriteBatch> TimedStore::ApplyBatch(const WriteBatch& batch) {
  return Timed(StoreOperation::kApplyBatch, [&] { return inner_->ApplyBatch(batch); });
}
Result<std::vector<WebhookDelivery>> TimedStore::ClaimWebhookDeliveries(std::string_view webhook,
                                                                        std::string_view holder,
                                                                        int64_t now_ms,
                                                                        int64_t lease_ms,
                                                                        int64_t limit) {
  return Timed(StoreOperation::kClaimWebhookDeliveries, [&] {
    return inner_->ClaimWebhookDeliveries(webhook, holder, now_ms, lease_ms, limit);
  });
}
Result<bool> TimedStore::FinishWebhookDelivery(int64_t event_id, std::string_view webhook,
                                               std::string_view holder) {
  return Timed(StoreOperation::kFinishWebhookDelivery,
               [&] { return inner_->FinishWebhookDelivery(event_id, webhook, holder); });
}
Result<bool> TimedStore::RescheduleWebhookDelivery(int64_t event_id, std::string_view webhook,
                                                   std::string_view holder, int64_t attempts,
                                                   int64_t next_attempt_ms) {
  return Timed(StoreOperation::kRescheduleWebhookDelivery, [&] {
    return inner_->RescheduleWebhookDelivery(event_id, webhook, holder, attempts, next_attempt_ms);
  });
}

}  // namespace credgate::store
