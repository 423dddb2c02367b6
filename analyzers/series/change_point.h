#ifndef LEAKLAB_ANALYZERS_SERIES_CHANGE_POINT_H_
#define LEAKLAB_ANALYZERS_SERIES_CHANGE_POINT_H_

// Where a signal changes regime: a level shift or a change of slope. The
// growth test uses it to find where warm-up ends (the last regime change in
// the first part of the run) and whether the last regime has stopped growing.
// Pure, no I/O.

#include <cstddef>
#include <span>
#include <vector>

namespace leaklab::series {

struct ChangePointOptions {
  // Penalty per added segment, in units of log(n) noise variances. A segment
  // has three parameters (where it starts, its level, its slope): 3 log n is
  // the BIC (Schwarz 1978); a little more is asked because the floor is
  // autocorrelated and the noise estimate is rough.
  double penalty_per_log_n = 4;
  // Segments shorter than this are not regimes: max(min_segment, this
  // fraction of the points).
  size_t min_segment = 4;
  double min_segment_fraction = 0.05;
  // Longer input is decimated to about this many points (every k-th point):
  // the search is O(m^2). A regime is at least 5 % of the run, so 1000
  // points place a change to within 0.1 % of the span.
  size_t max_points = 1000;
  // Fewer points than this are not segmented at all: a handful of
  // snapshots cannot tell a change of regime from noise.
  size_t min_points = 24;
  // Before the costs, each point is held within this many noise deviations
  // of the median of its neighbours (kMedianWidth points): one wild sample
  // (heavy-tailed noise, a glitch in a reading) would otherwise cost more
  // than a regime and be cut out as one.
  double clip_deviations = 3;
  // The noise is never taken to be below this fraction of the median level:
  // without it, a floor that is flat to the byte would make every page of
  // difference a change of regime.
  double min_noise_fraction = 1e-3;
};

struct Segmentation {
  // Index (into the input) where each segment starts; starts[0] == 0. Empty
  // for empty input.
  std::vector<size_t> starts;
  double noise = 0;  // the noise standard deviation the costs were scaled by
};

// Splits y(t) into straight-line segments, each the least-squares line of its
// points, minimising  sum of segment RSS / sigma^2  +  penalty * (segments - 1)
// exactly, by optimal partitioning (Jackson et al. 2005, "An algorithm for
// optimal partitioning of data on an interval", IEEE Signal Process. Lett.
// 12(2)), the dynamic program that PELT (Killick, Fearnhead & Eckley 2012,
// "Optimal detection of changepoints with a linear computational cost", JASA
// 107(500)) prunes; unpruned here, as pruning is not exact with a minimum
// segment length and the input is decimated to max_points. sigma is estimated robustly from second
// differences, which a straight line does not have: 1.4826 MAD(d2 y) / sqrt 6. Every segment cost
// is O(1) from prefix sums. `stride` asks for at least that many input points
// per point searched (e.g. the floor window, so neighbouring points are not
// copies of one minimum). t strictly increasing, y finite.
Segmentation SegmentLinear(std::span<const double> t_s, std::span<const double> y,
                           const ChangePointOptions& options, size_t stride = 1);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_CHANGE_POINT_H_
