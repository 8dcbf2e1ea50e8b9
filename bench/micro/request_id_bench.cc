// Request ids: the per-thread generator against 12 bytes from OpenSSL's CSPRNG, which each
// request without an x-request-id used to draw.
#include <benchmark/benchmark.h>

#include "common/random.h"
#include "common/request_id.h"

namespace credgate {
namespace {

void BM_RequestIdGenerator(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NewRequestId());
}
BENCHMARK(BM_RequestIdGenerator)->Threads(1)->Threads(2);

void BM_RequestIdRandBytes(benchmark::State& state) {
  OpenSslRandom random;
  for (auto _ : state) benchmark::DoNotOptimize(RandomToken(random, 12));
}
BENCHMARK(BM_RequestIdRandBytes)->Threads(1)->Threads(2);

}  // namespace
}  // namespace credgate
