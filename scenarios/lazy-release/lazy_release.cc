// The lazy-release incident (shared/seeds/lazy-release-incident.txt): after a
// load test a Go 1.15 service's heap was back to tens of MB, yet its RSS stayed
// at about 3 GB and looked like a leak. The runtime had returned the memory
// with madvise(MADV_FREE), which leaves pages in RSS until the kernel is short
// of memory. Nothing leaked; the release policy decides what RSS shows.
//
// Here a burst (/burst?mb=256, the "load test") allocates hundreds of MB in
// 1 MB spans, holds them, then frees all of them. The variants differ only in
// where the spans come from and how freed memory goes back to the OS:
//   madv-free      page heap on mmap, freed spans advised MADV_FREE
//   madv-dontneed  the same page heap, freed spans advised MADV_DONTNEED
//   retain         glibc malloc, configured to keep freed memory in its arena

#include "scenarios/lazy-release/lazy_release.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>

#include "scenarios/runtime/alloc_stats.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::scenarios {
namespace lazy_release {

PageHeap::PageHeap(size_t capacity_bytes, ReturnPolicy policy)
    : policy_(policy),
      span_count_(capacity_bytes / kSpanBytes),
      page_bytes_(static_cast<size_t>(::sysconf(_SC_PAGESIZE))) {
  if (span_count_ == 0 || capacity_bytes % kSpanBytes != 0) {
    throw std::invalid_argument("PageHeap capacity " + std::to_string(capacity_bytes) +
                                " is not a positive multiple of the 1 MB span");
  }
  // Reserve address space only: MAP_NORESERVE because no page costs anything
  // until it is touched, and a 512 MB burst must not need 512 MB of commit.
  void* region = ::mmap(nullptr, capacity_bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (region == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(), "mmap of the page heap's region");
  }
  base_ = static_cast<char*>(region);
  states_.assign(span_count_, SpanState::kUnused);
}

PageHeap::~PageHeap() {
  // Spans still in use leave the live-bytes count with the region.
  Stats s = GetStats();
  if (s.in_use_bytes > 0) runtime::AccountRelease(static_cast<int64_t>(s.in_use_bytes));
  const size_t returned = s.lazy_free_bytes + s.released_bytes;
  if (returned > 0) runtime::AccountReusedFromOs(static_cast<int64_t>(returned));
  ::munmap(base_, span_count_ * kSpanBytes);
}

size_t PageHeap::IndexOf(const char* span) const {
  const auto begin = reinterpret_cast<uintptr_t>(base_);
  const auto p = reinterpret_cast<uintptr_t>(span);
  if (p < begin || p >= begin + span_count_ * kSpanBytes || (p - begin) % kSpanBytes != 0) {
    throw std::invalid_argument("PageHeap::Free: pointer is not a span of this heap");
  }
  return (p - begin) / kSpanBytes;
}

char* PageHeap::Allocate() {
  size_t index = span_count_;
  bool was_returned = false;
  {
    std::lock_guard lock(mu_);
    // Lowest address first, as Go's page allocator does: a freed span is
    // reused before the heap reaches into pages it never touched.
    for (size_t i = 0; i < span_count_; ++i) {
      if (states_[i] != SpanState::kInUse) {
        was_returned = states_[i] != SpanState::kUnused;
        states_[i] = SpanState::kInUse;
        index = i;
        break;
      }
    }
  }
  if (index == span_count_) return nullptr;
  if (was_returned) runtime::AccountReusedFromOs(static_cast<int64_t>(kSpanBytes));
  char* span = base_ + index * kSpanBytes;
  // Write, not read, every page: a read of an untouched or released page maps
  // the shared zero page and adds nothing to RSS, and only a write cancels a
  // pending MADV_FREE on a page the kernel has not taken yet.
  for (size_t offset = 0; offset < kSpanBytes; offset += page_bytes_) {
    *static_cast<volatile char*>(span + offset) = 0;
  }
  runtime::AccountAllocation(static_cast<int64_t>(kSpanBytes));
  return span;
}

void PageHeap::Free(char* span) {
  const size_t index = IndexOf(span);
  {
    std::lock_guard lock(mu_);
    if (states_[index] != SpanState::kInUse) {
      throw std::invalid_argument("PageHeap::Free: span " + std::to_string(index) +
                                  " is not in use");
    }
  }
  // The caller still owns the span here, so the madvise runs outside the lock
  // and Allocate() cannot hand the span out before its pages are advised.
  bool lazy = policy_ == ReturnPolicy::kMadvFree && madv_free_supported_.load();
  if (lazy && ::madvise(span, kSpanBytes, MADV_FREE) != 0) {
    // MADV_FREE came with Linux 4.5; older kernels answer EINVAL. Fall back
    // to MADV_DONTNEED for good, as Go's sysUnused does.
    if (errno != EINVAL) {
      throw std::system_error(errno, std::generic_category(), "madvise(MADV_FREE)");
    }
    madv_free_supported_ = false;
    std::fprintf(stderr, "lazy-release: MADV_FREE unsupported here; using MADV_DONTNEED\n");
    lazy = false;
  }
  if (!lazy && ::madvise(span, kSpanBytes, MADV_DONTNEED) != 0) {
    throw std::system_error(errno, std::generic_category(), "madvise(MADV_DONTNEED)");
  }
  {
    std::lock_guard lock(mu_);
    states_[index] = lazy ? SpanState::kLazyFree : SpanState::kReleased;
  }
  runtime::AccountRelease(static_cast<int64_t>(kSpanBytes));
  // Returned to the OS either way, as Go counts HeapReleased: the runtime
  // cannot tell whether the kernel has taken a MADV_FREE page yet.
  runtime::AccountReturnedToOs(static_cast<int64_t>(kSpanBytes));
}

size_t PageHeap::ReleaseLazilyFreed() {
  size_t released = 0;
  for (size_t i = 0; i < span_count_; ++i) {
    // One span per lock hold (about 0.1 ms of madvise), so that a burst
    // allocating at the same time waits for one span, not for all of them.
    std::lock_guard lock(mu_);
    if (states_[i] != SpanState::kLazyFree) continue;
    // MADV_DONTNEED on a valid private anonymous range does not fail; if it
    // ever did, the span stays lazily free and is retried next time.
    if (::madvise(base_ + i * kSpanBytes, kSpanBytes, MADV_DONTNEED) != 0) continue;
    states_[i] = SpanState::kReleased;
    released += kSpanBytes;
  }
  return released;
}

PageHeap::Stats PageHeap::GetStats() const {
  Stats s;
  s.capacity_bytes = span_count_ * kSpanBytes;
  s.madv_free_supported = madv_free_supported_.load();
  std::lock_guard lock(mu_);
  for (SpanState state : states_) {
    if (state == SpanState::kInUse) s.in_use_bytes += kSpanBytes;
    if (state == SpanState::kLazyFree) s.lazy_free_bytes += kSpanBytes;
    if (state == SpanState::kReleased) s.released_bytes += kSpanBytes;
  }
  return s;
}

}  // namespace lazy_release

