// Request ids: the labels that tie a request's log lines, audit events and error pages together.
// They are not secrets and grant nothing, so they come from a per-thread generator instead of
// the CSPRNG. RAND_bytes for 12 bytes executed about 7,000 instructions per id under callgrind
// (bench/callgrind.sh), 3% of the gateway's whole request path.
#pragma once

#include <string>

namespace credgate {

// Returns a new request id of 16 base64url characters (12 bytes). Each thread draws a random
// 32-bit prefix and a random 64-bit counter start from OpenSSL's CSPRNG on its first call. An id
// is the prefix followed by the counter passed through a bijective 64-bit mixer, so one thread
// never repeats an id within 2^64 calls. Ids of two threads or processes collide only when
// their random prefixes are equal and their counters meet. Thread-safe; allocates nothing but
// the returned string.
std::string NewRequestId();

}  // namespace credgate
