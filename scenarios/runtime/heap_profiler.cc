#include "scenarios/runtime/heap_profiler.h"

#include <execinfo.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>

namespace leaklab::runtime::heap_profiler {
namespace internal {

constinit thread_local int64_t t_bytes_until_sample = 0;
std::atomic<int64_t> g_live_samples{0};
std::atomic<uint16_t> g_filter[1 << kFilterBits];

}  // namespace internal

namespace {

using internal::FilterIndex;
using internal::g_filter;
using internal::g_live_samples;
using internal::HashPointer;
using internal::t_bytes_until_sample;

// The filter's counters must not wrap: at most kMaxLiveSamples share one.
static_assert(kMaxLiveSamples <= UINT16_MAX);

std::atomic<int64_t> g_rate_bytes{kDefaultSampleRateBytes};

// While sampling is off, threads look at the rate again after this many bytes,
// so that turning it on takes effect without touching other threads' state.
constexpr int64_t kOffRecheckBytes = int64_t{64} << 20;
// A countdown longer than this is cut: it only happens for absurd rates, and
// keeps the subtraction in OnAllocation far from overflow.
constexpr int64_t kMaxCountdownBytes = int64_t{1} << 62;

// Set while this thread is inside the profiler, so that allocations the
// profiler itself causes are not sampled (no recursion, no self-deadlock).
constinit thread_local bool t_in_profiler = false;
constinit thread_local bool t_seeded = false;
constinit thread_local uint64_t t_rng_state = 0;
std::atomic<uint64_t> g_thread_seeds{0};

// splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): turns any seed into a well-mixed xorshift state.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void Seed(uint64_t seed) {
  t_rng_state = SplitMix64(seed);
  if (t_rng_state == 0) t_rng_state = 1;  // xorshift's one forbidden state
  t_seeded = true;
}

// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
// generators, scrambled", ACM TOMS 2016): a few cycles, no allocation, ample
// quality for drawing sample distances.
uint64_t NextRandom() {
  if (!t_seeded) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    Seed(static_cast<uint64_t>(now) ^ reinterpret_cast<uintptr_t>(&t_rng_state) ^
         (g_thread_seeds.fetch_add(1, std::memory_order_relaxed) << 32));
  }
  uint64_t x = t_rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t_rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

// The distance to the next sample point of a Poisson process with mean
// `rate_bytes`: exponentially distributed, -ln(U) * rate with U uniform on
// (0, 1] (inverse transform sampling), as in Go's fastexprand and tcmalloc's
// Sampler::PickNextSamplingPoint.
int64_t DrawCountdown(int64_t rate_bytes) {
  if (rate_bytes <= 0) return kOffRecheckBytes;
  // 53 random bits, shifted by one so that U is never 0.
  const double u = static_cast<double>((NextRandom() >> 11) + 1) * 0x1.0p-53;
  const double bytes = -std::log(u) * static_cast<double>(rate_bytes);
  if (bytes >= static_cast<double>(kMaxCountdownBytes)) return kMaxCountdownBytes;
  return static_cast<int64_t>(bytes);
}

// Aggregated counts of one allocation stack, like a bucket of Go's mprof.go.
struct Bucket {
  uint64_t hash;
  int depth;
  uintptr_t frames[kMaxFrames];
  int64_t alloc_objects;
  int64_t alloc_bytes;
  int64_t free_objects;
  int64_t free_bytes;
};

// A sampled object that is still live; 16 bytes, so the table stays small.
struct LiveEntry {
  uintptr_t address;     // 0 = empty slot
  uint64_t size : 44;    // bytes; 16 TiB is beyond any allocation
  uint64_t bucket : 20;  // index into g_buckets; kMaxStacks = the overflow bucket
};
static_assert(sizeof(LiveEntry) == 16);
static_assert(kMaxStacks < (1 << 20));

// Open-addressing tables at load factor <= 1/2, so that linear probes stay
// short (Knuth, TAOCP vol. 3, 6.4, Algorithm L; deletion by Algorithm R).
constexpr int kStackIndexBits = 13;
constexpr int kLiveBits = 15;
static_assert((1 << kStackIndexBits) >= 2 * kMaxStacks);
static_assert((1 << kLiveBits) >= 2 * kMaxLiveSamples);
constexpr size_t kLiveMask = (size_t{1} << kLiveBits) - 1;

// All profiler state lives in zero-initialised static storage: nothing here is
// allocated through operator new (which would recurse into the profiler), and
// untouched pages cost no memory. Guarded by g_mu; samples are rare (one per
// 512 KiB by default), so one lock is enough.
std::mutex g_mu;
Bucket g_buckets[kMaxStacks];
Bucket g_overflow_bucket;                     // stacks beyond kMaxStacks
int g_bucket_count = 0;                       // guarded by g_mu
std::atomic<int> g_bucket_count_hint{0};      // for sizing snapshots outside the lock
int32_t g_stack_index[1 << kStackIndexBits];  // bucket index + 1; 0 = empty
LiveEntry g_live[1 << kLiveBits];
int64_t g_untracked_samples = 0;  // guarded by g_mu

uint64_t HashStack(void* const* frames, int depth) {
  // FNV-1a over the addresses (Fowler, Noll, Vo), then one splitmix round so
  // that the top bits used for indexing are well mixed.
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < depth; ++i) {
    h ^= reinterpret_cast<uintptr_t>(frames[i]);
    h *= 0x100000001b3ull;
  }
  return SplitMix64(h);
}

