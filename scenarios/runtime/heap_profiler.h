#ifndef LEAKLAB_SCENARIOS_RUNTIME_HEAP_PROFILER_H_
#define LEAKLAB_SCENARIOS_RUNTIME_HEAP_PROFILER_H_

// The scenario runtime's sampling heap profiler, modelled on Go's runtime
// (runtime/malloc.go nextSample, runtime/mprof.go) and tcmalloc's sampler:
// allocation bytes are sampled as a Poisson process with mean distance
// SampleRate() bytes, so an object of size s is sampled with probability
// 1 - exp(-s / rate), and the profile can be un-sampled exactly
// (profiles.cc). The allocation hook (alloc_hook.cc) calls OnAllocation and
// OnRelease for every operator new / delete.
//
// Cost when an allocation is not sampled: one thread-local subtraction and a
// branch. Cost of a delete that is not of a sampled object: one relaxed load
// while no sampled object is live, else a hash and one more relaxed load (a
// counting filter) with rare false positives taking the lock.
//
// Sizes are the sizes the program asked for (not the allocator's usable size),
// so estimates compare with what the code allocates.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace leaklab::runtime::heap_profiler {

// Go's runtime.MemProfileRate default and tcmalloc's default sample period.
inline constexpr int64_t kDefaultSampleRateBytes = 512 * 1024;

// Frames captured per sampled allocation, including the profiler's and the
// allocation hook's own frames (about 3-5), which profiles.cc drops. Go keeps
// 32 frames of the caller's stack; this leaves at least as many.
inline constexpr int kMaxFrames = 40;

// Distinct allocation stacks kept. Allocations from further stacks are
// aggregated into one overflow record with no frames; 4096 stacks is far more
// than a scenario server has allocation sites.
inline constexpr int kMaxStacks = 4096;

// Sampled objects tracked while live. At the default rate each sampled object
// stands for about 512 KiB, so this covers about 8 GiB of live heap; at tiny
// rates (tests) it may fill: further samples are then counted as allocated and
// freed at once, and the profile says so in a comment.
inline constexpr int kMaxLiveSamples = 1 << 14;

// All the profiler's tables take about 1.8 MiB, written once at startup: the
// server's RSS then holds them from the start instead of growing as samples
// touch new pages, which the analyzers would see as growth outside the heap.

// Sets the mean sampling distance in bytes; 0 turns sampling off. Each thread
// picks up a new rate when its current countdown ends (at most a few sample
// distances later), as in Go. Profiles mix rates if it is changed while
// objects are live; set it once at startup.
void SetSampleRate(int64_t rate_bytes);
int64_t SampleRate();

// One allocation stack and its sampled (not yet un-sampled) counts.
struct StackRecord {
  std::array<uintptr_t, kMaxFrames> return_addresses{};  // innermost first
  int depth = 0;                                         // 0 for the overflow record
  int64_t alloc_objects = 0;
  int64_t alloc_bytes = 0;
  int64_t inuse_objects = 0;
  int64_t inuse_bytes = 0;
};

struct HeapSnapshot {
  int64_t sample_rate_bytes = 0;
  std::vector<StackRecord> records;
  // Samples that could not be tracked until freed (kMaxLiveSamples reached).
  int64_t untracked_samples = 0;
};

// Copies the profiler's tables; allocates only outside its lock, so it may be
// called from any thread, including while the profiler samples.
HeapSnapshot TakeSnapshot();

namespace internal {

// Bytes this thread may allocate before the next sample; below zero means the
// allocation that made it so is sampled. Constant-initialised, so reading it
// needs no TLS init check.
extern constinit thread_local int64_t t_bytes_until_sample;

// Number of sampled objects live now, and a counting filter over their
// addresses: a free of an address whose filter counter is 0 is certainly not
// of a sampled object. Both are written under the profiler's lock only.
inline constexpr int kFilterBits = 16;
extern std::atomic<int64_t> g_live_samples;
extern std::atomic<uint16_t> g_filter[1 << kFilterBits];

// Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4): the top bits of p * 2^64/phi.
inline uint64_t HashPointer(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)) * 0x9E3779B97F4A7C15ull;
}
inline size_t FilterIndex(const void* p) {
  return static_cast<size_t>(HashPointer(p) >> (64 - kFilterBits));
}

// The slow paths.
void SampleAllocation(void* p, size_t size);
void ForgetSampled(void* p);

// Test hook: reseeds this thread's generator and draws a new countdown, so a
// statistics test is reproducible.
void ReseedThisThread(uint64_t seed);

}  // namespace internal

// Called by the allocation hook after a successful allocation of `size`
// requested bytes at `p`.
inline void OnAllocation(void* p, size_t size) {
  internal::t_bytes_until_sample -= static_cast<int64_t>(size);
  if (internal::t_bytes_until_sample < 0) [[unlikely]] {
    internal::SampleAllocation(p, size);
  }
}

// Called by the allocation hook before `p` is given back to the allocator
// (before, so that the address cannot be reused and sampled meanwhile).
inline void OnRelease(void* p) {
  if (internal::g_live_samples.load(std::memory_order_relaxed) == 0) return;
  if (internal::g_filter[internal::FilterIndex(p)].load(std::memory_order_relaxed) == 0) return;
  internal::ForgetSampled(p);
}

}  // namespace leaklab::runtime::heap_profiler

#endif  // LEAKLAB_SCENARIOS_RUNTIME_HEAP_PROFILER_H_
