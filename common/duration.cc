#include "common/duration.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace leaklab {
namespace {

// Splits "1.5s" into the number 1.5 and the unit "s"; throws on a bad number.
std::pair<double, std::string_view> SplitNumber(std::string_view text, const char* what) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (i == 0 || ec != std::errc() || ptr != text.data() + i || !std::isfinite(value)) {
    throw std::invalid_argument("malformed " + std::string(what) + " '" + std::string(text) +
                                "': expected a non-negative number");
  }
  return {value, text.substr(i)};
}

}  // namespace

std::chrono::milliseconds ParseDuration(std::string_view text) {
  auto [value, unit] = SplitNumber(text, "duration");
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

long long ParseBytes(std::string_view text) {
  auto [value, unit] = SplitNumber(text, "size");
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

}  // namespace leaklab
