#include "analyzers/series/trend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

namespace leaklab::series {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// O(n^2) Mann-Kendall straight from the definitions, the reference for the
// O(n log n) implementation.
MannKendall BruteForceMannKendall(const std::vector<double>& y) {
  const size_t n = y.size();
  int64_t s = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) s += (y[j] > y[i]) - (y[j] < y[i]);
  }
  std::map<double, int64_t> group_sizes;
  for (double v : y) ++group_sizes[v];
  const auto term = [](int64_t t) { return t * (t - 1) * (2 * t + 5); };
  int64_t numerator = term(static_cast<int64_t>(n));
  for (const auto& [value, t] : group_sizes) numerator -= term(t);
  MannKendall result{};
  result.s = static_cast<double>(s);
  result.var_s = static_cast<double>(numerator) / 18;
  result.n = n;
  return result;
}

TEST(MannKendallTest, IncreasingFivePoints) {
  // S: all 10 pairs rise. Var(S) = 5*4*15/18 = 300/18 = 16.667.
  // z = (10 - 1) / sqrt(16.667) = 2.2045; p = erfc(2.2045 / sqrt 2) = 0.0275.
  const MannKendall mk = MannKendallTest(std::vector<double>{1, 2, 3, 4, 5});
  EXPECT_EQ(mk.s, 10);
  EXPECT_DOUBLE_EQ(mk.var_s, 300.0 / 18);
  EXPECT_NEAR(mk.z, 2.2045, 1e-4);
  EXPECT_NEAR(mk.p_value, 0.0275, 1e-4);
  EXPECT_EQ(mk.n, 5u);
}

TEST(MannKendallTest, DecreasingFivePoints) {
  // The mirror image: S = -10, z = (-10 + 1) / sqrt(16.667) = -2.2045, same p.
  const MannKendall mk = MannKendallTest(std::vector<double>{5, 4, 3, 2, 1});
  EXPECT_EQ(mk.s, -10);
  EXPECT_DOUBLE_EQ(mk.var_s, 300.0 / 18);
  EXPECT_NEAR(mk.z, -2.2045, 1e-4);
  EXPECT_NEAR(mk.p_value, 0.0275, 1e-4);
}

TEST(MannKendallTest, TiesCorrectTheVariance) {
  // y = 3 1 3 2 3 4 4 (n = 7). Signs of y[j] - y[i] for each i, over j > i:
  //   i=0 (3): 1- 3= 2- 3= 4+ 4+   ->  0
  //   i=1 (1): 3+ 2+ 3+ 4+ 4+      -> +5
  //   i=2 (3): 2- 3= 4+ 4+         -> +1
  //   i=3 (2): 3+ 4+ 4+            -> +3
  //   i=4 (3): 4+ 4+               -> +2
  //   i=5 (4): 4=                  ->  0      S = 11
  // Tie groups: three 3s (t=3) and two 4s (t=2).
  //   Var(S) = [n(n-1)(2n+5) - 3*2*11 - 2*1*9] / 18 = [7*6*19 - 66 - 18] / 18
  //          = (798 - 84) / 18 = 714 / 18 = 39.667   (without ties: 798/18 = 44.333)
  //   z = (11 - 1) / sqrt(39.667) = 10 / 6.2981 = 1.5878; p = 0.1123.
  const MannKendall mk = MannKendallTest(std::vector<double>{3, 1, 3, 2, 3, 4, 4});
  EXPECT_EQ(mk.s, 11);
  EXPECT_DOUBLE_EQ(mk.var_s, 714.0 / 18);
  EXPECT_NEAR(mk.z, 1.5878, 1e-4);
  EXPECT_NEAR(mk.p_value, 0.1123, 1e-4);
}

