#include "common/allocator.h"

#include <malloc.h>

#ifdef CREDGATE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace credgate {

#ifdef CREDGATE_WITH_MIMALLOC

std::string AllocatorName() {
  const int version = mi_version();  // For example 209 for 2.0.9.
  return "mimalloc " + std::to_string(version / 100) + "." + std::to_string(version / 10 % 10) +
         "." + std::to_string(version % 10);
}

void ReleaseFreedMemory() { mi_collect(true); }

size_t HeapBytes() {
  size_t elapsed = 0, user = 0, system = 0, rss = 0, peak_rss = 0, commit = 0, peak_commit = 0,
         faults = 0;
  mi_process_info(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return commit;
}

#else

std::string AllocatorName() { return "glibc malloc"; }

void ReleaseFreedMemory() { malloc_trim(0); }

size_t HeapBytes() { return mallinfo2().uordblks; }

#endif

}  // namespace credgate
