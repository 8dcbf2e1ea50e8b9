#include "common/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace credgate {
namespace {

// Counts how often each index of [0, count) was visited.
std::vector<int> Visits(size_t count, size_t chunk) {
  std::vector<std::atomic<int>> visits(count);
  ParallelFor(count, chunk, [&](size_t begin, size_t end) {
    EXPECT_LE(end - begin, std::max<size_t>(chunk, 1));
    for (size_t i = begin; i < end; ++i) ++visits[i];
  });
  std::vector<int> result;
  for (const auto& visit : visits) result.push_back(visit.load());
  return result;
}

TEST(ParallelForTest, VisitsEveryIndexOnce) {
  for (size_t count : {0, 1, 7, 1000, 4097}) {
    for (size_t chunk : {1, 3, 1024}) {
      EXPECT_EQ(Visits(count, chunk), std::vector<int>(count, 1))
          << "count " << count << " chunk " << chunk;
    }
  }
}

TEST(ParallelForTest, ZeroChunkCountsAsOne) {
  EXPECT_EQ(Visits(5, 0), std::vector<int>(5, 1));
}

}  // namespace
}  // namespace credgate
