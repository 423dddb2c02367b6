#include "report/downsample.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace leaklab::report {

std::vector<Point> MinMaxPerColumn(std::span<const double> t, std::span<const double> v,
                                   double t_min, double t_max, size_t columns) {
  std::vector<Point> out;
  const size_t n = std::min(t.size(), v.size());
  if (n == 0 || columns == 0 || !(t_max >= t_min)) return out;
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const double span = t_max > t_min ? t_max - t_min : 1.0;
  const auto column_of = [&](double time) {
    const double c = std::floor((time - t_min) / span * static_cast<double>(columns));
    return static_cast<size_t>(std::clamp(c, 0.0, static_cast<double>(columns - 1)));
  };

  // The column being filled: index of its first, smallest and largest sample.
  bool open = false;
  size_t column = 0, lo = 0, hi = 0;
  // A missing sample was seen since the last finite one.
  bool missing_since = false;
  size_t last_column = 0;
  bool any = false;
  const auto flush = [&] {
    if (!open) return;
    if (lo == hi) {
      out.push_back({t[lo], v[lo]});
    } else if (lo < hi) {
      out.push_back({t[lo], v[lo]});
      out.push_back({t[hi], v[hi]});
    } else {
      out.push_back({t[hi], v[hi]});
      out.push_back({t[lo], v[lo]});
    }
    open = false;
  };

  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(t[i]) || t[i] < t_min || t[i] > t_max) continue;
    if (!std::isfinite(v[i])) {
      missing_since = true;
      continue;
    }
    const size_t c = column_of(t[i]);
    if (open && c == column) {
      if (v[i] < v[lo]) lo = i;
      if (v[i] > v[hi]) hi = i;
      missing_since = false;
      continue;
    }
    flush();
    // Steps: 1. a gap of missing samples that spans a whole column breaks
    // the line; 2. the new column starts with this sample.
    if (any && missing_since && c > last_column + 1) out.push_back({t[i], kNaN});
    open = true;
    column = c;
    lo = hi = i;
    last_column = c;
    any = true;
    missing_since = false;
  }
  flush();
  return out;
}

}  // namespace leaklab::report
