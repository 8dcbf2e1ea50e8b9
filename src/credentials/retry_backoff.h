// Exponential backoff with jitter for retrying failed token refreshes, and the random fractions
// that spread scheduled refreshes.
#pragma once

#include <chrono>

#include "common/random.h"

namespace credgate::credentials {

// Returns a number drawn uniformly from [0, 1) with 53 random bits of `random`.
double RandomFraction(RandomSource& random);

// Returns RandomFraction(random) rounded to a float and kept below 1, for callers that store the
// fraction as a float and must compute with the value they store.
float RandomFloatFraction(RandomSource& random);

// Returns the delay before retry `attempt` (1 for the first retry): base × 2^(attempt − 1), at
// most `cap`, then drawn uniformly from its upper half, between half that delay and the whole,
// so that connections that failed together do not retry together.
std::chrono::milliseconds RetryDelay(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                     int attempt, RandomSource& random);

}  // namespace credgate::credentials