// Requires g_mu.
Bucket& FindOrAddBucket(uint64_t hash, void* const* frames, int depth, int32_t& index) {
  constexpr size_t kMask = (size_t{1} << kStackIndexBits) - 1;
  for (size_t i = hash >> (64 - kStackIndexBits);; i = (i + 1) & kMask) {
    const int32_t slot = g_stack_index[i];
    if (slot == 0) {
      if (g_bucket_count == kMaxStacks) {
        index = -1;
        return g_overflow_bucket;
      }
      index = g_bucket_count++;
      g_bucket_count_hint.store(g_bucket_count, std::memory_order_relaxed);
      Bucket& b = g_buckets[index];
      b.hash = hash;
      b.depth = depth;
      for (int f = 0; f < depth; ++f) b.frames[f] = reinterpret_cast<uintptr_t>(frames[f]);
      g_stack_index[i] = index + 1;
      return b;
    }
    Bucket& b = g_buckets[slot - 1];
    if (b.hash == hash && b.depth == depth &&
        std::memcmp(b.frames, frames, sizeof(uintptr_t) * static_cast<size_t>(depth)) == 0) {
      index = slot - 1;
      return b;
    }
  }
}

Bucket& BucketAt(uint64_t index) {
  return index == kMaxStacks ? g_overflow_bucket : g_buckets[index];
}

size_t LiveHome(uintptr_t address) {
  return static_cast<size_t>(HashPointer(reinterpret_cast<void*>(address)) >> (64 - kLiveBits));
}

// Requires g_mu. Returns the slot of `address`, or -1.
int64_t FindLive(uintptr_t address) {
  for (size_t i = LiveHome(address); g_live[i].address != 0; i = (i + 1) & kLiveMask) {
    if (g_live[i].address == address) return static_cast<int64_t>(i);
  }
  return -1;
}

// Requires g_mu. Algorithm R (TAOCP vol. 3, 6.4): empties slot i and moves
// later entries of the probe run back, so no tombstones accumulate.
void EraseLive(size_t i) {
  size_t j = i;
  for (;;) {
    g_live[i].address = 0;
    for (;;) {
      j = (j + 1) & kLiveMask;
      if (g_live[j].address == 0) return;
      const size_t k = LiveHome(g_live[j].address);
      // Entry j stays if its home k lies cyclically in (i, j].
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) break;
    }
    g_live[i] = g_live[j];
    i = j;
  }
}

void Record(void* p, size_t size) {
  void* frames[kMaxFrames];
  const int depth = backtrace(frames, kMaxFrames);
  const uint64_t hash = HashStack(frames, depth);
  const auto address = reinterpret_cast<uintptr_t>(p);
  const auto bytes = static_cast<int64_t>(size);

  std::lock_guard<std::mutex> lock(g_mu);
  int32_t index = -1;
  Bucket& bucket = FindOrAddBucket(hash, frames, depth, index);
  ++bucket.alloc_objects;
  bucket.alloc_bytes += bytes;
  const int64_t live = g_live_samples.load(std::memory_order_relaxed);
  if (live >= kMaxLiveSamples) {
    // Cannot follow it until freed: count it as freed now, so that in-use
    // figures err low rather than grow without bound.
    ++bucket.free_objects;
    bucket.free_bytes += bytes;
    ++g_untracked_samples;
    return;
  }
  size_t i = LiveHome(address);
  while (g_live[i].address != 0) i = (i + 1) & kLiveMask;
  g_live[i].address = address;
  g_live[i].size = static_cast<uint64_t>(bytes);
  g_live[i].bucket = index < 0 ? uint64_t{kMaxStacks} : static_cast<uint64_t>(index);
  std::atomic<uint16_t>& filter = g_filter[FilterIndex(p)];
  filter.store(filter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  g_live_samples.store(live + 1, std::memory_order_relaxed);
}

// Writes every page of the tables once (see heap_profiler.h: constant RSS
// rather than growth), and makes backtrace() load libgcc's unwinder (dlopen,
// malloc), which it does on its first call, now rather than inside the first
// sampled allocation.
[[maybe_unused]] const bool kProfilerReady = [] {
  constexpr size_t kPage = 4096;
  // Rewrites a byte per page with its own value: allocations in earlier
  // static initialisers may already have been sampled into the tables.
  auto touch = [](void* begin, size_t bytes) {
    auto* p = static_cast<volatile unsigned char*>(static_cast<void*>(begin));
    for (size_t off = 0; off < bytes; off += kPage) p[off] = p[off];
  };
  std::lock_guard<std::mutex> lock(g_mu);
  touch(g_buckets, sizeof g_buckets);
  touch(g_stack_index, sizeof g_stack_index);
  touch(g_live, sizeof g_live);
  touch(g_filter, sizeof g_filter);
  void* frame[1];
  return backtrace(frame, 1) >= 0;
}();

}  // namespace

