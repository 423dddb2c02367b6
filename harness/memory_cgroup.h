#ifndef LEAKLAB_HARNESS_MEMORY_CGROUP_H_
#define LEAKLAB_HARNESS_MEMORY_CGROUP_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace leaklab::harness {

// A cgroup v1 memory controller group with a limit, for reproducing an OOM
// kill (`leaklab run --mem-limit`). Created under /sys/fs/cgroup/memory,
// removed again by the destructor once no process is left in it.
class MemoryCgroup {
 public:
  static constexpr const char* kRoot = "/sys/fs/cgroup/memory";

  // Creates kRoot/leaklab/<name> with memory.limit_in_bytes = limit_bytes.
  // Throws std::runtime_error saying what is missing (no v1 memory
  // controller, not root, read-only) when that cannot be done.
  MemoryCgroup(const std::string& name, int64_t limit_bytes);
  ~MemoryCgroup();
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  const std::filesystem::path& path() const { return path_; }

  struct Stats {
    int64_t limit_bytes = -1;
    int64_t max_usage_bytes = -1;  // memory.max_usage_in_bytes
    int64_t failcnt = -1;          // times the limit was hit
    int64_t oom_kills = -1;        // "oom_kill" in memory.oom_control (kernel >= 4.13)
  };
  Stats ReadStats() const;

 private:
  std::filesystem::path path_;
};

// Why --mem-limit cannot work on this machine, or nullopt when it can.
std::optional<std::string> MemoryCgroupUnavailable();

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_MEMORY_CGROUP_H_
