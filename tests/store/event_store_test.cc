// Connection events and the webhook outbox (store.h) on every backend: each case runs on
// SqliteStore and on PostgresStore.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store_backend_fixture.h"

namespace credgate::store {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;  // Unix milliseconds.
constexpr int64_t kLease = 30'000;

class EventStoreTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  // Appends an event {"n":<n>} created at kNow with a delivery to each of `webhooks`.
  int64_t Append(int n, std::vector<std::string> webhooks = {"hook-a"}, int64_t retain = 100) {
    auto appended =
        store_->AppendEvent(R"({"n":)" + std::to_string(n) + "}", kNow, retain, webhooks);
    EXPECT_TRUE(appended.ok()) << appended.error().message;
    return appended.ok() ? appended->id : 0;
  }

  std::vector<WebhookDelivery> Claim(std::string_view holder, int64_t now_ms,
                                     std::string_view webhook = "hook-a", int64_t limit = 10) {
    auto claimed = store_->ClaimWebhookDeliveries(webhook, holder, now_ms, kLease, limit);
    EXPECT_TRUE(claimed.ok()) << claimed.error().message;
    return claimed.ok() ? std::move(*claimed) : std::vector<WebhookDelivery>{};
  }

  std::unique_ptr<Store> store_;
};

INSTANTIATE_STORE_BACKENDS(EventStoreTest);

TEST_P(EventStoreTest, EventsListInOrderAfterCursor) {
  for (int i = 1; i <= 3; ++i) {
    auto appended = store_->AppendEvent(R"({"n":)" + std::to_string(i) + "}", 1000 + i, 100,
                                        std::vector<std::string>{});
    ASSERT_TRUE(appended.ok()) << appended.error().message;
  }
  auto all = store_->ListEvents(0, 10);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  EXPECT_LT((*all)[1].id, (*all)[2].id);
  EXPECT_EQ((*all)[0].body_json, R"({"n":1})");
  EXPECT_EQ((*all)[2].created_at, 1003);

  auto after_first = store_->ListEvents((*all)[0].id, 1);
  ASSERT_TRUE(after_first.ok());
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ((*after_first)[0].body_json, R"({"n":2})");
  auto after_last = store_->ListEvents((*all)[2].id, 10);
  ASSERT_TRUE(after_last.ok());
  EXPECT_TRUE(after_last->empty());
}

TEST_P(EventStoreTest, EventsKeepTheNewestRetained) {
  for (int i = 1; i <= 5; ++i) Append(i, {}, 2);
  auto kept = store_->ListEvents(0, 10);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].body_json, R"({"n":4})");
  EXPECT_EQ((*kept)[1].body_json, R"({"n":5})");
}

// Two writers on separate connections append while a reader follows the cursor. Every id the
// writers committed must reach the reader: an id that became visible after a higher one would
// be passed over for good.
TEST_P(EventStoreTest, ConcurrentAppendsAreSeenInIdOrder) {
  constexpr int kPerWriter = 60;
  std::vector<std::unique_ptr<Store>> writers;
  writers.push_back(OpenStore());
  writers.push_back(OpenStore());
  auto reader_store = OpenStore();
  ASSERT_NE(writers[0], nullptr);
  ASSERT_NE(writers[1], nullptr);
  ASSERT_NE(reader_store, nullptr);

  std::atomic<int> writing{2};
  std::vector<int64_t> seen;
  int64_t cursor = 0;
  auto read_page = [&] {
    auto page = reader_store->ListEvents(cursor, 1000);
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (const EventRecord& record : *page) seen.push_back(record.id);
    if (!page->empty()) cursor = page->back().id;
  };
  std::thread reader([&] {
    for (int i = 0; i < 100'000 && writing.load() > 0; ++i) read_page();
  });
  std::vector<std::thread> threads;
  for (auto& writer : writers) {
    threads.emplace_back([&, store = writer.get()] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto appended = store->AppendEvent(R"({"n":0})", kNow, 10'000, std::vector<std::string>{});
        EXPECT_TRUE(appended.ok()) << appended.error().message;
      }
      writing.fetch_sub(1);
    });
  }
  for (auto& thread : threads) thread.join();
  reader.join();
  read_page();

  auto all = store_->ListEvents(0, 1000);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), static_cast<size_t>(2 * kPerWriter));
  std::vector<int64_t> committed;
  for (const EventRecord& record : *all) committed.push_back(record.id);
  EXPECT_EQ(seen, committed);
}

