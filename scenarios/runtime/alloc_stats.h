#ifndef LEAKLAB_SCENARIOS_RUNTIME_ALLOC_STATS_H_
#define LEAKLAB_SCENARIOS_RUNTIME_ALLOC_STATS_H_

#include <atomic>
#include <cstdint>

namespace leaklab::runtime {

// Bytes and objects currently live through global operator new/delete, as
// counted by the runtime's allocation hook (alloc_hook.cc). Bytes are the
// allocator's usable size, so they match what the allocator holds for them.
// Both stay zero in a binary that does not link the hook.
struct LiveAllocations {
  int64_t bytes = 0;
  int64_t objects = 0;
};
LiveAllocations CurrentLiveAllocations();

// True once the hook has seen an allocation in this process.
bool AllocHookInstalled();

// For memory a scenario manages itself (e.g. a page heap on mmap, like Go's
// runtime heap): counted in live bytes like operator new's, so that
// heap_inuse_bytes covers it. Not counted as objects.
void AccountAllocation(int64_t bytes);
void AccountRelease(int64_t bytes);

// For a scenario that gives memory back to the OS itself (madvise): bytes
// returned and not yet reused, whether the kernel has taken the pages yet
// (MADV_DONTNEED) or not (MADV_FREE). Go's MemStats.HeapReleased counts the
// same way, which is why it can rise while RSS stays where it was.
void AccountReturnedToOs(int64_t bytes);
void AccountReusedFromOs(int64_t bytes);
int64_t ReturnedToOsBytes();

namespace internal {
// Constant-initialised, so they are valid before any static constructor runs.
// Separate cache lines: every thread writes them.
struct alignas(64) PaddedCounter {
  std::atomic<int64_t> value{0};
};
extern PaddedCounter g_live_bytes;
extern PaddedCounter g_live_objects;
extern std::atomic<bool> g_hook_seen;

inline void NoteAllocation(int64_t usable_bytes) {
  g_live_bytes.value.fetch_add(usable_bytes, std::memory_order_relaxed);
  g_live_objects.value.fetch_add(1, std::memory_order_relaxed);
}
inline void NoteRelease(int64_t usable_bytes) {
  g_live_bytes.value.fetch_sub(usable_bytes, std::memory_order_relaxed);
  g_live_objects.value.fetch_sub(1, std::memory_order_relaxed);
}
}  // namespace internal

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_ALLOC_STATS_H_
