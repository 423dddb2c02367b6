#include "analyzers/series/slope_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace leaklab::series {
namespace {

struct Points {
  std::vector<double> x, y;
};

// Points whose ties are controlled: x drawn from `x_values` distinct values
// (0 = all distinct), y from `y_values` (0 = continuous), around a slope of 2.
Points MakePoints(size_t n, size_t x_values, size_t y_values, uint64_t seed) {
  std::mt19937_64 random(seed);
  Points p;
  for (size_t i = 0; i < n; ++i) {
    const double x = x_values == 0
                         ? static_cast<double>(i) + 0.25 * static_cast<double>(random() % 4)
                         : static_cast<double>(random() % x_values);
    const double noise = y_values == 0 ? static_cast<double>(random() % 1'000'003) / 1e4
                                       : static_cast<double>(random() % y_values);
    p.x.push_back(x);
    p.y.push_back(2 * x + noise);
  }
  std::shuffle(p.x.begin(), p.x.end(), random);  // order of input must not matter...
  return p;
}

std::vector<double> SortedAllPairs(const Points& p) {
  std::vector<double> slopes;
  for (size_t i = 0; i < p.x.size(); ++i) {
    for (size_t j = i + 1; j < p.x.size(); ++j) {
      if (p.x[i] != p.x[j]) slopes.push_back((p.y[j] - p.y[i]) / (p.x[j] - p.x[i]));
    }
  }
  std::sort(slopes.begin(), slopes.end());
  return slopes;
}

TEST(PairwiseSlopes, CountsMatchBruteForceWithTies) {
  for (const auto& [x_values, y_values] :
       std::vector<std::pair<size_t, size_t>>{{0, 0}, {0, 7}, {13, 0}, {13, 5}, {3, 2}}) {
    const Points p = MakePoints(300, x_values, y_values, 17 + x_values);
    const std::vector<double> all = SortedAllPairs(p);
    const PairwiseSlopes slopes(p.x, p.y);
    ASSERT_EQ(slopes.size(), all.size());
    // Where many pairs share a slope, a slope exactly equal to t may round
    // to either side of it (slope_selection.h), so with ties t is taken
    // halfway between two distinct slopes.
    std::vector<double> ts = {all.front() - 1, all.front(), all.back(), all.back() + 1};
    for (size_t at : {all.size() / 3, all.size() / 2, all.size() - all.size() / 7}) {
      if (x_values == 0 && y_values == 0) {
        ts.push_back(all[at]);
      } else {
        const auto next = std::upper_bound(all.begin(), all.end(), all[at]);
        if (next != all.end()) ts.push_back((all[at] + *next) / 2);
      }
    }
    for (double t : ts) {
      const auto expected =
          static_cast<uint64_t>(std::upper_bound(all.begin(), all.end(), t) - all.begin());
      EXPECT_EQ(slopes.CountAtMost(t), expected)
          << "t " << t << " ties " << x_values << "/" << y_values;
    }
  }
}

TEST(PairwiseSlopes, SelectionEqualsTheSortedListOnTheRandomizedPath) {
  // 700 points: about 245,000 slopes, past the 65,536 that are listed
  // directly, so selection goes through sampling, counting and contraction.
  for (const auto& [x_values, y_values] :
       std::vector<std::pair<size_t, size_t>>{{0, 0}, {0, 3}, {40, 0}, {40, 2}}) {
    const Points p = MakePoints(700, x_values, y_values, 5 + y_values);
    const std::vector<double> all = SortedAllPairs(p);
    const PairwiseSlopes slopes(p.x, p.y);
    ASSERT_EQ(slopes.size(), all.size());
    const uint64_t n = all.size();
    const std::vector<uint64_t> ranks = {
        1, 2, n / 1000, n / 3, (n + 1) / 2, (n + 1) / 2 + 1, n - n / 5, n - 1, n};
    const std::vector<double> got = slopes.Select(ranks);
    for (size_t i = 0; i < ranks.size(); ++i) {
      EXPECT_EQ(got[i], all[ranks[i] - 1])
          << "rank " << ranks[i] << " ties " << x_values << "/" << y_values;
    }
  }
}

TEST(PairwiseSlopes, ManyEqualSlopes) {
  // Page-rounded memory that hardly moves: most slopes are exactly 0.
  std::mt19937_64 random(3);
  Points p;
  for (size_t i = 0; i < 2000; ++i) {
    p.x.push_back(0.1 * static_cast<double>(i));
    p.y.push_back(4096.0 * static_cast<double>(1000 + (random() % 10 == 0 ? random() % 3 : 0)));
  }
  const std::vector<double> all = SortedAllPairs(p);
  const PairwiseSlopes slopes(p.x, p.y);
  const uint64_t n = all.size();
  const std::vector<uint64_t> ranks = {n / 10, n / 2, n - n / 10, n};
  const std::vector<double> got = slopes.Select(ranks);
  for (size_t i = 0; i < ranks.size(); ++i) EXPECT_EQ(got[i], all[ranks[i] - 1]) << ranks[i];
}

TEST(PairwiseSlopes, ExactLineAndLargeOffsets) {
  Points p;
  for (size_t i = 0; i < 1000; ++i) {
    p.x.push_back(1.7e9 + static_cast<double>(i));  // Unix time
    p.y.push_back(5e8 + 4096.0 * static_cast<double>(i));
  }
  const PairwiseSlopes slopes(p.x, p.y);
  const uint64_t n = slopes.size();
  for (double v : slopes.Select(std::vector<uint64_t>{1, n / 2, n})) EXPECT_EQ(v, 4096);
}

TEST(PairwiseSlopes, RanksInTheOrderAskedWithRepeats) {
  const Points p = MakePoints(50, 0, 0, 1);
  const std::vector<double> all = SortedAllPairs(p);
  const std::vector<double> got =
      PairwiseSlopes(p.x, p.y).Select(std::vector<uint64_t>{9, 3, 9, 1});
  EXPECT_EQ(got, (std::vector<double>{all[8], all[2], all[8], all[0]}));
}

TEST(PairwiseSlopes, RejectsBadInput) {
  const std::vector<double> one = {1}, two = {1, 2};
  EXPECT_EQ(PairwiseSlopes(one, one).size(), 0u);
  EXPECT_THROW(PairwiseSlopes(one, one).Select(std::vector<uint64_t>{1}), std::invalid_argument);
  EXPECT_THROW(PairwiseSlopes(two, two).Select(std::vector<uint64_t>{0}), std::invalid_argument);
  EXPECT_THROW(PairwiseSlopes(two, two).Select(std::vector<uint64_t>{2}), std::invalid_argument);
  EXPECT_THROW(PairwiseSlopes(one, two), std::invalid_argument);
  const std::vector<double> nan = {1, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(PairwiseSlopes(two, nan), std::invalid_argument);
  const std::vector<double> same_x = {3, 3, 3}, y3 = {1, 2, 3};
  EXPECT_EQ(PairwiseSlopes(same_x, y3).size(), 0u);
}

}  // namespace
}  // namespace leaklab::series