TEST(MannKendallTest, ConstantSeriesIsNoTrendNotNaN) {
  // Every pair is tied: S = 0 and Var(S) = [6*5*17 - 6*5*17] / 18 = 0.
  const MannKendall mk = MannKendallTest(std::vector<double>{7, 7, 7, 7, 7, 7});
  EXPECT_EQ(mk.s, 0);
  EXPECT_EQ(mk.var_s, 0);
  EXPECT_EQ(mk.z, 0);
  EXPECT_EQ(mk.p_value, 1);
}

TEST(MannKendallTest, TwoPoints) {
  // S = 1, Var(S) = 2*1*9/18 = 1, z = (1 - 1)/1 = 0, p = 1.
  const MannKendall mk = MannKendallTest(std::vector<double>{1, 2});
  EXPECT_EQ(mk.s, 1);
  EXPECT_EQ(mk.var_s, 1);
  EXPECT_EQ(mk.z, 0);
  EXPECT_EQ(mk.p_value, 1);
}

TEST(MannKendallTest, RejectsDegenerateInput) {
  EXPECT_THROW(MannKendallTest(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(MannKendallTest(std::vector<double>{1}), std::invalid_argument);
  EXPECT_THROW(MannKendallTest(std::vector<double>{1, kNaN, 3}), std::invalid_argument);
  EXPECT_THROW(MannKendallTest(std::vector<double>{1, kInf}), std::invalid_argument);
}

TEST(MannKendallTest, MessageNamesTheNaN) {
  try {
    MannKendallTest(std::vector<double>{1, 2, kNaN});
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "Mann-Kendall test: y[2] is NaN; drop missing samples before the call");
  }
}

TEST(MannKendallTest, MatchesBruteForceWithTies) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 random(seed);
    std::vector<double> y(500);
    // Few distinct values, so ties are everywhere; a drift so S is far from 0.
    for (size_t i = 0; i < y.size(); ++i) {
      y[i] = static_cast<double>(random() % 20) + (seed % 2 ? static_cast<double>(i / 50) : 0.0);
    }
    const MannKendall expected = BruteForceMannKendall(y);
    const MannKendall mk = MannKendallTest(y);
    EXPECT_EQ(mk.s, expected.s) << "seed " << seed;
    EXPECT_DOUBLE_EQ(mk.var_s, expected.var_s) << "seed " << seed;
  }
}

TEST(MannKendallTest, MatchesBruteForceAtEverySmallSize) {
  // Every length from 2 to 80 exercises every shape of the merge passes.
  std::mt19937_64 random(99);
  for (size_t n = 2; n <= 80; ++n) {
    std::vector<double> y(n);
    for (double& v : y) v = static_cast<double>(random() % 5) - 2.0;
    const MannKendall expected = BruteForceMannKendall(y);
    const MannKendall mk = MannKendallTest(y);
    EXPECT_EQ(mk.s, expected.s) << "n " << n;
    EXPECT_DOUBLE_EQ(mk.var_s, expected.var_s) << "n " << n;
  }
}

