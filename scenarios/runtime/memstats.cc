#include "scenarios/runtime/memstats.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "scenarios/runtime/alloc_stats.h"
#include "scenarios/runtime/scenario.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::runtime {
namespace {

// Resident set size from /proc/self/statm (second field, in pages): cheaper
// than parsing /proc/self/status and enough for the server's own report.
int64_t ReadRssBytes() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size_pages = 0, resident_pages = 0;
  if (std::sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2) return 0;
  return static_cast<int64_t>(resident_pages) * ::sysconf(_SC_PAGESIZE);
}

}  // namespace

WorkCounters& Counters() {
  static WorkCounters counters;
  return counters;
}

MemStats TakeMemStats() {
  MemStats s;
  struct mallinfo2 mi = ::mallinfo2();
  // uordblks counts chunks in use in the arenas; hblkhd the chunks that
  // malloc served directly with mmap (large allocations).
  s.malloc_inuse_bytes = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  s.heap_free_bytes = static_cast<int64_t>(mi.fordblks);
  s.heap_mmapped_bytes = static_cast<int64_t>(mi.hblkhd);
  s.heap_released_bytes = ReturnedToOsBytes();
  LiveAllocations live = CurrentLiveAllocations();
  s.live_bytes = live.bytes;
  s.live_objects = live.objects;
  s.live_counted = AllocHookInstalled();
  s.heap_inuse_bytes = s.live_counted ? s.live_bytes : s.malloc_inuse_bytes;
  s.rss_bytes = ReadRssBytes();
  s.workers = WorkerRegistry::Global().Count();
  WorkCounters& c = Counters();
  s.requests_total = c.requests_total.load(std::memory_order_relaxed);
  s.keys_total = c.keys_total.load(std::memory_order_relaxed);
  s.reloads_total = c.reloads_total.load(std::memory_order_relaxed);
  return s;
}

std::string FormatMemStatsJson(const MemStats& s) {
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "{\"heap_inuse_bytes\":%" PRId64 ",\"malloc_inuse_bytes\":%" PRId64
      ",\"heap_free_bytes\":%" PRId64 ",\"heap_mmapped_bytes\":%" PRId64
      ",\"heap_released_bytes\":%" PRId64 ",\"live_bytes\":%" PRId64 ",\"live_objects\":%" PRId64
      ",\"live_counted\":%s,\"rss_bytes\":%" PRId64 ",\"workers\":%" PRId64
      ",\"requests_total\":%" PRIu64 ",\"keys_total\":%" PRIu64 ",\"reloads_total\":%" PRIu64 "}\n",
      s.heap_inuse_bytes, s.malloc_inuse_bytes, s.heap_free_bytes, s.heap_mmapped_bytes,
      s.heap_released_bytes, s.live_bytes, s.live_objects, s.live_counted ? "true" : "false",
      s.rss_bytes, s.workers, s.requests_total, s.keys_total, s.reloads_total);
  return buf;
}

std::string FormatPrometheusMetrics(const MemStats& s) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, double value) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
                  name, value);
    out += buf;
  };
  metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         static_cast<double>(s.rss_bytes));
  metric("leaklab_heap_inuse_bytes", "gauge", "Bytes held by live objects.",
         static_cast<double>(s.heap_inuse_bytes));
  metric("leaklab_malloc_inuse_bytes", "gauge",
         "Bytes in allocator chunks handed out, per glibc mallinfo2 (includes cached chunks).",
         static_cast<double>(s.malloc_inuse_bytes));
  metric("leaklab_heap_free_bytes", "gauge",
         "Free bytes the allocator keeps instead of returning them to the OS.",
         static_cast<double>(s.heap_free_bytes));
  metric("leaklab_heap_mmapped_bytes", "gauge", "Bytes in chunks served directly by mmap.",
         static_cast<double>(s.heap_mmapped_bytes));
  metric("leaklab_heap_released_bytes", "gauge",
         "Bytes returned to the OS with madvise and not reused (like Go's HeapReleased); "
         "MADV_FREE pages among them stay in RSS until the kernel needs them.",
         static_cast<double>(s.heap_released_bytes));
  metric("leaklab_live_bytes", "gauge", "Bytes live through operator new, counted by the runtime.",
         static_cast<double>(s.live_bytes));
  metric("leaklab_live_objects", "gauge", "Objects live through operator new.",
         static_cast<double>(s.live_objects));
  metric("leaklab_workers", "gauge", "Workers registered with the runtime.",
         static_cast<double>(s.workers));
  metric("leaklab_requests_total", "counter", "Business requests handled.",
         static_cast<double>(s.requests_total));
  metric("leaklab_keys_total", "counter", "Distinct keys seen by the scenario.",
         static_cast<double>(s.keys_total));
  metric("leaklab_reloads_total", "counter", "Configuration reloads.",
         static_cast<double>(s.reloads_total));
  return out;
}

ReleaseResult ReleaseFreeMemory(const std::function<void()>& release_scenario_memory) {
  ReleaseResult r;
  r.rss_before_bytes = ReadRssBytes();
  if (release_scenario_memory) release_scenario_memory();
  ::malloc_trim(0);
  r.rss_after_bytes = ReadRssBytes();
  return r;
}

}  // namespace leaklab::runtime
