#ifndef LEAKLAB_SCENARIOS_LAZY_RELEASE_LAZY_RELEASE_H_
#define LEAKLAB_SCENARIOS_LAZY_RELEASE_LAZY_RELEASE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// A burst allocates hundreds of MB and frees all of it; the variants differ
// only in how the freed memory goes back to the OS (MADV_FREE, MADV_DONTNEED,
// or kept by glibc). Not a leak in any variant. See README.md beside this file.
runtime::ScenarioInfo LazyReleaseInfo();

namespace lazy_release {

// The largest burst /burst accepts, and the page heap's reserved size: twice
// the default 256 MB burst, and still within the lab's rule that one run takes
// a few hundred MB at most.
inline constexpr int64_t kMaxBurstMb = 512;

// How PageHeap::Free hands a span's pages back to the OS.
enum class ReturnPolicy {
  // Lazy: the kernel may take the pages when it is short of memory; until
  // then they stay mapped and count in RSS (LazyFree in /proc/PID/smaps).
  // Go 1.12 to 1.15 on Linux >= 4.5.
  kMadvFree,
  // Eager: the pages are unmapped at once and RSS drops; touching them again
  // faults in zero pages. Go before 1.12 and from 1.16 (GODEBUG=madvdontneed=1).
  kMadvDontneed,
};

// A small page heap in the manner of Go's runtime heap: one region reserved
// with mmap at construction, handed out in fixed 1 MB spans, lowest address
// first (so freed spans are reused before fresh ones). A freed span stays
// mapped for reuse; its pages go back to the OS by madvise per the policy.
// Live spans are reported to the runtime (AccountAllocation), so they show in
// heap_inuse_bytes like operator new's memory. Thread-safe.
class PageHeap {
 public:
  static constexpr size_t kSpanBytes = size_t{1} << 20;

  struct Stats {
    size_t capacity_bytes = 0;
    size_t in_use_bytes = 0;
    // Freed with MADV_FREE and not released since: the OS may take them, but
    // until it does they are resident. Go counted these in HeapReleased.
    size_t lazy_free_bytes = 0;
    // Freed and released with MADV_DONTNEED: no longer resident.
    size_t released_bytes = 0;
    // False once the kernel refused MADV_FREE (Linux < 4.5) and the heap fell
    // back to MADV_DONTNEED, as Go's runtime does.
    bool madv_free_supported = true;
  };

  // `capacity_bytes` must be a positive multiple of kSpanBytes. Throws
  // std::system_error when the region cannot be mapped.
  PageHeap(size_t capacity_bytes, ReturnPolicy policy);
  ~PageHeap();
  PageHeap(const PageHeap&) = delete;
  PageHeap& operator=(const PageHeap&) = delete;

  // A span of kSpanBytes whose every page has been written, so it is resident
  // (its contents are otherwise unspecified, as malloc's are); nullptr when
  // all spans are in use.
  char* Allocate();
  // Gives back a span from Allocate(). Throws std::invalid_argument for any
  // other pointer (a bug in the caller, not a runtime condition).
  void Free(char* span);
  // Like Go's debug.FreeOSMemory under GODEBUG=madvdontneed=1: MADV_DONTNEED
  // on every span that was freed lazily, so its pages leave RSS now rather
  // than when the kernel runs short. Returns the bytes released.
  size_t ReleaseLazilyFreed();

  Stats GetStats() const;
  ReturnPolicy policy() const { return policy_; }

 private:
  enum class SpanState : uint8_t { kUnused, kInUse, kLazyFree, kReleased };

  size_t IndexOf(const char* span) const;

  const ReturnPolicy policy_;
  const size_t span_count_;
  const size_t page_bytes_;
  char* base_ = nullptr;
  std::atomic<bool> madv_free_supported_{true};
  mutable std::mutex mu_;
  std::vector<SpanState> states_;  // guarded by mu_; one per span
};

}  // namespace lazy_release
}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_LAZY_RELEASE_LAZY_RELEASE_H_
