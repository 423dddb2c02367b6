#include "analyzers/series/units.h"

#include <cmath>
#include <cstdio>

namespace leaklab::series {

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes)) return bytes > 0 ? "unbounded" : bytes < 0 ? "-unbounded" : "?";
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  double v = std::fabs(bytes);
  while (v >= 999.95 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[64];
  // Two significant digits below 10 of a unit, none above: "1.2 KB", "412 KB".
  std::snprintf(buf, sizeof buf, "%s%.*f %s", bytes < 0 ? "-" : "", v < 9.95 && u > 0 ? 1 : 0, v,
                units[u]);
  return buf;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds)) return "forever";
  char buf[64];
  const double s = std::fabs(seconds);
  const char* sign = seconds < 0 ? "-" : "";
  if (s < 10) {
    std::snprintf(buf, sizeof buf, "%s%.1f s", sign, s);
  } else if (s < 120) {
    std::snprintf(buf, sizeof buf, "%s%.0f s", sign, s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%s%.0f min", sign, s / 60);
  } else if (s < 86400) {
    const long minutes = std::lround(s / 60);
    std::snprintf(buf, sizeof buf, "%s%ld h %ld min", sign, minutes / 60, minutes % 60);
  } else {
    const long hours = std::lround(s / 3600);
    std::snprintf(buf, sizeof buf, "%s%ld d %ld h", sign, hours / 24, hours % 24);
  }
  return buf;
}

}  // namespace leaklab::series