TEST(MannKendallTest, MillionPointsDoNotOverflow) {
  const size_t n = 1'000'000;
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<double>(i);
  const MannKendall mk = MannKendallTest(y);
  EXPECT_EQ(mk.s, 499'999'500'000.0);  // n(n-1)/2, every pair rises
  // n(n-1)(2n+5)/18 = 1e6 * 999999 * 2000005 / 18
  EXPECT_DOUBLE_EQ(mk.var_s, 1e6 * 999999.0 * 2000005.0 / 18);
  EXPECT_EQ(mk.p_value, 0);
}

TEST(TheilSenEstimate, MedianOfPairwiseSlopesByHand) {
  // x = 1 2 3 4, y = 1 3 2 5. Slopes (y_j - y_i) / (x_j - x_i):
  //   (1,2) 2   (1,3) 1/2   (1,4) 4/3   (2,3) -1   (2,4) 1   (3,4) 3
  // Sorted: -1, 1/2, 1, 4/3, 2, 3; the median is (1 + 4/3) / 2 = 7/6.
  // Residuals y - 7/6 x: -1/6, 2/3, -3/2, 1/3; median (-1/6 + 1/3) / 2 = 1/12.
  // Interval: Var(S) = 4*3*13/18 = 8.667, C = 1.96 * 2.944 = 5.770, and the
  // rank (6 - 5.770)/2 = 0.115 is below 1, (6 + 5.770)/2 + 1 = 6.885 above 6:
  // four points cannot bound the slope at 95%.
  const TheilSen ts =
      TheilSenEstimate(std::vector<double>{1, 2, 3, 4}, std::vector<double>{1, 3, 2, 5});
  EXPECT_DOUBLE_EQ(ts.slope, 7.0 / 6);
  EXPECT_NEAR(ts.intercept, 1.0 / 12, 1e-12);  // residuals cancel: not exact in binary
  EXPECT_EQ(ts.slope_low, -kInf);
  EXPECT_EQ(ts.slope_high, kInf);
  EXPECT_EQ(ts.n, 4u);
}

TEST(TheilSenEstimate, ConfidenceIntervalByHand) {
  // x = 1..6, y = 1 2 4 3 6 5: N = 15 pairs, whose slopes sorted are
  //   -1 -1 1/3 1/2 2/3 3/4 4/5 1 1 1 5/4 4/3 3/2 2 3
  // The median (rank 8) is 1; residuals y - x = 0 0 1 -1 1 -1, median 0.
  // No ties: Var(S) = 6*5*17/18 = 28.333, C = 1.959964 * 5.32291 = 10.43270.
  // Lower rank (15 - C)/2 = 2.28365: between rank 2 (-1) and rank 3 (1/3),
  //   -1 + 0.28365 * (4/3) = -0.62180.
  // Upper rank (15 + C)/2 + 1 = 13.71635: between rank 13 (3/2) and 14 (2),
  //   1.5 + 0.71635 * 0.5 = 1.85818.
  const TheilSen ts = TheilSenEstimate(std::vector<double>{1, 2, 3, 4, 5, 6},
                                       std::vector<double>{1, 2, 4, 3, 6, 5});
  EXPECT_DOUBLE_EQ(ts.slope, 1);
  EXPECT_DOUBLE_EQ(ts.intercept, 0);
  EXPECT_NEAR(ts.slope_low, -0.62180, 1e-5);
  EXPECT_NEAR(ts.slope_high, 1.85818, 1e-5);
}

TEST(TheilSenEstimate, OutlierDoesNotMoveTheLine) {
  // y = 2x + 1 with one wild point. 36 of the 45 slopes are exactly 2, so the
  // median (rank 23) is 2; 9 of the 10 residuals are exactly 1.
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i);
    y.push_back(2 * i + 1);
  }
  y[5] = 100;
  const TheilSen ts = TheilSenEstimate(x, y);
  EXPECT_EQ(ts.slope, 2);
  EXPECT_EQ(ts.intercept, 1);
  EXPECT_LE(ts.slope_low, 2);
  EXPECT_GE(ts.slope_high, 2);
  // Least squares, by contrast, is dragged off the line by the same point.
  EXPECT_GT(std::abs(LeastSquares(x, y).slope - 2), 0.5);
}

TEST(TheilSenEstimate, PairsWithEqualXAreLeftOut) {
  // x = 0 0 1, y = 0 5 1: the pair (0, 1) has no slope; the others give
  // 1/1 = 1 and (1 - 5)/1 = -4, median -1.5.
  const TheilSen ts = TheilSenEstimate(std::vector<double>{0, 0, 1}, std::vector<double>{0, 5, 1});
  EXPECT_DOUBLE_EQ(ts.slope, -1.5);
}

