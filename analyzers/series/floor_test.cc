#include "analyzers/series/floor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "analyzers/series/trend.h"

namespace leaklab::series {
namespace {

// A sawtooth of `period` samples (a linear rise of `amplitude`, then a drop)
// on a trend of `slope` per second, sampled every 0.1 s, with Gaussian noise.
void Sawtooth(size_t n, size_t period, double amplitude, double slope, double noise, uint64_t seed,
              std::vector<double>& t, std::vector<double>& y) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> e(0, noise);
  t.resize(n);
  y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = 0.1 * static_cast<double>(i);
    const double phase = static_cast<double>(i % period) / static_cast<double>(period);
    y[i] = 50e6 + slope * t[i] + amplitude * phase + (noise > 0 ? e(random) : 0);
  }
}

TEST(SlidingMinimum, TrailingTimeWindowWithIrregularSampling) {
  // Window 1.0 s covers (t - 1, t]: at t = 2.5 that is 1.6 and 2.5.
  const std::vector<double> t = {0, 0.5, 0.6, 1.6, 2.5, 2.6};
  const std::vector<double> y = {5, 3, 4, 6, 7, 1};
  EXPECT_EQ(SlidingMinimum(t, y, 1.0), (std::vector<double>{5, 3, 3, 6, 6, 1}));
  EXPECT_EQ(SlidingMinimum(t, y, 0), y);
}

TEST(DominantPeriod, FindsTheSawtoothUnderATrend) {
  std::vector<double> t, y;
  Sawtooth(1000, 25, 8e6, 100e3, 2e5, 1, t, y);
  double correlation = 0;
  EXPECT_NEAR(DominantPeriod(t, y, {}, &correlation), 2.5, 0.11);
  EXPECT_GT(correlation, 0.5);
}

TEST(DominantPeriod, NoneInNoiseOrARamp) {
  std::vector<double> t, y;
  Sawtooth(1000, 1, 0, 0, 1e5, 2, t, y);  // period 1: noise only
  EXPECT_EQ(DominantPeriod(t, y, {}), 0);
  Sawtooth(1000, 1, 0, 1e6, 1e5, 3, t, y);  // a noisy ramp
  EXPECT_EQ(DominantPeriod(t, y, {}), 0);
  Sawtooth(12, 3, 8e6, 0, 0, 4, t, y);  // too short to tell
  EXPECT_EQ(DominantPeriod(t, y, {}), 0);
}

TEST(DominantPeriod, AFewCyclesAreNotEnough) {
  // Three cycles in the span: fewer than the four FloorOptions asks for.
  std::vector<double> t, y;
  Sawtooth(300, 100, 8e6, 0, 1e5, 5, t, y);
  EXPECT_EQ(DominantPeriod(t, y, {}), 0);
}

TEST(ComputeFloor, FloorOfASawtoothFollowsTheTrendNotThePeaks) {
  // 40 cycles of 8 MB on a 100 KB/s leak: the floor's slope is the leak's.
  std::vector<double> t, y;
  Sawtooth(1000, 25, 8e6, 100e3, 1e5, 6, t, y);
  const Floor floor = ComputeFloor(t, y, {});
  EXPECT_NEAR(floor.period_s, 2.5, 0.11);
  EXPECT_NEAR(floor.window_s, 1.5 * floor.period_s, 1e-9);
  // The first window is dropped: its minimum had not seen a whole cycle.
  EXPECT_GE(floor.t_s.front(), floor.window_s);
  EXPECT_EQ(floor.t_s.size(), floor.index.size());
  EXPECT_NEAR(TheilSenEstimate(floor.t_s, floor.values).slope, 100e3, 5e3);
  // The floor lies under the samples.
  for (size_t k = 0; k < floor.t_s.size(); ++k) EXPECT_LE(floor.values[k], y[floor.index[k]]);
}

TEST(ComputeFloor, WithoutACycleTheFloorIsTheSamples) {
  std::vector<double> t, y;
  Sawtooth(200, 1, 0, 1e5, 1e4, 7, t, y);
  const Floor floor = ComputeFloor(t, y, {});
  EXPECT_EQ(floor.period_s, 0);
  EXPECT_EQ(floor.window_s, 0);
  EXPECT_EQ(floor.values, y);
  EXPECT_EQ(floor.block, 1u);
}

TEST(ComputeFloor, LongSeriesAreReducedToBlockMinima) {
  std::vector<double> t, y;
  Sawtooth(250'001, 1, 0, 10, 1e4, 8, t, y);
  FloorOptions options;
  const Floor floor = ComputeFloor(t, y, options);
  EXPECT_EQ(floor.block, 3u);
  EXPECT_LE(floor.t_s.size(), options.max_points);
  // Each point is the least of its block, at that sample's own time.
  for (size_t k = 0; k < 100; ++k) {
    const size_t from = 3 * k;
    EXPECT_EQ(floor.values[k], std::min({y[from], y[from + 1], y[from + 2]}));
    EXPECT_EQ(floor.t_s[k], t[floor.index[k]]);
  }
}

}  // namespace
}  // namespace leaklab::series