namespace {

using lazy_release::kMaxBurstMb;
using lazy_release::PageHeap;
using lazy_release::ReturnPolicy;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kSpanBytes = PageHeap::kSpanBytes;
constexpr int64_t kDefaultBurstMb = 256;
// The burst's shape: allocate over 0.8 s (a ramp the 100 ms sampler sees as
// eight steps), then hold for 1 s (the load test), then free everything.
constexpr milliseconds kAllocateOver{800};
constexpr milliseconds kHold{1000};

// Where a burst's 1 MB spans come from and where they go back.
class SpanSource {
 public:
  virtual ~SpanSource() = default;
  // A span whose pages are resident, or nullptr when there is no room.
  virtual char* Take() = 0;
  virtual void Give(char* span) = 0;
  // /debug/release: give lazily kept memory back to the OS; returns bytes.
  virtual size_t Release() = 0;
  // The source's own view, as a JSON object's members (no braces).
  virtual std::string StatsJsonMembers() const = 0;
};

class PageHeapSource : public SpanSource {
 public:
  explicit PageHeapSource(ReturnPolicy policy)
      : heap_(static_cast<size_t>(kMaxBurstMb) * kSpanBytes, policy) {}

  char* Take() override { return heap_.Allocate(); }
  void Give(char* span) override { heap_.Free(span); }
  size_t Release() override { return heap_.ReleaseLazilyFreed(); }

  std::string StatsJsonMembers() const override {
    PageHeap::Stats s = heap_.GetStats();
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "\"allocator\":\"page heap (%s)\",\"madv_free_supported\":%s,"
                  "\"capacity_bytes\":%zu,\"in_use_bytes\":%zu,\"lazy_free_bytes\":%zu,"
                  "\"released_bytes\":%zu",
                  heap_.policy() == ReturnPolicy::kMadvFree ? "MADV_FREE" : "MADV_DONTNEED",
                  s.madv_free_supported ? "true" : "false", s.capacity_bytes, s.in_use_bytes,
                  s.lazy_free_bytes, s.released_bytes);
    return buf;
  }

 private:
  PageHeap heap_;
};

