#ifndef LEAKLAB_HARNESS_PROCFS_SAMPLER_H_
#define LEAKLAB_HARNESS_PROCFS_SAMPLER_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace leaklab::harness {

// Memory of one process as the kernel sees it, in bytes.
struct ProcMemory {
  int64_t rss_bytes = -1;       // VmRSS from /proc/PID/status
  int64_t anon_bytes = -1;      // Anonymous from /proc/PID/smaps_rollup
  int64_t lazyfree_bytes = -1;  // LazyFree from /proc/PID/smaps_rollup
};

// Reads "<key>:   <n> kB" from procfs text and returns n*1024, or nullopt if
// the key is absent or malformed. `key` must not include the colon.
std::optional<int64_t> FindKilobytesField(std::string_view text, std::string_view key);

// Samples /proc/PID/status and /proc/PID/smaps_rollup through descriptors
// opened once, into a fixed buffer: no allocation, no path lookup per sample,
// so sampling does not disturb what it measures.
class ProcfsSampler {
 public:
  explicit ProcfsSampler(pid_t pid);
  ~ProcfsSampler();
  ProcfsSampler(const ProcfsSampler&) = delete;
  ProcfsSampler& operator=(const ProcfsSampler&) = delete;

  // False when /proc/PID/status could not be opened (no such process).
  bool ok() const { return status_fd_ >= 0; }
  // Fields that could not be read stay -1 (e.g. smaps_rollup on old kernels,
  // or a process that just exited).
  ProcMemory Sample();

 private:
  // Reads the whole file at `fd` from offset 0; returns the text or empty.
  std::string_view ReadAll(int fd);

  int status_fd_ = -1;
  int smaps_fd_ = -1;
  // smaps_rollup is about 1 KB and status about 1.5 KB; 8 KB leaves room.
  char buffer_[8192];
};

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_PROCFS_SAMPLER_H_
