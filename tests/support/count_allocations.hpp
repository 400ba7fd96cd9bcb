#pragma once
// Replaces the global operator new/delete of the test binary that includes this header (include
// it from exactly one .cpp per executable) so a test can measure "allocates nothing":
//   const long before = netmarl::testing::heap_allocations();  ...  CHECK(heap_allocations() == before);
#include <atomic>
#include <cstdlib>
#include <new>

namespace netmarl::testing {
inline std::atomic<long> heap_allocation_count{0};
inline long heap_allocations() { return heap_allocation_count.load(); }
}  // namespace netmarl::testing

void* operator new(std::size_t size) {
  ++netmarl::testing::heap_allocation_count;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Catch allocates with the nothrow form: route it through the same counter and malloc.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++netmarl::testing::heap_allocation_count;
  return std::malloc(size == 0 ? 1 : size);
}
// GCC 12 flags free() on memory from operator new once both are inlined; here they pair by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
