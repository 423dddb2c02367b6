#ifndef LEAKLAB_SCENARIOS_RUNTIME_UNCOUNTED_ALLOCATOR_H_
#define LEAKLAB_SCENARIOS_RUNTIME_UNCOUNTED_ALLOCATOR_H_

// An allocator for the runtime's own bookkeeping about workers (the worker
// registry, a generation's list of timers), straight from malloc. The
// allocation hook (alloc_hook.cc) counts operator new only, so this memory is
// in RSS but not in live_bytes or the heap profiles: as in Go, where a
// goroutine's stack and scheduling state live in the runtime's own memory
// (StackInuse and runtime spans), not in the heap the heap profile shows.
// Without it, 6,000 watchers' registry entries made the runaway-workers heap
// grow 50 KB per reload, a leak of bookkeeping that Go would not show.

#include <cstddef>
#include <cstdlib>
#include <new>

namespace leaklab::runtime {

template <typename T>
struct UncountedAllocator {
  using value_type = T;

  UncountedAllocator() noexcept = default;
  template <typename U>
  UncountedAllocator(const UncountedAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    if (void* p = std::malloc(n * sizeof(T))) return static_cast<T*>(p);
    throw std::bad_alloc();
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }

  template <typename U>
  friend bool operator==(const UncountedAllocator&, const UncountedAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_UNCOUNTED_ALLOCATOR_H_
