#include "analyzers/series/floor.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

#include "analyzers/series/autocorrelation.h"
#include "analyzers/series/trend.h"

namespace leaklab::series {
namespace {

// Fewer points than this carry no usable autocorrelation peak: a handful of
// snapshots show a "cycle" in their noise as often as not, and a floor over
// it would leave too few points to test.
constexpr size_t kMinPointsForPeriod = 40;

// A peak at a fraction of the best lag that is nearly as high is the true
// period, and the best lag a multiple of it (the ACF of a cycle peaks at every
// multiple of its period, a little lower each time, but noise can reorder them).
constexpr double kSubharmonicShare = 0.85;

// Block minima replace the samples only when they read a trend at least this
// much more precisely (step 6 of ComputeFloor): a clear gain, not noise in
// the noise estimate.
constexpr double kBlockGain = 0.7;

// Robust spread (1.4826 MAD) of y around its Theil-Sen line, and the number
// of points: what a slope's standard error scales with (noise / sqrt(n)).
double RobustNoise(std::span<const double> t, std::span<const double> y) {
  try {
    const TheilSen fit = TheilSenEstimate(t, y);
    std::vector<double> r(y.size());
    for (size_t i = 0; i < y.size(); ++i) r[i] = y[i] - (fit.intercept + fit.slope * t[i]);
    const double center = MedianOf(r);
    for (double& x : r) x = std::fabs(x - center);
    return 1.4826 * MedianOf(r);
  } catch (const std::invalid_argument&) {
    return -1;
  }
}

// Minima of consecutive blocks of `k` samples, at each minimum's own time.
void BlockMinima(std::span<const double> t, std::span<const double> y,
                 std::span<const size_t> index, size_t k, Floor& out) {
  out.t_s.clear();
  out.values.clear();
  out.index.clear();
  for (size_t start = 0; start + k <= y.size(); start += k) {
    size_t low = start;
    for (size_t i = start + 1; i < start + k; ++i) {
      if (y[i] < y[low]) low = i;
    }
    out.t_s.push_back(t[low]);
    out.values.push_back(y[low]);
    out.index.push_back(index[low]);
  }
}

double MedianSpacing(std::span<const double> t_s) {
  std::vector<double> gaps;
  gaps.reserve(t_s.size());
  for (size_t i = 1; i < t_s.size(); ++i) gaps.push_back(t_s[i] - t_s[i - 1]);
  return MedianOf(gaps);
}

}  // namespace

double DominantPeriod(std::span<const double> t_s, std::span<const double> y,
                      const FloorOptions& options, double* correlation) {
  if (correlation != nullptr) *correlation = 0;
  const size_t n = y.size();
  if (n < kMinPointsForPeriod || t_s.size() != n) return 0;
  // 1. Remove the straight-line trend, so a leak's ramp does not read as one
  //    long correlated stretch. Least squares is enough here: the line only
  //    has to take out the bulk of the trend.
  std::vector<double> residual(y.begin(), y.end());
  try {
    const LinearFit line = LeastSquares(t_s, y);
    for (size_t i = 0; i < n; ++i) residual[i] -= line.intercept + line.slope * t_s[i];
  } catch (const std::invalid_argument&) {
    return 0;
  }
  // 2. The autocorrelation up to the longest period that still repeats
  //    min_cycles times.
  const auto max_lag = static_cast<size_t>(static_cast<double>(n) / options.min_cycles);
  if (max_lag < 2) return 0;
  const std::vector<double> r = Autocorrelation(residual, max_lag);
  // 3. A cycle first decorrelates (the ACF goes below zero, half a period
  //    out), then correlates again at its period: the highest peak after the
  //    first zero crossing.
  size_t lag = 1;
  while (lag < r.size() && r[lag] >= 0) ++lag;
  const size_t zero_crossing = lag;
  size_t best = 0;
  for (; lag + 1 < r.size(); ++lag) {
    const bool local_peak = r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1];
    if (local_peak && (best == 0 || r[lag] > r[best])) best = lag;
  }
  if (best == 0 || r[best] < options.min_peak_correlation) return 0;
  // 4. Prefer the fundamental over a multiple of it: the shortest whole
  //    fraction of the best lag, past the zero crossing, whose peak is nearly
  //    as high.
  size_t fundamental = best;
  for (size_t divisor = 2; best / divisor > zero_crossing; ++divisor) {
    const size_t candidate = (best + divisor / 2) / divisor;
    // Search a lag either side: the fraction is rounded.
    size_t peak = candidate;
    for (size_t l = candidate - 1; l <= candidate + 1 && l < r.size(); ++l) {
      if (r[l] > r[peak]) peak = l;
    }
    if (r[peak] >= kSubharmonicShare * r[best]) fundamental = peak;
  }
  best = fundamental;
  if (correlation != nullptr) *correlation = r[best];
  return static_cast<double>(best) * MedianSpacing(t_s);
}

