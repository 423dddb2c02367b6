#include "harness/procfs_sampler.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

namespace leaklab::harness {

std::optional<int64_t> FindKilobytesField(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() <= key.size() || !line.starts_with(key) || line[key.size()] != ':') continue;
    std::string_view rest = line.substr(key.size() + 1);
    size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::nullopt;
    rest = rest.substr(start);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || value < 0) return std::nullopt;
    std::string_view unit(ptr, rest.data() + rest.size() - ptr);
    size_t u = unit.find_first_not_of(" \t");
    if (u == std::string_view::npos || unit.substr(u) != "kB") return std::nullopt;
    return value * 1024;
  }
  return std::nullopt;
}

ProcfsSampler::ProcfsSampler(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  status_fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
  std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid));
  smaps_fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
}

ProcfsSampler::~ProcfsSampler() {
  if (status_fd_ >= 0) ::close(status_fd_);
  if (smaps_fd_ >= 0) ::close(smaps_fd_);
}

std::string_view ProcfsSampler::ReadAll(int fd) {
  if (fd < 0) return {};
  size_t used = 0;
  // procfs regenerates the file on each read from offset 0; pread keeps the
  // descriptor reusable without lseek.
  while (used < sizeof buffer_) {
    ssize_t n = ::pread(fd, buffer_ + used, sizeof buffer_ - used, static_cast<off_t>(used));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  return std::string_view(buffer_, used);
}

ProcMemory ProcfsSampler::Sample() {
  ProcMemory m;
  if (auto rss = FindKilobytesField(ReadAll(status_fd_), "VmRSS")) m.rss_bytes = *rss;
  std::string_view smaps = ReadAll(smaps_fd_);
  if (auto anon = FindKilobytesField(smaps, "Anonymous")) m.anon_bytes = *anon;
  if (auto lazy = FindKilobytesField(smaps, "LazyFree")) m.lazyfree_bytes = *lazy;
  return m;
}

}  // namespace leaklab::harness