// glibc's malloc keeps what it is told to keep. Each mallopt stands for one
// reason a glibc process holds on to freed memory; together they make the
// retention certain instead of dependent on heap layout:
//  1. M_ARENA_MAX=1: the burst thread would otherwise get an arena of its own,
//     built of 64 MB sub-heaps with their own rules for shrinking; one arena
//     puts the burst's chunks in the main heap, where 2 and 3 alone decide.
//  2. M_MMAP_THRESHOLD=4 MB: by default a 1 MB request is above the 128 KB
//     threshold and served by its own mmap, which free() unmaps at once.
//  3. M_TRIM_THRESHOLD=-1: free() never shrinks the heap's top (by default it
//     does once 128 KB, or twice the dynamic mmap threshold, sits free there).
// Must run before the server starts its threads: the arena limit applies to
// threads that have not yet picked an arena.
bool ConfigureGlibcToRetain() {
  constexpr int kMmapThresholdBytes = 4 << 20;
  bool ok = ::mallopt(M_ARENA_MAX, 1) == 1;
  ok = ::mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) == 1 && ok;
  ok = ::mallopt(M_TRIM_THRESHOLD, -1) == 1 && ok;
  return ok;
}

class MallocSource : public SpanSource {
 public:
  MallocSource() : page_bytes_(static_cast<size_t>(::sysconf(_SC_PAGESIZE))) {}

  char* Take() override {
    // new[] goes through the runtime's operator new hook, which counts the
    // chunk in heap_inuse_bytes; no AccountAllocation here.
    char* span = new char[kSpanBytes];
    for (size_t offset = 0; offset < kSpanBytes; offset += page_bytes_) {
      *static_cast<volatile char*>(span + offset) = 0;
    }
    held_bytes_.fetch_add(kSpanBytes, std::memory_order_relaxed);
    return span;
  }

  void Give(char* span) override {
    delete[] span;
    held_bytes_.fetch_sub(kSpanBytes, std::memory_order_relaxed);
  }

  // malloc_trim, which returns the arena's free pages, is the runtime's part
  // of /debug/release (it runs right after this).
  size_t Release() override { return 0; }

  std::string StatsJsonMembers() const override {
    return "\"allocator\":\"glibc malloc (one arena, no trim)\",\"in_use_bytes\":" +
           std::to_string(held_bytes_.load(std::memory_order_relaxed));
  }

 private:
  const size_t page_bytes_;
  std::atomic<size_t> held_bytes_{0};
};

// Sleeps until `deadline` or until `stop` is requested; true if it slept the
// whole way.
bool SleepUntil(Clock::time_point deadline, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

// The load test: one at a time, on a thread of its own, so /burst answers at
// once and no I/O thread is held for the seconds it runs.
class Burst {
 public:
  explicit Burst(SpanSource& source) : source_(source) {}
  // Stops a running burst (its spans are freed) and waits for it.
  ~Burst() {
    std::lock_guard lock(mu_);
    thread_ = {};
  }
  Burst(const Burst&) = delete;
  Burst& operator=(const Burst&) = delete;

  // False when a burst is already running.
  bool TryStart(int64_t mb) {
    bool idle = false;
    if (!running_.compare_exchange_strong(idle, true)) return false;
    std::lock_guard lock(mu_);
    // The previous burst cleared running_ as its last step: this join waits
    // for a thread that is returning, microseconds at most.
    if (thread_.joinable()) thread_.join();
    try {
      thread_ = std::jthread([this, mb](std::stop_token stop) { Run(stop, mb); });
    } catch (...) {
      running_ = false;
      throw;
    }
    return true;
  }

  const char* phase() const { return phase_.load(); }

 private:
  void Run(std::stop_token stop, int64_t mb) {
    {
      runtime::WorkerScope worker("lazy_release::Burst::Run");
      std::vector<char*> spans;
      spans.reserve(static_cast<size_t>(mb));
      // 1. Allocate mb spans, paced evenly over kAllocateOver, filling each
      //    (the request data of the load test).
      phase_ = "allocating";
      const Clock::time_point start = Clock::now();
      for (int64_t i = 0; i < mb && !stop.stop_requested(); ++i) {
        char* span = source_.Take();
        if (span == nullptr) break;
        std::memset(span, static_cast<int>(i % 251) + 1, kSpanBytes);
        spans.push_back(span);
        SleepUntil(start + kAllocateOver * (i + 1) / mb, stop);
      }
      // 2. Hold it all while the load test runs.
      phase_ = "holding";
      worker.WaitingAt("lazy_release::Burst::Run (holding)");
      SleepUntil(Clock::now() + kHold, stop);
      // 3. The load test is over: free everything.
      phase_ = "freeing";
      worker.Running();
      for (char* span : spans) source_.Give(span);
      phase_ = "idle";
    }
    running_ = false;
  }

  SpanSource& source_;
  std::atomic<bool> running_{false};
  std::atomic<const char*> phase_{"idle"};
  std::mutex mu_;        // guards thread_ (start and join)
  std::jthread thread_;  // the current or last burst
};

// `mb` from the query: absent means the default; otherwise 1..kMaxBurstMb.
std::optional<int64_t> ParseBurstMb(const runtime::Request& request, std::string* error) {
  std::optional<std::string_view> text = request.QueryParam("mb");
  if (!text) return kDefaultBurstMb;
  int64_t mb = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), mb);
  if (ec != std::errc() || end != text->data() + text->size()) {
    *error = "mb=" + std::string(*text) + " is not a whole number of MB\n";
    return std::nullopt;
  }
  if (mb < 1 || mb > kMaxBurstMb) {
    *error = "mb=" + std::to_string(mb) + " is out of range: a burst is 1 to " +
             std::to_string(kMaxBurstMb) + " MB (the lab keeps a run to a few hundred MB)\n";
    return std::nullopt;
  }
  return mb;
}

