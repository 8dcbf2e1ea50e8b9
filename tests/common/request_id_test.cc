#include "common/request_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace credgate {
namespace {

TEST(RequestId, IsSixteenBase64UrlCharacters) {
  const std::string id = NewRequestId();
  ASSERT_EQ(id.size(), 16u);
  for (char c : id) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_')
        << id;
  }
}

TEST(RequestId, RepeatsWithinNoThread) {
  constexpr int kThreads = 4;
  constexpr int kIdsPerThread = 20'000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kIdsPerThread; ++i) ids[t].push_back(NewRequestId());
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<std::string> distinct;
  for (const auto& list : ids) distinct.insert(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), size_t{kThreads} * kIdsPerThread);
}

TEST(RequestId, ThreadsUseDifferentPrefixes) {
  std::string other;
  std::thread([&other] { other = NewRequestId(); }).join();
  // The first 5 characters encode 30 bits of the thread's random 32-bit prefix.
  EXPECT_NE(NewRequestId().substr(0, 5), other.substr(0, 5));
}

}  // namespace
}  // namespace credgate
