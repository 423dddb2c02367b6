#include "report/downsample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace leaklab::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(MinMaxPerColumn, KeepsASingleSpikeAndDipAmongAMillionSamples) {
  constexpr size_t n = 1'000'000;
  std::vector<double> t(n), v(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = 0.1 * static_cast<double>(i);
    v[i] = 100.0 + static_cast<double>(i % 7);  // noise between 100 and 106
  }
  v[654'321] = 5000;  // one spike
  v[123'456] = -40;   // one dip
  const std::vector<Point> out = MinMaxPerColumn(t, v, t.front(), t.back(), 1000);
  ASSERT_LE(out.size(), 2000u);
  ASSERT_GE(out.size(), 1000u);
  const auto [lo, hi] =
      std::minmax_element(out.begin(), out.end(), [](Point a, Point b) { return a.v < b.v; });
  EXPECT_EQ(hi->v, 5000);
  EXPECT_DOUBLE_EQ(hi->t, t[654'321]);
  EXPECT_EQ(lo->v, -40);
  EXPECT_DOUBLE_EQ(lo->t, t[123'456]);
  // Points stay in time order, so the path is drawn left to right.
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end(), [](Point a, Point b) { return a.t < b.t; }));
}

TEST(MinMaxPerColumn, ShortSeriesKeepsEveryPoint) {
  const std::vector<double> t = {0, 1, 2, 3}, v = {5, 7, 6, 9};
  const std::vector<Point> out = MinMaxPerColumn(t, v, 0, 3, 1000);
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].t, t[i]);
    EXPECT_EQ(out[i].v, v[i]);
  }
}

TEST(MinMaxPerColumn, MinAndMaxOfAColumnComeInTheOrderTheyOccurred) {
  // One column: max first, then min.
  const std::vector<double> t = {0, 0.1, 0.2, 0.3}, v = {5, 9, 1, 5};
  const std::vector<Point> out = MinMaxPerColumn(t, v, 0, 100, 10);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].v, 9);
  EXPECT_EQ(out[1].v, 1);
}

TEST(MinMaxPerColumn, MissingValuesAcrossColumnsBreakTheLine) {
  std::vector<double> t, v;
  for (int i = 0; i < 100; ++i) {
    t.push_back(i);
    v.push_back(i >= 40 && i < 60 ? kNaN : 1.0 * i);
  }
  const std::vector<Point> out = MinMaxPerColumn(t, v, 0, 99, 50);
  const size_t breaks =
      std::count_if(out.begin(), out.end(), [](Point p) { return std::isnan(p.v); });
  EXPECT_EQ(breaks, 1u);
  // A single missing sample inside a column is skipped, not a break.
  v.assign(100, 1.0);
  v[10] = kNaN;
  const std::vector<Point> one = MinMaxPerColumn(t, v, 0, 99, 50);
  EXPECT_EQ(std::count_if(one.begin(), one.end(), [](Point p) { return std::isnan(p.v); }), 0);
}

TEST(MinMaxPerColumn, EmptyAndDegenerateInputs) {
  EXPECT_TRUE(MinMaxPerColumn({}, {}, 0, 1, 100).empty());
  const std::vector<double> t = {1, 2}, v = {kNaN, kNaN};
  EXPECT_TRUE(MinMaxPerColumn(t, v, 0, 3, 100).empty());
  const std::vector<double> w = {3, 4};
  EXPECT_TRUE(MinMaxPerColumn(t, w, 0, 3, 0).empty());
  // One instant: everything in one column.
  const std::vector<double> same = {5, 5, 5}, vals = {1, 3, 2};
  EXPECT_EQ(MinMaxPerColumn(same, vals, 5, 5, 100).size(), 2u);
  // Samples outside the span are left out.
  EXPECT_EQ(MinMaxPerColumn(t, w, 1.5, 3, 100).size(), 1u);
}

}  // namespace
}  // namespace leaklab::report