std::vector<double> SlidingMinimum(std::span<const double> t_s, std::span<const double> y,
                                   double window_s) {
  const size_t n = y.size();
  std::vector<double> out(y.begin(), y.end());
  if (!(window_s > 0)) return out;
  // The deque holds positions whose values ascend from front to back: each is
  // the minimum of the window from it to the present. A new value evicts the
  // larger ones behind it; the front leaves when it falls out of the window.
  std::deque<size_t> ascending;
  for (size_t i = 0; i < n; ++i) {
    while (!ascending.empty() && y[ascending.back()] >= y[i]) ascending.pop_back();
    ascending.push_back(i);
    while (t_s[ascending.front()] <= t_s[i] - window_s) ascending.pop_front();
    out[i] = y[ascending.front()];
  }
  return out;
}

Floor ComputeFloor(std::span<const double> t_s, std::span<const double> y,
                   const FloorOptions& options) {
  if (t_s.size() != y.size()) {
    throw std::invalid_argument("floor: t_s and y differ in length");
  }
  const size_t n = y.size();
  Floor floor;
  // 1. Block minima for long series: each block keeps its lowest sample, at
  //    that sample's own time.
  floor.block = options.max_points > 0 && n > options.max_points
                    ? (n + options.max_points - 1) / options.max_points
                    : 1;
  floor.t_s.reserve(n / floor.block + 1);
  for (size_t start = 0; start < n; start += floor.block) {
    const size_t end = std::min(start + floor.block, n);
    size_t low = start;
    for (size_t i = start + 1; i < end; ++i) {
      if (y[i] < y[low]) low = i;
    }
    floor.t_s.push_back(t_s[low]);
    floor.values.push_back(y[low]);
    floor.index.push_back(low);
  }
  if (floor.t_s.size() < 2) return floor;
  const double span_s = floor.t_s.back() - floor.t_s.front();

  // 2-3. The cycle, and a window over it that leaves at least four windows.
  floor.period_s = DominantPeriod(floor.t_s, floor.values, options, &floor.correlation);
  if (floor.period_s > 0) {
    floor.window_s = std::min(options.periods_per_window * floor.period_s, span_s / 4);
    floor.values = SlidingMinimum(floor.t_s, floor.values, floor.window_s);
    // 4. Before a whole window has passed the minimum has seen only part of a
    //    cycle and sits too high.
    //    5. Then `points_per_window` points per window: neighbouring samples'
    //    minima are mostly the same trough, and a test fed every one of them
    //    would count one trough many times over (long runs of equal values
    //    pile the pairwise slopes up at zero). Each kept point is still the
    //    sliding minimum at its own time.
    const double stride = floor.window_s / std::max(options.points_per_window, 1.0);
    double next = floor.t_s.front() + floor.window_s;
    size_t kept = 0;
    for (size_t i = 0; i < floor.t_s.size(); ++i) {
      if (floor.t_s[i] < next) continue;
      floor.t_s[kept] = floor.t_s[i];
      floor.values[kept] = floor.values[i];
      floor.index[kept] = floor.index[i];
      ++kept;
      next = floor.t_s[i] + stride;
    }
    floor.t_s.resize(kept);
    floor.values.resize(kept);
    floor.index.resize(kept);
    return floor;
  }

  // 6. No cycle shows, yet the samples may jump up from a base: a collector's
  //    sawtooth sampled slower than it cycles (each sample catches it at a
  //    random phase), an allocator's spikes, a heap profile's sampling
  //    granularity. Then the minimum of every k consecutive samples follows
  //    the base far more closely than the samples do, and a trend in it is
  //    read more precisely despite the fewer points. k is chosen before any
  //    test, by the spread it leaves: the block minima are kept when their
  //    noise / sqrt(points) (what a slope's error scales with) is below
  //    kBlockGain of the samples'. For symmetric noise they never are (the
  //    minimum of two normal samples spreads 0.83 as much, over half the
  //    points: 1.17 times worse), so only skewed series change.
  if (floor.block == 1 && n <= options.max_points && n >= 2 * options.min_block_points) {
    const std::vector<double> t(floor.t_s), v(floor.values);
    const std::vector<size_t> index(floor.index);
    const double base = RobustNoise(t, v) / std::sqrt(static_cast<double>(n));
    double best = base;
    size_t best_k = 1;
    Floor trial;
    for (size_t k = 2; k <= options.max_block && n / k >= options.min_block_points; ++k) {
      BlockMinima(t, v, index, k, trial);
      const double noise = RobustNoise(trial.t_s, trial.values);
      if (noise < 0) continue;
      const double error = noise / std::sqrt(static_cast<double>(trial.t_s.size()));
      if (error < best) {
        best = error;
        best_k = k;
      }
    }
    if (best_k > 1 && base > 0 && best < kBlockGain * base) {
      BlockMinima(t, v, index, best_k, floor);
      floor.block = best_k;
    }
  }
  return floor;
}

}  // namespace leaklab::series
