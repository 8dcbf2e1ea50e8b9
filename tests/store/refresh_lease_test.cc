// The refresh lease contract of Store (store.h), on every backend.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "store_backend_fixture.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";
constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kTtl = 30'000;

class RefreshLeaseTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auto stored = store_->PutTokens(Tokens(kAlice, "v1"), std::nullopt);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    version_ = stored->version;
  }

  RefreshLease Acquire(std::string_view holder, int64_t now_ms, int64_t held_version) {
    auto lease = store_->AcquireRefreshLease(kAlice, held_version, holder, now_ms, kTtl);
    EXPECT_TRUE(lease.ok()) << lease.error().message;
    return lease.ok() ? std::move(lease).value() : RefreshLease{};
  }

  std::unique_ptr<Store> store_;
  int64_t version_ = 0;
};

INSTANTIATE_STORE_BACKENDS(RefreshLeaseTest);

TEST_P(RefreshLeaseTest, FirstHolderAcquires) {
  RefreshLease lease = Acquire("gateway-a", kNow, version_);
  EXPECT_EQ(lease.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_EQ(lease.lease_expires_ms, kNow + kTtl);
  EXPECT_FALSE(lease.unfinished_attempt);
  EXPECT_EQ(lease.record.sealed_tokens, "v1");
}

TEST_P(RefreshLeaseTest, SecondHolderWaits) {
  Acquire("gateway-a", kNow, version_);
  RefreshLease lease = Acquire("gateway-b", kNow + 1'000, version_);
  EXPECT_EQ(lease.outcome, RefreshLease::Outcome::kHeld);
  EXPECT_EQ(lease.holder, "gateway-a");
  EXPECT_EQ(lease.lease_expires_ms, kNow + kTtl);
}

TEST_P(RefreshLeaseTest, HolderMayAcquireAgain) {
  Acquire("gateway-a", kNow, version_);
  RefreshLease lease = Acquire("gateway-a", kNow + 1'000, version_);
  EXPECT_EQ(lease.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_EQ(lease.lease_expires_ms, kNow + 1'000 + kTtl);
}

TEST_P(RefreshLeaseTest, ExpiredLeaseReportsUnfinishedAttempt) {
  Acquire("gateway-a", kNow, version_);
  RefreshLease lease = Acquire("gateway-b", kNow + kTtl, version_);
  EXPECT_EQ(lease.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_TRUE(lease.unfinished_attempt);
  EXPECT_EQ(lease.unfinished_holder, "gateway-a");
  EXPECT_EQ(lease.unfinished_started_ms, kNow);
}

TEST_P(RefreshLeaseTest, StaleVersionIsSuperseded) {
  auto newer = store_->PutTokens(Tokens(kAlice, "v2"), std::nullopt);
  ASSERT_TRUE(newer.ok());
  RefreshLease lease = Acquire("gateway-a", kNow, version_);
  EXPECT_EQ(lease.outcome, RefreshLease::Outcome::kSuperseded);
  EXPECT_EQ(lease.record.version, newer->version);
  EXPECT_EQ(lease.record.sealed_tokens, "v2");
}

TEST_P(RefreshLeaseTest, CommitStoresAndClearsLease) {
  Acquire("gateway-a", kNow, version_);
  auto committed = store_->CommitRefresh(Tokens(kAlice, "v2"), version_);
  ASSERT_TRUE(committed.ok()) << committed.error().message;
  EXPECT_EQ(committed->version, version_ + 1);

  RefreshLease next = Acquire("gateway-b", kNow + 1, committed->version);
  EXPECT_EQ(next.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_FALSE(next.unfinished_attempt);
  EXPECT_EQ(next.record.sealed_tokens, "v2");
}

TEST_P(RefreshLeaseTest, CommitFromStaleVersionConflicts) {
  Acquire("gateway-a", kNow, version_);
  // gateway-a pauses past its lease; gateway-b refreshes and commits first.
  Acquire("gateway-b", kNow + kTtl, version_);
  ASSERT_TRUE(store_->CommitRefresh(Tokens(kAlice, "from-b"), version_).ok());

  auto late = store_->CommitRefresh(Tokens(kAlice, "from-a"), version_);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  auto stored = store_->GetTokens(kAlice);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sealed_tokens, "from-b");
}

TEST_P(RefreshLeaseTest, CommitOfDeletedRecordIsNotFound) {
  ASSERT_TRUE(store_->DeleteTokens(kAlice).ok());
  auto committed = store_->CommitRefresh(Tokens(kAlice, "v2"), version_);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ErrorCode::kNotFound);
}

TEST_P(RefreshLeaseTest, ReleaseFinishedClearsAttempt) {
  Acquire("gateway-a", kNow, version_);
  auto released = store_->ReleaseRefreshLease(kAlice, "gateway-a", true);
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  RefreshLease next = Acquire("gateway-b", kNow + 1, version_);
  EXPECT_EQ(next.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_FALSE(next.unfinished_attempt);
}

TEST_P(RefreshLeaseTest, ReleaseUnfinishedKeepsAttempt) {
  Acquire("gateway-a", kNow, version_);
  ASSERT_TRUE(store_->ReleaseRefreshLease(kAlice, "gateway-a", false).ok());
  RefreshLease next = Acquire("gateway-b", kNow + 1, version_);
  EXPECT_EQ(next.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_TRUE(next.unfinished_attempt);
  EXPECT_EQ(next.unfinished_holder, "gateway-a");
}

TEST_P(RefreshLeaseTest, ReleaseByOtherHolderChangesNothing) {
  Acquire("gateway-a", kNow, version_);
  auto released = store_->ReleaseRefreshLease(kAlice, "gateway-b", true);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  EXPECT_EQ(Acquire("gateway-b", kNow + 1, version_).outcome, RefreshLease::Outcome::kHeld);
}

TEST_P(RefreshLeaseTest, SignInClearsLeaseAndAttempt) {
  Acquire("gateway-a", kNow, version_);
  auto signed_in = store_->PutTokens(Tokens(kAlice, "login"), std::nullopt);
  ASSERT_TRUE(signed_in.ok());
  RefreshLease next = Acquire("gateway-b", kNow + 1, signed_in->version);
  EXPECT_EQ(next.outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_FALSE(next.unfinished_attempt);
}

TEST_P(RefreshLeaseTest, MissingRecordIsNotFound) {
  auto lease = store_->AcquireRefreshLease("authorizationProviders/github/authorizations/bob", 1,
                                           "gateway-a", kNow, kTtl);
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code, ErrorCode::kNotFound);
}

TEST_P(RefreshLeaseTest, ConcurrentAcquireHasOneWinner) {
  // Twelve holders on four store instances, as if four gateways with three refresh threads each
  // found the tokens expiring at the same moment.
  constexpr int kStores = 4;
  constexpr int kHolders = 12;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kStores; ++i) {
    stores.push_back(OpenStore());
    ASSERT_NE(stores.back(), nullptr);
  }

  std::vector<Result<RefreshLease>> leases(kHolders, Error{});
  std::latch start(kHolders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kHolders; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      leases[i] = stores[i % kStores]->AcquireRefreshLease(
          kAlice, version_, "gateway-" + std::to_string(i), kNow, kTtl);
    });
  }
  for (std::thread& thread : threads) thread.join();

  int acquired = 0;
  int held = 0;
  for (const auto& lease : leases) {
    ASSERT_TRUE(lease.ok()) << lease.error().message;
    if (lease->outcome == RefreshLease::Outcome::kAcquired) ++acquired;
    if (lease->outcome == RefreshLease::Outcome::kHeld) ++held;
  }
  EXPECT_EQ(acquired, 1);
  EXPECT_EQ(held, kHolders - 1);
}

}  // namespace
}  // namespace credgate::store
