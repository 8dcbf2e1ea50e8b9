// ParallelFor: runs a loop body over [0, count) on every core, for start-up work that runs
// before the request path starts. Not for the request path, which has one thread per core.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace credgate {

// Calls body(begin, end) for consecutive ranges of at most `chunk` indexes that together cover
// [0, count) once each, on up to std::thread::hardware_concurrency() threads including the
// caller's, and returns when every range is done. `body` must be safe to call concurrently on
// disjoint ranges and must not throw.
template <typename Body>
void ParallelFor(size_t count, size_t chunk, const Body& body) {
  chunk = std::max<size_t>(chunk, 1);
  const size_t chunks = (count + chunk - 1) / chunk;
  const size_t threads =
      std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), chunks);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t index = next++; index < chunks; index = next++) {
      body(index * chunk, std::min(count, (index + 1) * chunk));
    }
  };
  std::vector<std::jthread> helpers;
  for (size_t i = 1; i < threads; ++i) helpers.emplace_back(work);
  work();
}

}  // namespace credgate