TEST_P(EventStoreTest, AppendAddsOneDeliveryPerWebhook) {
  const int64_t id = Append(1, {"hook-a", "hook-b"});
  auto to_a = Claim("gateway-1", kNow, "hook-a");
  ASSERT_EQ(to_a.size(), 1u);
  EXPECT_EQ(to_a[0].event_id, id);
  EXPECT_EQ(to_a[0].webhook, "hook-a");
  EXPECT_EQ(to_a[0].attempts, 0);
  EXPECT_EQ(to_a[0].body_json, R"({"n":1})");
  EXPECT_EQ(to_a[0].created_at, kNow);
  EXPECT_EQ(Claim("gateway-1", kNow, "hook-b").size(), 1u);
  EXPECT_TRUE(Claim("gateway-1", kNow, "hook-c").empty());
}

TEST_P(EventStoreTest, ClaimsOldestEventFirstUpToLimit) {
  const int64_t first = Append(1);
  const int64_t second = Append(2);
  Append(3);
  auto claimed = Claim("gateway-1", kNow, "hook-a", 2);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].event_id, first);
  EXPECT_EQ(claimed[1].event_id, second);
}

TEST_P(EventStoreTest, ClaimedDeliveryIsLeased) {
  Append(1);
  ASSERT_EQ(Claim("gateway-1", kNow).size(), 1u);
  EXPECT_TRUE(Claim("gateway-2", kNow).empty());
  EXPECT_TRUE(Claim("gateway-2", kNow + kLease - 1).empty());
  EXPECT_EQ(Claim("gateway-2", kNow + kLease).size(), 1u);
}

TEST_P(EventStoreTest, RescheduledDeliveryWaitsUntilDue) {
  const int64_t id = Append(1);
  ASSERT_EQ(Claim("gateway-1", kNow).size(), 1u);
  auto rescheduled = store_->RescheduleWebhookDelivery(id, "hook-a", "gateway-1", 1, kNow + 500);
  ASSERT_TRUE(rescheduled.ok()) << rescheduled.error().message;
  EXPECT_TRUE(*rescheduled);

  EXPECT_TRUE(Claim("gateway-2", kNow + 499).empty());
  auto due = Claim("gateway-2", kNow + 500);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1);
}

TEST_P(EventStoreTest, FinishDeletesDelivery) {
  const int64_t id = Append(1);
  ASSERT_EQ(Claim("gateway-1", kNow).size(), 1u);
  auto finished = store_->FinishWebhookDelivery(id, "hook-a", "gateway-1");
  ASSERT_TRUE(finished.ok()) << finished.error().message;
  EXPECT_TRUE(*finished);
  EXPECT_TRUE(Claim("gateway-1", kNow + kLease).empty());
  EXPECT_FALSE(store_->FinishWebhookDelivery(id, "hook-a", "gateway-1").value());
}

TEST_P(EventStoreTest, FormerHolderChangesNothing) {
  const int64_t id = Append(1);
  ASSERT_EQ(Claim("gateway-1", kNow).size(), 1u);
  ASSERT_EQ(Claim("gateway-2", kNow + kLease).size(), 1u);

  EXPECT_FALSE(store_->FinishWebhookDelivery(id, "hook-a", "gateway-1").value());
  EXPECT_FALSE(store_->RescheduleWebhookDelivery(id, "hook-a", "gateway-1", 1, kNow).value());
  EXPECT_TRUE(Claim("gateway-3", kNow + kLease).empty());
  EXPECT_TRUE(store_->FinishWebhookDelivery(id, "hook-a", "gateway-2").value());
}

TEST_P(EventStoreTest, PruneRemovesDeliveriesOfOldEvents) {
  Append(1, {"hook-a"}, 2);
  const int64_t second = Append(2, {"hook-a"}, 2);
  const int64_t third = Append(3, {"hook-a"}, 2);
  auto claimed = Claim("gateway-1", kNow);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].event_id, second);
  EXPECT_EQ(claimed[1].event_id, third);
}

TEST_P(EventStoreTest, DeliveriesSurviveReopen) {
  const int64_t id = Append(1);
  store_.reset();
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  auto claimed = Claim("gateway-1", kNow);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event_id, id);
}

TEST_P(EventStoreTest, ConcurrentClaimsNeverShareADelivery) {
  constexpr int kEvents = 30;
  for (int i = 0; i < kEvents; ++i) Append(i);
  std::vector<std::unique_ptr<Store>> stores;
  stores.push_back(OpenStore());
  stores.push_back(OpenStore());
  std::vector<std::vector<int64_t>> claimed(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] {
      const std::string holder = "gateway-" + std::to_string(i);
      for (int round = 0; round < kEvents; ++round) {
        auto batch = stores[i]->ClaimWebhookDeliveries("hook-a", holder, kNow, kLease, 3);
        ASSERT_TRUE(batch.ok()) << batch.error().message;
        if (batch->empty()) break;
        for (const WebhookDelivery& delivery : *batch) claimed[i].push_back(delivery.event_id);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<int64_t> distinct;
  size_t total = 0;
  for (const auto& ids : claimed) {
    distinct.insert(ids.begin(), ids.end());
    total += ids.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kEvents));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kEvents));
}

}  // namespace
}  // namespace credgate::store