namespace internal {

void SampleAllocation(void* p, size_t size) {
  // Allocations made by the profiler itself stay unsampled; the countdown
  // stays negative, so the next allocation outside the profiler is sampled.
  if (t_in_profiler) return;
  t_in_profiler = true;
  const int64_t rate = g_rate_bytes.load(std::memory_order_relaxed);
  if (!t_seeded) {
    // A thread's first allocation: the countdown was never drawn (it starts
    // at 0). Draw it, then count this allocation against it.
    t_bytes_until_sample = DrawCountdown(rate) - static_cast<int64_t>(size);
    if (t_bytes_until_sample >= 0 || rate <= 0) {
      t_in_profiler = false;
      return;
    }
  }
  t_bytes_until_sample = DrawCountdown(rate);
  if (rate > 0) Record(p, size);
  t_in_profiler = false;
}

void ForgetSampled(void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_mu);
  const int64_t slot = FindLive(address);
  if (slot < 0) return;  // a filter false positive: not a sampled object
  const LiveEntry entry = g_live[slot];
  Bucket& bucket = BucketAt(entry.bucket);
  ++bucket.free_objects;
  bucket.free_bytes += static_cast<int64_t>(entry.size);
  EraseLive(static_cast<size_t>(slot));
  std::atomic<uint16_t>& filter = g_filter[FilterIndex(p)];
  filter.store(filter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  g_live_samples.store(g_live_samples.load(std::memory_order_relaxed) - 1,
                       std::memory_order_relaxed);
}

void ReseedThisThread(uint64_t seed) {
  Seed(seed);
  t_bytes_until_sample = DrawCountdown(g_rate_bytes.load(std::memory_order_relaxed));
}

}  // namespace internal

void SetSampleRate(int64_t rate_bytes) {
  g_rate_bytes.store(rate_bytes < 0 ? 0 : rate_bytes, std::memory_order_relaxed);
  // The calling thread (usually main, at startup) switches at once.
  t_in_profiler = true;
  t_bytes_until_sample = DrawCountdown(rate_bytes);
  t_in_profiler = false;
}

int64_t SampleRate() { return g_rate_bytes.load(std::memory_order_relaxed); }

HeapSnapshot TakeSnapshot() {
  HeapSnapshot snapshot;
  snapshot.sample_rate_bytes = SampleRate();
  // Reserve outside the lock (this thread's allocation may be sampled, which
  // takes the lock), then copy under it without allocating; retry if the
  // table grew in between.
  for (;;) {
    snapshot.records.clear();
    snapshot.records.reserve(
        static_cast<size_t>(g_bucket_count_hint.load(std::memory_order_relaxed)) + 17);
    std::lock_guard<std::mutex> lock(g_mu);
    if (static_cast<size_t>(g_bucket_count) + 1 > snapshot.records.capacity()) continue;
    auto copy = [&snapshot](const Bucket& b) {
      if (b.alloc_objects == 0) return;
      StackRecord& r = snapshot.records.emplace_back();
      r.depth = b.depth;
      std::memcpy(r.return_addresses.data(), b.frames,
                  sizeof(uintptr_t) * static_cast<size_t>(b.depth));
      r.alloc_objects = b.alloc_objects;
      r.alloc_bytes = b.alloc_bytes;
      r.inuse_objects = b.alloc_objects - b.free_objects;
      r.inuse_bytes = b.alloc_bytes - b.free_bytes;
    };
    for (int i = 0; i < g_bucket_count; ++i) copy(g_buckets[i]);
    copy(g_overflow_bucket);
    snapshot.untracked_samples = g_untracked_samples;
    return snapshot;
  }
}

}  // namespace leaklab::runtime::heap_profiler
