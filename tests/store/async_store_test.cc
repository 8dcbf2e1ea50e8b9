#include "store/async_store.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kAlice[] = "connections/alice";

class AsyncStoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    async_store_ = std::make_unique<AsyncStore>(OpenStore());
  }

  // Runs `body` as a coroutine on io_ until it finishes.
  template <class Body>
  void RunCoroutine(Body body) {
    bool finished = false;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
          co_await body();
          finished = true;
        },
        boost::asio::detached);
    io_.run();
    ASSERT_TRUE(finished);
  }

  boost::asio::io_context io_;
  std::unique_ptr<AsyncStore> async_store_;
};

TEST_F(AsyncStoreTest, RunsOnStoreThreadAndResumesOnCaller) {
  std::thread::id caller;
  std::thread::id store_thread;
  std::thread::id resumed;
  RunCoroutine([&]() -> boost::asio::awaitable<void> {
    caller = std::this_thread::get_id();
    auto stored = co_await async_store_->Run([&](Store& store) {
      store_thread = std::this_thread::get_id();
      return store.PutTokens(Tokens(kAlice, "sealed"), 0);
    });
    resumed = std::this_thread::get_id();
    EXPECT_TRUE(stored.ok());
  });
  EXPECT_NE(store_thread, caller);
  EXPECT_EQ(resumed, caller);
}

TEST_F(AsyncStoreTest, ReturnsResultsAndErrors) {
  RunCoroutine([&]() -> boost::asio::awaitable<void> {
    auto missing = co_await async_store_->Run([](Store& store) { return store.GetTokens(kAlice); });
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

    co_await async_store_->Run(
        [](Store& store) { return store.PutTokens(Tokens(kAlice, "v1"), 0); });
    auto stale = co_await async_store_->Run(
        [](Store& store) { return store.PutTokens(Tokens(kAlice, "v2"), 0); });
    EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  });
}

TEST_F(AsyncStoreTest, MovesCapturedRecordsToTheStoreThread) {
  // Strings this long live on the heap, so a double destruction or a dangling copy of the
  // captured record would show as a crash or as a wrong stored value. The callable is named
  // before the co_await, as async_store.h requires.
  const std::string sealed(200, 's');
  RunCoroutine([&]() -> boost::asio::awaitable<void> {
    TokenRecord record = Tokens(std::string(kAlice) + std::string(100, 'k'), sealed);
    auto put = [record = std::move(record)](Store& store) { return store.PutTokens(record, 0); };
    auto stored = co_await async_store_->Run(std::move(put));
    EXPECT_TRUE(stored.ok()) << stored.error().message;
  });
  auto tokens =
      async_store_->blocking_store().GetTokens(std::string(kAlice) + std::string(100, 'k'));
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->sealed_tokens, sealed);
}

TEST_F(AsyncStoreTest, KeepsSubmissionOrder) {
  constexpr int kWrites = 20;
  int done = 0;
  for (int i = 0; i < kWrites; ++i) {
    boost::asio::co_spawn(
        io_,
        [&, i]() -> boost::asio::awaitable<void> {
          auto put = [i](Store& store) {
            return store.PutTokens(Tokens(kAlice, "v" + std::to_string(i)), i);
          };
          auto stored = co_await async_store_->Run(std::move(put));
          EXPECT_TRUE(stored.ok()) << stored.error().message;
          ++done;
        },
        boost::asio::detached);
  }
  io_.run();
  EXPECT_EQ(done, kWrites);
  auto tokens = async_store_->blocking_store().GetTokens(kAlice);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->version, kWrites);
}

}  // namespace
}  // namespace credgate::store
