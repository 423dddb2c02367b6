#include "common/bytes.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "common/internal/split_number.h"

namespace leaklab {

long long ParseBytes(std::string_view text) {
  auto [value, unit] = internal::SplitNumber(text, "size");
  double mult = 0;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "K" || unit == "KiB" || unit == "k" || unit == "KB") {
    mult = 1024.0;
  } else if (unit == "M" || unit == "MiB" || unit == "MB") {
    mult = 1024.0 * 1024;
  } else if (unit == "G" || unit == "GiB" || unit == "GB") {
    mult = 1024.0 * 1024 * 1024;
  } else {
    throw std::invalid_argument("malformed size '" + std::string(text) + "': unknown unit '" +
                                std::string(unit) + "' (use K, M or G)");
  }
  double bytes = value * mult;
  if (bytes > 1e15) throw std::invalid_argument("size '" + std::string(text) + "' is too large");
  return static_cast<long long>(std::llround(bytes));
}

std::string FormatBytes(double bytes) {
  if (std::isnan(bytes)) return "-";
  if (std::isinf(bytes)) return bytes > 0 ? "unbounded" : "-unbounded";
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  double v = std::fabs(bytes);
  // 999.95 and above would print as "1000" of this unit: take the next one.
  while (v >= 999.95 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[64];
  // Past the largest unit, the figure is nonsense input (no heap holds an
  // exabyte), printed short, with its unit, rather than as 60 digits.
  if (v >= 999.95) {
    std::snprintf(buf, sizeof buf, "%s%.2g B", bytes < 0 ? "-" : "", std::fabs(bytes));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%s%.*f %s", bytes < 0 ? "-" : "", v < 9.95 && u > 0 ? 1 : 0, v,
                units[u]);
  return buf;
}

std::string FormatBytesPerSecond(double bytes_per_s) {
  if (std::isnan(bytes_per_s)) return "-";
  return (bytes_per_s > 0 ? "+" : "") + FormatBytes(bytes_per_s) + "/s";
}

}  // namespace leaklab
