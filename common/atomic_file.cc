#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/errors.h"

namespace leaklab {

namespace {

// The temporary file's name: beside `path` (a rename is atomic only within
// one file system), hidden, and unique to this process and call, so that it
// can never be a file of the user's ("report.html.tmp") nor another
// writer's. It is created exclusively all the same.
std::string TemporaryName(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path dir = path.parent_path();
  const std::string name = "." + path.filename().string() + ".leaklab-" +
                           std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".tmp";
  return (dir.empty() ? std::filesystem::path(name) : dir / name).string();
}

}  // namespace

void WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  const std::string tmp = TemporaryName(path);
  int fd = -1;
  // Whatever fails, the temporary file goes: nothing half-written is left.
  auto fail = [&](const std::string& what) {
    const int saved = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw IoError("cannot write " + path.string() + ": " + what + ": " + std::strerror(saved));
  };
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int saved = errno;
    throw IoError("cannot write " + path.string() + ": cannot create " + tmp + ": " +
                  std::strerror(saved));
  }
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    fd = -1;
    fail("close");
  }
  fd = -1;
  // rename() replaces a file, never a folder: a folder where the file should
  // go fails here, and the temporary file goes with the failure.
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename");
}

}  // namespace leaklab