class LazyRelease : public runtime::Scenario {
 public:
  LazyRelease(std::string variant, std::unique_ptr<SpanSource> source)
      : variant_(std::move(variant)), source_(std::move(source)), burst_(*source_) {}

  runtime::Response Handle(const runtime::Request& request) override {
    if (request.path == "/burst") {
      if (request.method != "GET" && request.method != "POST") {
        return {405, "text/plain", "/burst takes GET or POST\n"};
      }
      std::string error;
      std::optional<int64_t> mb = ParseBurstMb(request, &error);
      if (!mb) return {400, "text/plain", error};
      if (!burst_.TryStart(*mb)) {
        return {409, "text/plain",
                std::string("a burst is already running (") + burst_.phase() +
                    "); try again when it is idle\n"};
      }
      return {202, "text/plain",
              "burst of " + std::to_string(*mb) + " MB started: allocate over " +
                  std::to_string(kAllocateOver.count()) + " ms, hold " +
                  std::to_string(kHold.count()) + " ms, then free it all\n"};
    }
    if (request.path == "/stats") {
      return {200, "application/json",
              "{\"variant\":\"" + variant_ + "\",\"burst\":\"" + burst_.phase() + "\"," +
                  source_->StatsJsonMembers() + "}\n"};
    }
    return {404, "text/plain", "try /burst?mb=256 or /stats\n"};
  }

  void ReleaseMemory() override {
    size_t released = source_->Release();
    if (released > 0) {
      std::fprintf(stderr, "lazy-release: released %zu MB of lazily freed spans (MADV_DONTNEED)\n",
                   released / kSpanBytes);
    }
  }

 private:
  const std::string variant_;
  const std::unique_ptr<SpanSource> source_;
  Burst burst_;  // after source_: destroyed first, so a running burst frees into a live source
};

}  // namespace

runtime::ScenarioInfo LazyReleaseInfo() {
  runtime::ScenarioInfo info;
  info.name = "lazy-release";
  info.description =
      "a 256 MB burst is freed; RSS stays up or drops by release policy (not a leak)";
  info.variants = {
      {"madv-free", "page heap returns freed spans with MADV_FREE: RSS stays up, LazyFree shows it",
       "lazy-release"},
      {"madv-dontneed", "page heap returns freed spans with MADV_DONTNEED: RSS drops at once",
       "no-leak"},
      {"retain", "glibc malloc keeps freed chunks in its arena (no trim): heap_free_bytes shows it",
       "lazy-release"},
  };
  // No background load: the one burst is the load test, and what matters is
  // what RSS does for the ten seconds after it. The burst starts at 1.5 s,
  // past the analyzer's warm-up (the first 10 % of the run), and is freed by
  // about 3.3 s.
  info.load.path_template = "/stats";
  info.load.connections = 0;
  info.load.schedule =
      "idle 12s; event burst GET /burst?mb=" + std::to_string(kDefaultBurstMb) + " at 1500ms";
  info.create = [](std::string_view variant) -> std::unique_ptr<runtime::Scenario> {
    std::unique_ptr<SpanSource> source;
    if (variant == "retain") {
      if (!ConfigureGlibcToRetain()) {
        std::fprintf(stderr, "lazy-release: a mallopt failed; glibc may return memory anyway\n");
      }
      source = std::make_unique<MallocSource>();
    } else {
      source = std::make_unique<PageHeapSource>(
          variant == "madv-free" ? ReturnPolicy::kMadvFree : ReturnPolicy::kMadvDontneed);
    }
    return std::make_unique<LazyRelease>(std::string(variant), std::move(source));
  };
  return info;
}

}  // namespace leaklab::scenarios
