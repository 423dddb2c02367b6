#include "analyzers/series/growth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace leaklab::series {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Signal {
  std::vector<double> t, y;
};

// shape(t) sampled every `dt_s` with Gaussian noise of sd `noise`.
Signal Make(size_t n, double dt_s, double noise, uint64_t seed,
            const std::function<double(double)>& shape) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> e(0, noise);
  Signal s;
  for (size_t i = 0; i < n; ++i) {
    const double t = dt_s * static_cast<double>(i);
    s.t.push_back(t);
    s.y.push_back(shape(t) + (noise > 0 ? e(random) : 0));
  }
  return s;
}

GrowthEvidence Analyze(const Signal& s) { return AnalyzeGrowth("heap_inuse_bytes", s.t, s.y, {}); }

// A sawtooth of `period_s` and `amplitude` (rise, then drop).
double Saw(double t, double period_s, double amplitude) {
  return amplitude * (std::fmod(t, period_s) / period_s);
}

TEST(AnalyzeGrowth, SteadyLeakIsGrowing) {
  const GrowthEvidence ev =
      Analyze(Make(300, 0.1, 2e5, 1, [](double t) { return 20e6 + 1e6 * t; }));
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_NEAR(ev.fit.slope, 1e6, 5e4);
  EXPECT_LT(ev.fit.slope_low, ev.fit.slope);
  EXPECT_GT(ev.fit.slope_high, ev.fit.slope);
  EXPECT_FALSE(ev.warmup_skipped);
  EXPECT_EQ(ev.period_s, 0);
}

TEST(AnalyzeGrowth, SawtoothWithoutTrendIsNotGrowingEvenWhenItEndsOnAPeak) {
  // 12.9 cycles of a 20 MB sawtooth ending near a peak, no trend: the raw
  // samples rise in the last third, the floor does not.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const GrowthEvidence ev =
        Analyze(Make(645, 0.1, 1e5, seed, [](double t) { return 40e6 + Saw(t, 5, 20e6); }));
    EXPECT_NE(ev.trend, Trend::kGrowing) << ev.reason;
    EXPECT_NEAR(ev.period_s, 5, 0.2) << seed;
  }
}

TEST(AnalyzeGrowth, SawtoothOnALeakIsGrowingAtTheLeaksRate) {
  const GrowthEvidence ev =
      Analyze(Make(800, 0.1, 1e5, 2, [](double t) { return 40e6 + 300e3 * t + Saw(t, 4, 20e6); }));
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_NEAR(ev.fit.slope, 300e3, 40e3);
  EXPECT_GT(ev.floor_window_s, 4);
  EXPECT_GT(ev.peak_bytes, 15e6);  // the peaks stand well above the floor
}

TEST(AnalyzeGrowth, CycleTooLongToFloorIsReadThroughTheSamples) {
  // 40 samples, 5 cycles of a 2 MB sawtooth on 40 MB: a sliding minimum a
  // cycle and a half wide would leave 6 points, too few to decide; the
  // samples themselves show a level series.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const GrowthEvidence ev =
        Analyze(Make(40, 1, 5e4, seed, [](double t) { return 40e6 + Saw(t, 8, 2e6); }));
    EXPECT_NE(ev.trend, Trend::kInsufficient) << seed << ": " << ev.reason;
    EXPECT_NE(ev.trend, Trend::kGrowing) << seed << ": " << ev.reason;
  }
}

TEST(AnalyzeGrowth, SlowLeakUnderABigSawtoothIsFoundInTheFloor) {
  // 60 KB/s under a 20 MB sawtooth, ending near a peak. The samples
  // themselves give a slope far too steep and no verdict of growth;
  // the floor gives the leak's rate.
  const Signal s =
      Make(645, 0.1, 1e5, 1, [](double t) { return 40e6 + 60e3 * t + Saw(t, 5, 20e6); });
  const GrowthEvidence ev = Analyze(s);
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_NEAR(ev.fit.slope, 60e3, 8e3);
  GrowthOptions no_floor;
  no_floor.floor.min_peak_correlation = 2;  // never finds a cycle
  const GrowthEvidence raw = AnalyzeGrowth("heap_inuse_bytes", s.t, s.y, no_floor);
  EXPECT_NE(raw.trend, Trend::kGrowing) << raw.reason;
  EXPECT_GT(raw.fit.slope, 80e3);  // a third too steep or worse
}

