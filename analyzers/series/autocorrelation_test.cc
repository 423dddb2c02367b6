#include "analyzers/series/autocorrelation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

namespace leaklab::series {
namespace {

TEST(Autocorrelation, HandWorkedExample) {
  // v = 1 2 3 4, mean 2.5, deviations -1.5 -0.5 0.5 1.5.
  // c0 = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25
  // c1 = (0.75 - 0.25 + 0.75)/4 = 0.3125        r1 = 0.25
  // c2 = (-0.75 - 0.75)/4 = -0.375              r2 = -0.3
  // c3 = (-2.25)/4 = -0.5625                    r3 = -0.45
  const std::vector<double> r = Autocorrelation(std::vector<double>{1, 2, 3, 4}, 10);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_DOUBLE_EQ(r[0], 1);
  EXPECT_DOUBLE_EQ(r[1], 0.25);
  EXPECT_DOUBLE_EQ(r[2], -0.3);
  EXPECT_DOUBLE_EQ(r[3], -0.45);
}

TEST(Autocorrelation, FftPathMatchesTheDirectSum) {
  // 5000 points and 5000 lags is past the direct-sum limit: the FFT path.
  std::mt19937_64 random(3);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> v(5000);
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = 1e6 + 50 * std::sin(2 * std::numbers::pi * static_cast<double>(i) / 37) + noise(random);
  }
  const std::vector<double> fast = Autocorrelation(v, v.size());
  ASSERT_EQ(fast.size(), v.size());
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double c0 = 0;
  for (double x : v) c0 += (x - mean) * (x - mean);
  for (size_t k : {1u, 2u, 18u, 37u, 74u, 1000u, 4998u, 4999u}) {
    double ck = 0;
    for (size_t i = 0; i + k < v.size(); ++i) ck += (v[i] - mean) * (v[i + k] - mean);
    EXPECT_NEAR(fast[k], ck / c0, 1e-9) << "lag " << k;
  }
  // A sine of period 37 correlates strongly at its period, negatively at half of it.
  EXPECT_GT(fast[37], 0.9);
  EXPECT_LT(fast[18], -0.8);
}

TEST(Autocorrelation, ConstantHasNoCorrelation) {
  const std::vector<double> r = Autocorrelation(std::vector<double>(100000, 4096.0), 3);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], 1);
  EXPECT_EQ(r[1], 0);
  EXPECT_EQ(r[3], 0);
}

TEST(Autocorrelation, EdgeCases) {
  EXPECT_TRUE(Autocorrelation(std::vector<double>{}, 5).empty());
  EXPECT_EQ(Autocorrelation(std::vector<double>{7}, 5), std::vector<double>{1});
  EXPECT_THROW(Autocorrelation(std::vector<double>{1, std::numeric_limits<double>::quiet_NaN()}, 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace leaklab::series
