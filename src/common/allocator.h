// The process's memory allocator. A build with CREDGATE_MIMALLOC (the default outside sanitizer
// and fuzz builds) links mimalloc, which then serves every malloc and operator new of the
// process. Other builds use glibc's malloc. The functions here report on the allocator in use
// and return its freed memory to the operating system.
#pragma once

#include <cstddef>
#include <string>

namespace credgate {

// Returns the allocator's name and version, for example "mimalloc 2.0.9" or "glibc malloc".
std::string AllocatorName();

// Returns the memory that the program freed, and that the allocator still keeps, to the
// operating system. For a one-off point such as the end of the start-up load, not for the
// request path, because it goes over the whole heap.
void ReleaseFreedMemory();

// Returns the bytes of heap the allocator has taken for the program. With glibc these are the
// bytes in use (mallinfo2). mimalloc does not count those, so with it they are the committed bytes.
size_t HeapBytes();

}  // namespace credgate
