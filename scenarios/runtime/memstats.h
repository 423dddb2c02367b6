#ifndef LEAKLAB_SCENARIOS_RUNTIME_MEMSTATS_H_
#define LEAKLAB_SCENARIOS_RUNTIME_MEMSTATS_H_

// The scenario server's view of its own memory: the analogue of Go's
// runtime.MemStats, served at /debug/memstats and /metrics.

#include <cstdint>
#include <functional>
#include <string>

namespace leaklab::runtime {

struct MemStats {
  // Bytes held by live objects: the hook's live_bytes when it is linked,
  // else the allocator's in-use figure. The allocator's own figure is not
  // used when the hook is there because it also counts chunks parked in
  // glibc's per-thread caches, which drift upward by a few KB/s under load
  // while the program holds nothing more.
  int64_t heap_inuse_bytes = 0;
  // From glibc mallinfo2(): bytes in chunks handed out (arena + mmapped),
  // free bytes the allocator keeps, and bytes in mmapped chunks.
  int64_t malloc_inuse_bytes = 0;
  int64_t heap_free_bytes = 0;
  int64_t heap_mmapped_bytes = 0;
  // Bytes the scenario returned to the OS with madvise and has not reused
  // (Go's HeapReleased); memory glibc trims is not counted.
  int64_t heap_released_bytes = 0;
  // Counted by the runtime's operator new/delete hook.
  int64_t live_bytes = 0;
  int64_t live_objects = 0;
  bool live_counted = false;
  // From /proc/self/statm.
  int64_t rss_bytes = 0;
  int64_t workers = 0;
  uint64_t requests_total = 0;
  uint64_t keys_total = 0;
  uint64_t reloads_total = 0;
};

MemStats TakeMemStats();

// /debug/memstats body: one JSON object, field names as in MemStats.
std::string FormatMemStatsJson(const MemStats& stats);

// /metrics body in the Prometheus text exposition format (version 0.0.4).
std::string FormatPrometheusMetrics(const MemStats& stats);

// Returns freed memory to the OS (glibc malloc_trim), like Go's
// debug.FreeOSMemory. Returns the RSS before and after, in bytes.
struct ReleaseResult {
  int64_t rss_before_bytes = 0;
  int64_t rss_after_bytes = 0;
};
// `release_scenario_memory` runs between the two RSS readings.
ReleaseResult ReleaseFreeMemory(const std::function<void()>& release_scenario_memory);

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_MEMSTATS_H_
