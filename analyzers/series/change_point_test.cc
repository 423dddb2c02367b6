#include "analyzers/series/change_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace leaklab::series {
namespace {

// y(t) at 10 Hz with Gaussian noise, from a shape function.
template <class Shape>
void Make(size_t n, double noise, uint64_t seed, Shape shape, std::vector<double>& t,
          std::vector<double>& y) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> e(0, noise);
  t.resize(n);
  y.resize(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = 0.1 * static_cast<double>(i);
    y[i] = shape(t[i]) + e(random);
  }
}

TEST(SegmentLinear, ARampIsOneRegime) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    std::vector<double> t, y;
    Make(
        600, 2e5, seed, [](double x) { return 20e6 + 1e6 * x; }, t, y);
    const Segmentation s = SegmentLinear(t, y, {});
    EXPECT_EQ(s.starts, std::vector<size_t>{0}) << "seed " << seed;
    EXPECT_NEAR(s.noise, 2e5, 4e4);
  }
}

TEST(SegmentLinear, FindsTheEndOfWarmUp) {
  // A steep rise for 12 s, then flat: one change, near sample 120.
  std::vector<double> t, y;
  Make(
      600, 1e5, 3, [](double x) { return 20e6 + 2e6 * std::min(x, 12.0); }, t, y);
  const Segmentation s = SegmentLinear(t, y, {});
  ASSERT_EQ(s.starts.size(), 2u);
  EXPECT_NEAR(static_cast<double>(s.starts[1]), 120, 4);
}

TEST(SegmentLinear, FindsALevelShift) {
  std::vector<double> t, y;
  Make(
      400, 1e5, 4, [](double x) { return x < 16 ? 30e6 : 38e6; }, t, y);
  const Segmentation s = SegmentLinear(t, y, {});
  ASSERT_EQ(s.starts.size(), 2u);
  EXPECT_NEAR(static_cast<double>(s.starts[1]), 160, 2);
}

TEST(SegmentLinear, FlatToTheByteIsNotCutAtEveryPage) {
  // Page-rounded RSS that moves by one page now and then: no regimes.
  std::vector<double> t(300), y(300);
  for (size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<double>(i);
    y[i] = 16e6 + 4096.0 * static_cast<double>((i / 37) % 2);
  }
  EXPECT_EQ(SegmentLinear(t, y, {}).starts, std::vector<size_t>{0});
}

TEST(SegmentLinear, LongInputIsDecimatedAndMappedBack) {
  std::vector<double> t, y;
  Make(
      50'000, 1e5, 5, [](double x) { return x < 1500 ? 30e6 : 38e6; }, t, y);
  const Segmentation s = SegmentLinear(t, y, {});
  ASSERT_EQ(s.starts.size(), 2u);
  EXPECT_NEAR(static_cast<double>(s.starts[1]), 15'000, 60);  // within one stride of 50
}

TEST(SegmentLinear, ShortOrEmptyInput) {
  EXPECT_TRUE(SegmentLinear({}, {}, {}).starts.empty());
  const std::vector<double> t = {0, 1, 2, 3, 4, 5, 6}, y = {1, 1, 1, 9, 9, 9, 9};
  EXPECT_EQ(SegmentLinear(t, y, {}).starts, std::vector<size_t>{0});  // under two minimum segments
}

}  // namespace
}  // namespace leaklab::series