TEST(TheilSenEstimate, RejectsDegenerateInput) {
  const std::vector<double> one = {1};
  const std::vector<double> two = {1, 2};
  EXPECT_THROW(TheilSenEstimate(one, one), std::invalid_argument);
  EXPECT_THROW(TheilSenEstimate(two, one), std::invalid_argument);
  EXPECT_THROW(TheilSenEstimate(std::vector<double>{3, 3, 3}, std::vector<double>{1, 2, 3}),
               std::invalid_argument);
  EXPECT_THROW(TheilSenEstimate(two, std::vector<double>{1, kNaN}), std::invalid_argument);
  EXPECT_THROW(TheilSenEstimate(std::vector<double>{kInf, 1}, two), std::invalid_argument);
}

// A line with deterministic noise and 10% wild points, for the sampled path.
void NoisyLine(size_t n, uint64_t seed, std::vector<double>& x, std::vector<double>& y) {
  std::mt19937_64 random(seed);
  x.resize(n);
  y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = 0.5 * static_cast<double>(i);
    const double noise = static_cast<double>(random() % 2001) / 1000.0 - 1.0;  // [-1, 1]
    y[i] = 3 * x[i] + 10 + noise;
    if (random() % 10 == 0) y[i] += 1000;
  }
}

TEST(TheilSenEstimate, LargeSeriesIsAccurateAndDeterministic) {
  std::vector<double> x;
  std::vector<double> y;
  NoisyLine(20'000, 7, x, y);
  const TheilSen ts = TheilSenEstimate(x, y);
  EXPECT_NEAR(ts.slope, 3, 1e-3);
  EXPECT_NEAR(ts.intercept, 10, 0.5);
  EXPECT_LT(ts.slope_low, ts.slope);
  EXPECT_GT(ts.slope_high, ts.slope);
  EXPECT_LT(ts.slope_high - ts.slope_low, 0.01);
  const TheilSen again = TheilSenEstimate(x, y);
  EXPECT_EQ(again.slope, ts.slope);
  EXPECT_EQ(again.slope_low, ts.slope_low);
  EXPECT_EQ(again.slope_high, ts.slope_high);
  EXPECT_EQ(again.intercept, ts.intercept);
}

// The value at a 1-based fractional rank of the sorted slopes, as Sen's
// interval reads it: interpolated between neighbours.
double AtRank(const std::vector<double>& sorted, double rank) {
  const auto low = static_cast<size_t>(std::floor(rank));
  const size_t high = std::min(static_cast<size_t>(std::ceil(rank)), sorted.size());
  return sorted[low - 1] + (rank - std::floor(rank)) * (sorted[high - 1] - sorted[low - 1]);
}

TEST(TheilSenEstimate, EqualsAllPairsWellAboveTheListingLimit) {
  // 2001 points: 2 million slopes, far past what is listed, so the slope and
  // both interval ends come from randomized selection; they must equal the
  // order statistics of the full list.
  for (uint64_t seed : {11u, 12u}) {
    std::vector<double> x;
    std::vector<double> y;
    NoisyLine(2001, seed, x, y);
    std::vector<double> slopes;
    for (size_t i = 0; i < x.size(); ++i) {
      for (size_t j = i + 1; j < x.size(); ++j) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
    }
    std::sort(slopes.begin(), slopes.end());
    const auto n_pairs = static_cast<double>(slopes.size());
    std::vector<double> sorted_y = y;
    std::sort(sorted_y.begin(), sorted_y.end());
    const MannKendall mk = MannKendallTest(y);
    const double c = 1.959963984540054 * std::sqrt(mk.var_s);
    const TheilSen ts = TheilSenEstimate(x, y);
    EXPECT_EQ(ts.slope, AtRank(slopes, (n_pairs + 1) / 2)) << seed;
    EXPECT_DOUBLE_EQ(ts.slope_low, AtRank(slopes, (n_pairs - c) / 2)) << seed;
    EXPECT_DOUBLE_EQ(ts.slope_high, AtRank(slopes, (n_pairs + c) / 2 + 1)) << seed;
  }
}

TEST(TheilSenEstimate, GivenVarianceWidensTheInterval) {
  std::vector<double> x;
  std::vector<double> y;
  NoisyLine(500, 5, x, y);
  const TheilSen plain = TheilSenEstimate(x, y);
  const MannKendall mk = MannKendallTest(y);
  const TheilSen wide = TheilSenEstimate(x, y, 16 * mk.var_s);
  EXPECT_EQ(wide.slope, plain.slope);
  EXPECT_LT(wide.slope_low, plain.slope_low);
  EXPECT_GT(wide.slope_high, plain.slope_high);
  EXPECT_THROW(TheilSenEstimate(x, y, -1), std::invalid_argument);
}

TEST(LeastSquares, ThreePointsByHand) {
  // x = 1 2 3, y = 1 2 2: means 2 and 5/3; Sxx = 2, Sxy = (-1)(-2/3) + 0 + (1)(1/3) = 1,
  // Syy = 4/9 + 1/9 + 1/9 = 2/3. Slope 1/2, intercept 5/3 - 1 = 2/3,
  // R^2 = Sxy^2 / (Sxx Syy) = 1 / (4/3) = 3/4.
  const LinearFit fit = LeastSquares(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2, 2});
  EXPECT_DOUBLE_EQ(fit.slope, 0.5);
  EXPECT_DOUBLE_EQ(fit.intercept, 2.0 / 3);
  EXPECT_DOUBLE_EQ(fit.r_squared, 0.75);
  EXPECT_EQ(fit.n, 3u);
}