TEST(AnalyzeGrowth, WarmUpIsSkippedAndTheRestJudged) {
  // Fast fill for 6 s, then a slow leak: still growing, the window starts near 6 s.
  const GrowthEvidence leak = Analyze(Make(400, 0.1, 5e4, 3, [](double t) {
    return 20e6 + 5e6 * std::min(t, 6.0) + 100e3 * std::max(t - 6, 0.0);
  }));
  EXPECT_EQ(leak.trend, Trend::kGrowing) << leak.reason;
  EXPECT_TRUE(leak.warmup_skipped);
  EXPECT_NEAR(leak.t_begin_s, 6, 0.5);
  EXPECT_NEAR(leak.fit.slope, 100e3, 15e3);
  // Fast fill, then flat: not growing.
  const GrowthEvidence flat =
      Analyze(Make(400, 0.1, 5e4, 3, [](double t) { return 20e6 + 5e6 * std::min(t, 6.0); }));
  EXPECT_TRUE(flat.trend == Trend::kFlat || flat.trend == Trend::kPlateaued) << flat.reason;
}

TEST(AnalyzeGrowth, GrowthThatStopsLateIsPlateaued) {
  // Grows for 70 % of the run, then stops: the last regime has clearly stopped.
  const GrowthEvidence ev =
      Analyze(Make(500, 0.1, 5e4, 4, [](double t) { return 20e6 + 1e6 * std::min(t, 35.0); }));
  EXPECT_EQ(ev.trend, Trend::kPlateaued) << ev.reason;
}

TEST(AnalyzeGrowth, StaircaseIsGrowing) {
  // 5 MB every 1.2 s: every step a change of regime, yet a leak.
  const GrowthEvidence ev = Analyze(
      Make(90, 0.1, 2e4, 5, [](double t) { return 16e6 + 5e6 * std::floor((t + 0.4) / 1.2); }));
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
}

// Steps as far apart as the last third is long (a reload every 4 s over 13 s,
// as runaway-workers' fewer-reloads; an hourly reload over 13 h): the last
// third holds one step, near its end, and its Theil-Sen slope is 0. Its net
// rise shows it still grows; the same steps stopping early level off.
TEST(AnalyzeGrowth, SparseStaircaseWhoseLastStepIsNearTheEndIsGrowing) {
  const auto steps = [](double t, double last) {
    double y = 16e6;
    for (double at = 0.5; at <= last && at <= t; at += 4) y += 5.8e6;
    return y;
  };
  const GrowthEvidence ev =
      Analyze(Make(130, 0.1, 2e4, 6, [&](double t) { return steps(t, 12.5); }));
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_NEAR(ev.tail_net_rise_bytes, 5.8e6, 0.2e6) << ev.reason;
  EXPECT_NE(ev.reason.find("in steps"), std::string::npos) << ev.reason;

  // Two steps, then 9 s level: levelled off, whatever the net rise of the
  // tail (none).
  const GrowthEvidence stopped =
      Analyze(Make(130, 0.1, 2e4, 6, [&](double t) { return steps(t, 4.5); }));
  EXPECT_NE(stopped.trend, Trend::kGrowing) << stopped.reason;
  EXPECT_EQ(stopped.tail_net_rise_bytes, 0);

  // Steps whose last one is followed by a long level stretch (over a quarter
  // of the window, here 4.4 s of 13): a step in the last third does not
  // outweigh it.
  const GrowthEvidence rested =
      Analyze(Make(130, 0.1, 2e4, 6, [&](double t) { return steps(t, 8.5); }));
  EXPECT_NE(rested.trend, Trend::kGrowing) << rested.reason;
}

TEST(AnalyzeGrowth, TenHandTakenSnapshots) {
  // A minute apart, 2 MB a minute on 100 MB, with 0.3 MB of noise.
  const GrowthEvidence leak =
      Analyze(Make(10, 60, 3e5, 6, [](double t) { return 100e6 + 2e6 * t / 60; }));
  EXPECT_EQ(leak.trend, Trend::kGrowing) << leak.reason;
  const GrowthEvidence flat = Analyze(Make(10, 60, 3e5, 6, [](double) { return 100e6; }));
  EXPECT_EQ(flat.trend, Trend::kFlat) << flat.reason;
}

