#include "common/duration.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "common/internal/split_number.h"

namespace leaklab {

std::chrono::milliseconds ParseDuration(std::string_view text) {
  auto [value, unit] = internal::SplitNumber(text, "duration");
  double ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m" || unit == "min") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    throw std::invalid_argument("malformed duration '" + std::string(text) + "': unknown unit '" +
                                std::string(unit) + "' (use ms, s, m or h)");
  }
  double ms = value * ms_per_unit;
  // A week is far beyond any experiment; larger values are typos.
  constexpr double kMaxMs = 7.0 * 24 * 3'600'000;
  if (ms > kMaxMs) {
    throw std::invalid_argument("duration '" + std::string(text) + "' is longer than a week");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  char buf[64];
  if (d.count() % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(d.count() / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(d.count()));
  }
  return buf;
}

namespace {
constexpr double kYear = 365.25 * 86400;
constexpr double kCentury = 100 * kYear;
}  // namespace

std::string FormatSeconds(double seconds) {
  if (std::isnan(seconds)) return "-";
  if (std::isinf(seconds)) return seconds > 0 ? "forever" : "-forever";
  if (seconds == 0) return "0 s";
  char buf[64];
  const double a = std::fabs(seconds);
  const char* sign = seconds < 0 ? "-" : "";
  // Each bound is where the figure would round up into the next unit.
  if (a < 0.9995) {
    std::snprintf(buf, sizeof buf, "%s%.0f ms", sign, a * 1000);
  } else if (a < 9.95) {
    std::snprintf(buf, sizeof buf, "%s%.1f", sign, a);
    std::string text = buf;
    if (text.ends_with(".0")) text.resize(text.size() - 2);
    return text + " s";
  } else if (a < 59.5) {
    std::snprintf(buf, sizeof buf, "%s%.0f s", sign, a);
  } else if (a < 3599.5) {
    const long t = std::lround(a);
    std::snprintf(buf, sizeof buf, "%s%ld min %ld s", sign, t / 60, t % 60);
  } else if (a < 86370) {
    const long t = std::lround(a / 60);
    std::snprintf(buf, sizeof buf, "%s%ld h %ld min", sign, t / 60, t % 60);
  } else if (a < kCentury) {
    const long t = std::lround(a / 3600);
    std::snprintf(buf, sizeof buf, "%s%ld d %ld h", sign, t / 24, t % 24);
  } else {
    // Beyond any run or watch, and beyond what whole days print exactly.
    std::snprintf(buf, sizeof buf, "%s%.2g years", sign, a / kYear);
  }
  return buf;
}

}  // namespace leaklab