TEST(LeastSquares, ExactLineAndFlatLine) {
  const std::vector<double> x = {0, 10, 20, 30};
  const LinearFit line = LeastSquares(x, std::vector<double>{5, 45, 85, 125});
  EXPECT_DOUBLE_EQ(line.slope, 4);
  EXPECT_DOUBLE_EQ(line.intercept, 5);
  EXPECT_DOUBLE_EQ(line.r_squared, 1);
  const LinearFit flat = LeastSquares(x, std::vector<double>{9, 9, 9, 9});
  EXPECT_EQ(flat.slope, 0);
  EXPECT_EQ(flat.intercept, 9);
  EXPECT_EQ(flat.r_squared, 1);
}

TEST(LeastSquares, KeepsPrecisionWithLargeX) {
  // Unix time in seconds as x: a one-pass formula would lose the slope here.
  std::vector<double> x;
  std::vector<double> y;
  for (int i = 0; i < 100; ++i) {
    x.push_back(1.7e9 + i);
    y.push_back(4096.0 * i + 1e6);
  }
  const LinearFit fit = LeastSquares(x, y);
  EXPECT_NEAR(fit.slope, 4096, 1e-6);
  EXPECT_NEAR(fit.r_squared, 1, 1e-12);
}

TEST(LeastSquares, RejectsDegenerateInput) {
  EXPECT_THROW(LeastSquares(std::vector<double>{1}, std::vector<double>{1}), std::invalid_argument);
  EXPECT_THROW(LeastSquares(std::vector<double>{1, 2}, std::vector<double>{1}),
               std::invalid_argument);
  EXPECT_THROW(LeastSquares(std::vector<double>{0.1, 0.1, 0.1}, std::vector<double>{1, 2, 3}),
               std::invalid_argument);
  EXPECT_THROW(LeastSquares(std::vector<double>{1, 2}, std::vector<double>{kNaN, 1}),
               std::invalid_argument);
}

}  // namespace
}  // namespace leaklab::series