TEST(AnalyzeGrowth, LargeButNoisyShortGrowthIsInsufficient) {
  const Signal s = {{0, 1, 2, 3, 4, 5, 6, 7, 8}, {1e6, 4e6, 0, 5e6, 1e6, 6e6, 2e6, 3e6, 5e6}};
  EXPECT_EQ(Analyze(s).trend, Trend::kInsufficient) << Analyze(s).reason;
}

TEST(AnalyzeGrowth, SmallDriftIsNotALeak) {
  // 1 KB/s on 500 MB: significant, but 0.1 % of the level.
  const GrowthEvidence ev = Analyze(Make(600, 1, 2e3, 7, [](double t) { return 500e6 + 1e3 * t; }));
  EXPECT_EQ(ev.trend, Trend::kFlat) << ev.reason;
  EXPECT_LT(ev.mk.p_value, 0.01);
}

TEST(AnalyzeGrowth, FallingIsFalling) {
  const GrowthEvidence ev =
      Analyze(Make(300, 0.1, 1e5, 8, [](double t) { return 80e6 - 1e6 * t; }));
  EXPECT_EQ(ev.trend, Trend::kFalling) << ev.reason;
}

TEST(AnalyzeGrowth, MissingSamplesAreSkipped) {
  Signal s = Make(300, 0.1, 2e5, 9, [](double t) { return 20e6 + 1e6 * t; });
  for (size_t i = 0; i < s.y.size(); i += 3) s.y[i] = kNaN;
  const GrowthEvidence ev = Analyze(s);
  EXPECT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_EQ(ev.samples, 200u);
}

TEST(AnalyzeGrowth, BadInputIsInsufficientWithAReason) {
  EXPECT_EQ(Analyze({}).trend, Trend::kInsufficient);
  const GrowthEvidence one = Analyze({{0}, {5}});
  EXPECT_EQ(one.trend, Trend::kInsufficient);
  EXPECT_NE(one.reason.find("only 1 samples"), std::string::npos) << one.reason;
  Signal nans = Make(50, 0.1, 0, 1, [](double) { return kNaN; });
  EXPECT_EQ(Analyze(nans).trend, Trend::kInsufficient);
  Signal backwards = Make(50, 0.1, 1e5, 1, [](double t) { return 1e6 * t; });
  std::swap(backwards.t[10], backwards.t[11]);
  const GrowthEvidence disordered = Analyze(backwards);
  EXPECT_EQ(disordered.trend, Trend::kInsufficient);
  EXPECT_NE(disordered.reason.find("time order"), std::string::npos) << disordered.reason;
  Signal huge = Make(50, 0.1, 0, 1, [](double) { return 0.0; });
  for (size_t i = 0; i < huge.y.size(); ++i) huge.y[i] = i % 2 ? 1.7e308 : -1.7e308;
  EXPECT_NE(Analyze(huge).trend, Trend::kGrowing);
}

TEST(AnalyzeGrowth, ConstantIsFlat) {
  const GrowthEvidence ev = Analyze(Make(100, 0.1, 0, 1, [](double) { return 4096.0 * 4000; }));
  EXPECT_EQ(ev.trend, Trend::kFlat) << ev.reason;
  EXPECT_EQ(ev.fit.slope, 0);
}

TEST(PredictLimitTime, PeaksReachTheLimitFirst) {
  // Floor 40 MB + 1 MB/s, peaks 10 MB above it: the 100 MB limit is reached
  // by the peaks at t = 50 s, not by the floor at 60 s.
  const GrowthEvidence ev =
      Analyze(Make(600, 0.1, 0, 1, [](double t) { return 40e6 + 1e6 * t + Saw(t, 2, 10e6); }));
  ASSERT_EQ(ev.trend, Trend::kGrowing) << ev.reason;
  EXPECT_NEAR(PredictLimitTime(ev, 100e6), 50, 2);
  GrowthEvidence flat;
  EXPECT_TRUE(std::isnan(PredictLimitTime(flat, 100e6)));
}

}  // namespace
}  // namespace leaklab::series
