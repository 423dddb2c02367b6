#ifndef LEAKLAB_REPORT_DOWNSAMPLE_H_
#define LEAKLAB_REPORT_DOWNSAMPLE_H_

// Reducing a long series to what a chart can show, keeping its extremes.

#include <cstddef>
#include <span>
#include <vector>

namespace leaklab::report {

struct Point {
  double t, v;
};

// Min/max decimation per pixel column: the span [t_min, t_max] is cut into
// `columns` equal columns and each column keeps only the smallest and the
// largest value it holds, in the order they occurred. A spike of one sample
// in a million is therefore still drawn, while a run of days at 100 ms gives
// at most 2 x columns points, and the page stays small.
//
// Missing values (NaN) are skipped. Where samples are missing across at least
// one whole column, the result holds a break, a Point whose v is NaN, so that
// the line is not drawn across the gap. At most `columns` breaks.
// Samples outside [t_min, t_max] and non-finite times are left out.
std::vector<Point> MinMaxPerColumn(std::span<const double> t, std::span<const double> v,
                                   double t_min, double t_max, size_t columns);

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_DOWNSAMPLE_H_
