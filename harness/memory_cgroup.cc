#include "harness/memory_cgroup.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;

int64_t ReadInt(const fs::path& file) {
  std::ifstream in(file);
  int64_t v = -1;
  if (!(in >> v)) return -1;
  return v;
}

// "oom_kill 3" from memory.oom_control.
int64_t ReadOomKills(const fs::path& file) {
  std::ifstream in(file);
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return -1;
}

}  // namespace

std::optional<std::string> MemoryCgroupUnavailable() {
  const fs::path root = MemoryCgroup::kRoot;
  if (!fs::exists(root / "memory.limit_in_bytes")) {
    return std::string("no cgroup v1 memory controller at ") + MemoryCgroup::kRoot +
           " (a cgroup v2-only system needs memory.max instead, which leaklab does not drive yet)";
  }
  if (::access(root.c_str(), W_OK) != 0) {
    return std::string(MemoryCgroup::kRoot) + " is not writable (" + std::strerror(errno) +
           "): --mem-limit needs root";
  }
  return std::nullopt;
}

MemoryCgroup::MemoryCgroup(const std::string& name, int64_t limit_bytes) {
  if (auto why = MemoryCgroupUnavailable()) throw std::runtime_error("--mem-limit: " + *why);
  path_ = fs::path(kRoot) / "leaklab" / name;
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec)
    throw std::runtime_error("--mem-limit: cannot create " + path_.string() + ": " + ec.message());
  std::ofstream limit(path_ / "memory.limit_in_bytes");
  limit << limit_bytes;
  limit.close();
  if (!limit || ReadInt(path_ / "memory.limit_in_bytes") <= 0) {
    throw std::runtime_error("--mem-limit: cannot set " +
                             (path_ / "memory.limit_in_bytes").string());
  }
}

MemoryCgroup::~MemoryCgroup() {
  // rmdir fails while a process is still inside; the server is reaped before
  // this runs, but give the kernel a moment to empty the group.
  for (int i = 0; i < 50; ++i) {
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

MemoryCgroup::Stats MemoryCgroup::ReadStats() const {
  Stats s;
  s.limit_bytes = ReadInt(path_ / "memory.limit_in_bytes");
  s.max_usage_bytes = ReadInt(path_ / "memory.max_usage_in_bytes");
  s.failcnt = ReadInt(path_ / "memory.failcnt");
  s.oom_kills = ReadOomKills(path_ / "memory.oom_control");
  return s;
}

}  // namespace leaklab::harness
