#include "management/cluster_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <vector>

#include "credentials/token_manager.h"
#include "management/persistence.h"
#include "management/routes.h"
#include "management/token_persistence.h"
#include "store/async_store.h"

namespace credgate::management {

using boost::asio::awaitable;

namespace {

std::string VersionKey(std::string_view kind, std::string_view key) {
  return std::string(kind) + " " + std::string(key);
}

// Returns the key part of a VersionKey.
std::string_view KeyOfVersionKey(std::string_view version_key) {
  return version_key.substr(version_key.find(' ') + 1);
}

// Parents before children, so that a connection exists before its access policies.
int KindOrder(std::string_view kind) {
  static constexpr std::string_view kOrder[] = {
      "trustedIssuer", "provider", "connection", "accessPolicy",   "connectionState",
      "certificate",   "api",      "operation",  "backend",        "policyFragment",
      "policy"};
  auto it = std::find(std::begin(kOrder), std::end(kOrder), kind);
  return static_cast<int>(it - std::begin(kOrder));
}

}  // namespace

ClusterSync::ClusterSync(runtime::Services& services, store::ChangeFeed& feed,
                         boost::asio::any_io_executor executor, Options options)
    : services_(services), feed_(feed), executor_(std::move(executor)), options_(options) {}

ClusterSync::~ClusterSync() { Stop(); }

Status ClusterSync::Start(store::Store& blocking_store) {
  auto records = blocking_store.ListAll();
  if (!records.ok()) return records.error();
  for (const auto& record : *records) versions_[VersionKey(record.kind, record.key)] = record.version;

  std::shared_ptr<std::atomic<bool>> stopped = stopped_;
  auto executor = executor_;
  Status started = feed_.Start([this, stopped, executor](store::StoreChange change) {
    if (stopped->load()) return;
    boost::asio::co_spawn(executor, Apply(std::move(change)), boost::asio::detached);
  });
  if (!started.ok()) return started.error();
  timer_ = std::make_unique<boost::asio::steady_timer>(executor_);
  boost::asio::co_spawn(executor_, ReconcileLoop(), boost::asio::detached);
  spdlog::info("cluster sync started resources={} reconcile_interval_ms={}", versions_.size(),
               options_.reconcile_interval.count());
  return OkStatus();
}

void ClusterSync::Stop() {
  if (stopped_->exchange(true)) return;
  feed_.Stop();
  if (timer_) {
    boost::asio::post(executor_, [timer = timer_.get()] { timer->cancel(); });
  }
}

ClusterSync::Counters ClusterSync::GetCounters() const {
  Counters counters;
  counters.changes_applied = changes_applied_.load();
  counters.changes_skipped = changes_skipped_.load();
  counters.change_failures = change_failures_.load();
  counters.reconciliations = reconciliations_.load();
  counters.records_repaired = records_repaired_.load();
  return counters;
}

awaitable<void> ClusterSync::Apply(store::StoreChange change) {
  if (stopped_->load()) co_return;
  switch (change.type) {
    case store::StoreChange::Type::kResourcePut:
      co_await ApplyResource(change.kind, change.key, change.version);
      break;
    case store::StoreChange::Type::kTreeDeleted:
      ApplyTreeDeletion(change.key);
      break;
    case store::StoreChange::Type::kTokensPut:
      co_await ApplyTokens(change.key, change.version);
      break;
    case store::StoreChange::Type::kTokensDeleted: {
      // Tokens are deleted with their connection, whose tree deletion updates memory.
      ++changes_skipped_;
      break;
    }
    case store::StoreChange::Type::kResync:
      spdlog::info("cluster sync reconciling after the change feed reconnected");
      co_await Reconcile();
      break;
  }
}

awaitable<void> ClusterSync::ApplyResource(const std::string& kind, const std::string& key,
                                           int64_t version) {
  auto known = versions_.find(VersionKey(kind, key));
  if (known != versions_.end() && known->second >= version) {
    ++changes_skipped_;
    co_return;
  }
  auto get = [kind, key](store::Store& s) { return s.Get(kind, key); };
  auto record = co_await services_.store->Run(std::move(get));
  if (!record.ok()) {
    // A record deleted since the notification is followed by its own deletion notification.
    if (record.error().code == ErrorCode::kNotFound) co_return;
    ++change_failures_;
    spdlog::warn("cluster sync could not read kind={} key={}: {}", kind, key,
                 record.error().message);
    co_return;
  }
  if (ApplyRecord(*record)) ++changes_applied_;
}

bool ClusterSync::ApplyRecord(const store::ResourceRecord& record) {
  Status applied = ApplyStoredRecord(record, services_);
  if (!applied.ok()) {
    ++change_failures_;
    spdlog::error("cluster sync skipped a stored resource kind={} key={}: {}", record.kind,
                  record.key, applied.error().message);
    return false;
  }
  if (record.kind == "trustedIssuer") {
    ApplyTrustedIssuers(*services_.config->Current(), *services_.validator);
  }
  versions_[VersionKey(record.kind, record.key)] = record.version;
  spdlog::debug("cluster sync applied kind={} key={} version={}", record.kind, record.key,
                record.version);
  return true;
}

void ClusterSync::ApplyTreeDeletion(const std::string& key) {
  const std::string prefix = key + "/";
  bool known = false;
  for (auto it = versions_.begin(); it != versions_.end();) {
    std::string_view stored_key = KeyOfVersionKey(it->first);
    if (stored_key == key || stored_key.starts_with(prefix)) {
      known = true;
      it = versions_.erase(it);
    } else {
      ++it;
    }
  }
  auto path = ParseResourcePath(key);
  if (!path.ok()) {
    ++change_failures_;
    spdlog::warn("cluster sync ignored the deletion of an unknown key {}: {}", key,
                 path.error().message);
    return;
  }
  Status forgotten = ForgetResource(*path, services_);
  if (!forgotten.ok()) {
    ++change_failures_;
    spdlog::error("cluster sync could not remove key={}: {}", key, forgotten.error().message);
    return;
  }
  if (known) ++changes_applied_;
  else ++changes_skipped_;
}

awaitable<void> ClusterSync::ApplyTokens(const std::string& store_key, int64_t version) {
  const std::string connection_key = ConnectionKeyOfStoreKey(store_key);
  if (connection_key.empty()) co_return;
  std::optional<int64_t> memory_version = services_.tokens->TokenVersion(connection_key);
  if (memory_version && *memory_version >= version) {
    ++changes_skipped_;
    co_return;
  }
  auto get = [store_key](store::Store& s) { return s.GetTokens(store_key); };
  auto record = co_await services_.store->Run(std::move(get));
  if (!record.ok()) {
    if (record.error().code == ErrorCode::kNotFound) co_return;
    ++change_failures_;
    spdlog::warn("cluster sync could not read the tokens of connection={}: {}", connection_key,
                 record.error().message);
    co_return;
  }
  auto tokens = OpenTokenRecord(*record, *services_.keyring);
  if (!tokens.ok()) {
    ++change_failures_;
    spdlog::error("cluster sync could not open the tokens of connection={}: {}", connection_key,
                  tokens.error().message);
    co_return;
  }
  const int64_t stored_version = tokens->version;
  if (services_.tokens->AdoptStoredTokens(connection_key, std::move(*tokens))) {
    ++changes_applied_;
    spdlog::debug("cluster sync took new tokens connection={} version={}", connection_key,
                  stored_version);
  } else {
    ++changes_skipped_;
  }
}

awaitable<void> ClusterSync::ReconcileLoop() {
  while (!stopped_->load()) {
    timer_->expires_after(options_.reconcile_interval);
    boost::system::error_code ec;
    co_await timer_->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (stopped_->load()) co_return;
    co_await Reconcile();
  }
}

awaitable<void> ClusterSync::Reconcile() {
  ++reconciliations_;
  auto list = [](store::Store& s) { return s.ListAll(); };
  auto records = co_await services_.store->Run(std::move(list));
  if (!records.ok()) {
    spdlog::warn("cluster sync could not list the store: {}", records.error().message);
    co_return;
  }
  uint64_t repaired = 0;

  // Resources gone from the store: remove the top-most ones, which removes their children.
  std::set<std::string> stored_keys;
  for (const auto& record : *records) stored_keys.insert(VersionKey(record.kind, record.key));
  std::vector<std::string> deleted_keys;
  for (const auto& [version_key, version] : versions_) {
    if (!stored_keys.contains(version_key)) deleted_keys.emplace_back(KeyOfVersionKey(version_key));
  }
  std::sort(deleted_keys.begin(), deleted_keys.end());
  std::string last_removed;
  for (const auto& key : deleted_keys) {
    if (!last_removed.empty() && key.starts_with(last_removed + "/")) continue;
    if (key.ends_with("/state")) continue;  // A status goes with its connection.
    ApplyTreeDeletion(key);
    last_removed = key;
    ++repaired;
  }

  // Resources new or changed in the store, parents first.
  std::vector<const store::ResourceRecord*> changed;
  for (const auto& record : *records) {
    auto known = versions_.find(VersionKey(record.kind, record.key));
    if (known == versions_.end() || known->second != record.version) changed.push_back(&record);
  }
  std::stable_sort(changed.begin(), changed.end(), [](const auto* a, const auto* b) {
    return KindOrder(a->kind) < KindOrder(b->kind);
  });
  for (const auto* record : changed) {
    if (ApplyRecord(*record)) ++repaired;
  }

  auto list_tokens = [](store::Store& s) { return s.ListAllTokens(); };
  auto tokens = co_await services_.store->Run(std::move(list_tokens));
  if (!tokens.ok()) {
    spdlog::warn("cluster sync could not list the stored tokens: {}", tokens.error().message);
    co_return;
  }
  for (const auto& record : *tokens) {
    const std::string connection_key = ConnectionKeyOfStoreKey(record.connection_key);
    if (connection_key.empty()) continue;
    std::optional<int64_t> memory_version = services_.tokens->TokenVersion(connection_key);
    if (memory_version && *memory_version >= record.version) continue;
    auto opened = OpenTokenRecord(record, *services_.keyring);
    if (!opened.ok()) continue;
    if (services_.tokens->AdoptStoredTokens(connection_key, std::move(*opened))) ++repaired;
  }
  records_repaired_ += repaired;
  if (repaired > 0) {
    spdlog::warn("cluster sync reconciliation repaired records={}: notifications were missed",
                 repaired);
  }
}

}  // namespace credgate::management
