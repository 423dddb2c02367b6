#ifndef LEAKLAB_ANALYZERS_SERIES_FLOOR_H_
#define LEAKLAB_ANALYZERS_SERIES_FLOOR_H_

// The floor of a memory signal: what it falls back to between the peaks of
// its sawtooth (garbage collection, allocator trims, batch cycles). A leak
// raises the floor; a sawtooth only moves the peaks. Testing the floor rather
// than the raw samples keeps a cycle that happens to end high from passing
// for growth. Pure, no I/O.

#include <cstddef>
#include <span>
#include <vector>

namespace leaklab::series {

struct FloorOptions {
  // Longer series are first reduced to at most this many points, each the
  // minimum of a block of consecutive samples. A block minimum is itself a
  // floor (over the block), and beyond ~10^5 points a trend test gains no
  // power that matters for a decision: the practical thresholds decide. This
  // keeps a week at 100 ms (6 million samples) to a fraction of a second.
  size_t max_points = 100'000;
  // The window is this many periods long: a whole cycle, with room for cycles
  // that run a little long, so every window holds a trough.
  double periods_per_window = 1.5;
  // A cycle counts only if its autocorrelation peak reaches this (after the
  // trend is removed), and it repeats at least `min_cycles` times in the span.
  double min_peak_correlation = 0.3;
  double min_cycles = 4;
  // With a window, the floor keeps this many points per window length (the
  // sliding minimum read every window / points_per_window): enough to follow
  // the floor, few enough that each point stands for its own troughs.
  double points_per_window = 2;
  // Without a cycle, minima of blocks of up to max_block samples replace
  // the samples when they follow a base the samples jump up from (see
  // ComputeFloor), leaving at least min_block_points of them.
  size_t max_block = 6;
  size_t min_block_points = 15;
};

struct Floor {
  std::vector<double> t_s;     // times of the floor points (a subset of the input times)
  std::vector<double> values;  // the floor there
  std::vector<size_t> index;   // position of each floor point in the input
  size_t block = 1;            // input samples per block minimum (1: not thinned)
  double period_s = 0;         // the cycle found, 0 when none
  double window_s = 0;         // sliding-minimum window, 0 when none (floor = samples)
  double correlation = 0;      // autocorrelation at the period (0 when none)
};

// The dominant cycle of `y` (sampled at `t_s`), in seconds, or 0 when there
// is none: the lag of the first autocorrelation peak of the series with its
// Theil-Sen line removed (Box & Jenkins 1976, ch. 2: the sample ACF of a
// periodic series peaks at its period), if the peak is at least
// `min_peak_correlation` and fits `min_cycles` times. Lags are in samples,
// converted with the median sample spacing, so irregular sampling blurs but
// does not break it. `correlation` receives the peak's height. O(n log n).
double DominantPeriod(std::span<const double> t_s, std::span<const double> y,
                      const FloorOptions& options, double* correlation = nullptr);

// Sliding minimum over the trailing time window (t - window_s, t], for every
// sample: the ascending-minima deque (Lemire 2006, "Streaming maximum-minimum
// filter using no more than three comparisons per element", Nordic J.
// Computing 13(4)), O(n), correct for irregular sampling. window_s <= 0 gives
// the values themselves.
std::vector<double> SlidingMinimum(std::span<const double> t_s, std::span<const double> y,
                                   double window_s);

// The floor of a signal: (1) block minima when longer than max_points,
// (2) the dominant period, (3) a trailing sliding minimum over
// periods_per_window periods (no window without a period), at most a quarter
// of the span so that four windows remain, (4) without the first window,
// where the minimum has not yet seen a whole one, (5) read points_per_window
// times per window. Without a period the floor is the (block-minimum)
// samples. t_s strictly increasing, y finite (the caller drops missing
// samples).
Floor ComputeFloor(std::span<const double> t_s, std::span<const double> y,
                   const FloorOptions& options);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_FLOOR_H_
