#ifndef LEAKLAB_ANALYZERS_SERIES_SERIES_FUZZ_CHECK_H_
#define LEAKLAB_ANALYZERS_SERIES_SERIES_FUZZ_CHECK_H_

// What every Series a reader accepts must satisfy, for the fuzz targets of
// the readers (series_csv_fuzz, prometheus_fuzz) and the report's: the
// analysis and the charts rely on it. Aborts, which libFuzzer reports as a
// finding, when it does not hold.

#include <cmath>

#include "analyzers/series/series.h"
#include "common/fuzz_check.h"
#include "common/input_limits.h"

namespace leaklab::series {

inline void CheckAcceptedSeries(const Series& s) {
  FuzzCheck(s.columns.size() == s.values.size());
  FuzzCheck(s.columns.size() <= limits::kSeriesCsvColumns);
  for (double t : s.t_s) FuzzCheck(std::isfinite(t) && std::fabs(t) <= kMaxTimeSeconds);
  for (const auto& column : s.values) FuzzCheck(column.size() == s.t_s.size());
}

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_SERIES_FUZZ_CHECK_H_
