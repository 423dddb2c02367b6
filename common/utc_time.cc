#include "common/utc_time.h"

#include <ctime>

namespace leaklab {
namespace {

std::string NowUtc(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string UtcFolderStamp() { return NowUtc("%Y%m%d-%H%M%S"); }
std::string UtcIsoTime() { return NowUtc("%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace leaklab
