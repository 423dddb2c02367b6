#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/errors.h"

namespace leaklab {

void WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  std::string tmp = path.string() + ".tmp";
  auto fail = [&](const char* step) {
    std::string msg = std::string("cannot ") + step + " " + tmp + ": " + std::strerror(errno);
    throw IoError(msg);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create");
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      fail("write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    fail("fsync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw IoError("cannot rename " + tmp + " to " + path.string() + ": " + std::strerror(errno));
  }
}

}  // namespace leaklab
