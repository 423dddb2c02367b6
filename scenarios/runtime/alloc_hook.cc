// Replaces the global operator new/delete of the scenario server so that the
// runtime sees every C++ allocation (the scenario's, Beast's, the standard
// library's) and can report live bytes. Linked as an object file into
// leaklab-scenario only: analyzers and tools keep the standard operators.
//
// Counting is two relaxed atomic adds per call; the sampling heap profiler
// (heap_profiler.h) adds a thread-local subtraction and a branch per
// allocation, and one relaxed load per free; the scratch arena
// (scratch_arena.h) a thread-local load and a branch per call.

#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "scenarios/runtime/alloc_stats.h"
#include "scenarios/runtime/heap_profiler.h"
#include "scenarios/runtime/scratch_arena.h"

namespace leaklab::runtime {
// A named namespace, not an anonymous one: the heap profiler recognises these
// frames by name (dladdr sees only exported symbols) to drop them from stacks.
namespace alloc_hook {

using internal::NoteAllocation;
using internal::NoteRelease;

// Scratch memory is the runtime's own, not the server's: neither counted in
// live bytes nor sampled.
void* Allocate(std::size_t size) {
  if (ScratchArena* arena = internal::t_scratch_arena) [[unlikely]] {
    if (void* p = arena->Allocate(size, __STDCPP_DEFAULT_NEW_ALIGNMENT__)) return p;
  }
  // operator new(0) must return a unique pointer.
  const std::size_t bytes = size == 0 ? 1 : size;
  void* p = std::malloc(bytes);
  if (p != nullptr) {
    NoteAllocation(static_cast<int64_t>(malloc_usable_size(p)));
    heap_profiler::OnAllocation(p, bytes);
  }
  return p;
}

void* AllocateAligned(std::size_t size, std::size_t alignment) {
  if (ScratchArena* arena = internal::t_scratch_arena) [[unlikely]] {
    if (void* p = arena->Allocate(size, alignment)) return p;
  }
  // aligned_alloc needs a size that is a multiple of the alignment; a size
  // that cannot be rounded up without overflow cannot be served at all.
  if (size > SIZE_MAX - alignment) return nullptr;
  std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
  if (p != nullptr) {
    NoteAllocation(static_cast<int64_t>(malloc_usable_size(p)));
    heap_profiler::OnAllocation(p, size == 0 ? 1 : size);
  }
  return p;
}

void* AllocateOrThrow(std::size_t size) {
  for (;;) {
    if (void* p = Allocate(size)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* AllocateAlignedOrThrow(std::size_t size, std::size_t alignment) {
  for (;;) {
    if (void* p = AllocateAligned(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

// Marks the hook as present before main(), so /debug/memstats can say whether
// live_bytes is meaningful.
[[maybe_unused]] const bool kHookRegistered = [] {
  internal::g_hook_seen.store(true, std::memory_order_relaxed);
  return true;
}();

void Release(void* p) noexcept {
  if (p == nullptr) return;
  if (ScratchArena* arena = internal::t_scratch_arena) [[unlikely]] {
    if (arena->Contains(p)) return;  // freed with the arena
  }
  // Before free(): once freed, the address may be reused and sampled anew.
  heap_profiler::OnRelease(p);
  NoteRelease(static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}

}  // namespace alloc_hook
}  // namespace leaklab::runtime

using leaklab::runtime::alloc_hook::AllocateAlignedOrThrow;
using leaklab::runtime::alloc_hook::AllocateOrThrow;
using leaklab::runtime::alloc_hook::Release;

void* operator new(std::size_t size) { return AllocateOrThrow(size); }
void* operator new[](std::size_t size) { return AllocateOrThrow(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t al) {
  return AllocateAlignedOrThrow(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return AllocateAlignedOrThrow(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  try {
    return AllocateAlignedOrThrow(size, static_cast<std::size_t>(al));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  try {
    return AllocateAlignedOrThrow(size, static_cast<std::size_t>(al));
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, std::size_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