namespace leaklab::series {
namespace {

// An AR(1) series, y[i] = phi y[i-1] + e[i]: no trend, but strongly
// autocorrelated, as a memory floor is.
std::vector<double> Ar1(size_t n, double phi, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> e(0, 1);
  std::vector<double> y(n);
  double v = 0;
  for (size_t i = 0; i < n; ++i) y[i] = v = phi * v + e(random);
  return y;
}

TEST(MannKendallTestHamedRao, IndependentNoiseIsBarelyCorrected) {
  // Lags that look correlated by chance (5 % of them) inflate the variance a
  // little; on average by about 10 % for white noise of this length.
  double factor_sum = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 random(seed);
    std::normal_distribution<double> e(0, 1);
    std::vector<double> x(400), y(400);
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<double>(i);
      y[i] = e(random);
    }
    const MannKendall hr = MannKendallTestHamedRao(x, y, 0);
    EXPECT_EQ(hr.s, MannKendallTest(y).s);
    EXPECT_GE(hr.variance_factor, 1.0);
    EXPECT_LT(hr.variance_factor, 2.5);
    factor_sum += hr.variance_factor;
  }
  EXPECT_LT(factor_sum / 20, 1.3);
}

TEST(MannKendallTestHamedRao, AutocorrelatedNoiseIsNotATrend) {
  // phi = 0.95: the plain test calls most of these "trending" at 1 %; the
  // corrected one must not, and its factor should be near the AR(1) theory
  // of about (1 + phi) / (1 - phi) = 39 for rank correlation.
  int plain_hits = 0, corrected_hits = 0;
  double factor_sum = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<double> y = Ar1(1000, 0.95, seed);
    std::vector<double> x(y.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
    const MannKendall hr = MannKendallTestHamedRao(x, y, TheilSenEstimate(x, y).slope);
    plain_hits += MannKendallTest(y).p_value < 0.01;
    corrected_hits += hr.p_value < 0.01;
    factor_sum += hr.variance_factor;
    EXPECT_GT(hr.significant_lags, 0u);
  }
  EXPECT_GE(plain_hits, 10);
  EXPECT_LE(corrected_hits, 2);
  EXPECT_GT(factor_sum / 20, 8);
}

TEST(MannKendallTestHamedRao, RealTrendSurvivesTheCorrection) {
  std::vector<double> y = Ar1(1000, 0.5, 4);
  std::vector<double> x(y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<double>(i);
    y[i] += 0.01 * x[i];  // 10 over the run, against noise of sd ~1.15
  }
  const MannKendall hr = MannKendallTestHamedRao(x, y, TheilSenEstimate(x, y).slope);
  EXPECT_GT(hr.variance_factor, 1.5);
  EXPECT_LT(hr.p_value, 1e-6);
}

TEST(MannKendallTestHamedRao, SmallAndDegenerateInput) {
  const std::vector<double> x = {0, 1};
  EXPECT_EQ(MannKendallTestHamedRao(x, x, 1).variance_factor, 1);
  const std::vector<double> x3 = {0, 1, 2}, flat = {5, 5, 5};
  EXPECT_EQ(MannKendallTestHamedRao(x3, flat, 0).p_value, 1);
  EXPECT_THROW(MannKendallTestHamedRao(x3, x, 0), std::invalid_argument);
  EXPECT_THROW(MannKendallTestHamedRao(x3, flat, kNaN), std::invalid_argument);
}

TEST(TwoSidedZ, KnownQuantiles) {
  EXPECT_NEAR(TwoSidedZ(0.95), 1.959963984540054, 1e-12);
  EXPECT_NEAR(TwoSidedZ(0.99), 2.5758293035489, 1e-12);
  EXPECT_THROW(TwoSidedZ(1), std::invalid_argument);
  EXPECT_THROW(TwoSidedZ(0), std::invalid_argument);
}

TEST(MedianOf, OddEvenAndEmpty) {
  const double odd[] = {5, 1, 3};
  const double even[] = {4, 1, 3, 2};
  EXPECT_EQ(MedianOf(odd), 3);
  EXPECT_EQ(MedianOf(even), 2.5);
  EXPECT_EQ(MedianOf(std::span<const double>()), 0);
}

}  // namespace
}  // namespace leaklab::series
