#include "loadgen/histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace leaklab::loadgen {
namespace {

TEST(LatencyHistogram, BucketsAreContiguousAndHoldTheirValues) {
  const LatencyHistogram h;
  // Every value maps to a bucket whose range contains it, and consecutive
  // buckets tile the line without gaps or overlaps.
  for (size_t i = 1; i < h.bucket_count(); ++i) {
    ASSERT_EQ(h.LowestInBucket(i), h.HighestInBucket(i - 1) + 1) << "bucket " << i;
  }
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() % LatencyHistogram::kDefaultHighestValue;
    const size_t index = h.IndexOf(v);
    ASSERT_LE(h.LowestInBucket(index), v);
    ASSERT_GE(h.HighestInBucket(index), v);
  }
  EXPECT_EQ(h.IndexOf(LatencyHistogram::kDefaultHighestValue), h.bucket_count() - 1);
}

TEST(LatencyHistogram, KeepsThreeSignificantDigits) {
  const LatencyHistogram h;
  // Below 2048 every value has its own bucket; above, a bucket is at most
  // 1/1024 of its smallest value: better than 1 part in 1000.
  for (uint64_t v : {0ULL, 1ULL, 999ULL, 2047ULL}) {
    EXPECT_EQ(h.LowestInBucket(h.IndexOf(v)), v);
    EXPECT_EQ(h.HighestInBucket(h.IndexOf(v)), v);
  }
  for (size_t i = h.IndexOf(2048); i < h.bucket_count(); ++i) {
    const double width = static_cast<double>(h.HighestInBucket(i) - h.LowestInBucket(i) + 1);
    ASSERT_LE(width / static_cast<double>(h.LowestInBucket(i)), 1.0 / 1000) << "bucket " << i;
  }
  // 1 ns .. 1 hour in well under 64k counters.
  EXPECT_LT(h.bucket_count(), 40000u);
}

TEST(LatencyHistogram, OtherPrecisions) {
  const LatencyHistogram two(1'000'000, 2);
  for (size_t i = two.IndexOf(256); i < two.bucket_count(); ++i) {
    const double width = static_cast<double>(two.HighestInBucket(i) - two.LowestInBucket(i) + 1);
    ASSERT_LE(width / static_cast<double>(two.LowestInBucket(i)), 1.0 / 100);
  }
  EXPECT_LT(two.bucket_count(), LatencyHistogram(1'000'000, 3).bucket_count());
  EXPECT_THROW(LatencyHistogram(1000, 0), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(1000, 6), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(1, 3), std::invalid_argument);
}

TEST(LatencyHistogram, PercentilesOfAKnownDistribution) {
  LatencyHistogram h;
  // 1 us .. 10 ms in 1 us steps, in nanoseconds.
  for (uint64_t us = 1; us <= 10000; ++us) h.Record(us * 1000);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 10'000'000u);
  const std::pair<double, double> expected[] = {
      {50, 5'000'000}, {90, 9'000'000}, {99, 9'900'000}, {99.9, 9'990'000}, {100, 10'000'000}};
  for (const auto& [p, value] : expected) {
    const double got = static_cast<double>(h.ValueAtPercentile(p));
    EXPECT_GE(got, value) << p;
    EXPECT_LE(got, value * 1.001) << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(0), h.HighestInBucket(h.IndexOf(1000)));
  EXPECT_NEAR(h.mean(), 5'000'500, 1);
  // The standard deviation of a uniform 1..N (times 1000): N / sqrt(12).
  EXPECT_NEAR(h.stddev(), 10'000'000 / std::sqrt(12.0), 2000);
}

TEST(LatencyHistogram, PercentileRanksAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  // 99.9 % of 1000 values is the 999th, not the 1000th.
  EXPECT_EQ(h.ValueAtPercentile(99.9), 999u);
  EXPECT_EQ(h.ValueAtPercentile(50), 500u);
  EXPECT_EQ(h.ValueAtPercentile(100), 1000u);
}

TEST(LatencyHistogram, PercentileNeverExceedsTheMaximum) {
  LatencyHistogram h;
  h.Record(1'000'001);  // the middle of a bucket wider than 1
  EXPECT_EQ(h.ValueAtPercentile(50), 1'000'001u);
  EXPECT_EQ(h.ValueAtPercentile(100), 1'000'001u);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const uint64_t v = rng() % 50'000'000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.99}) {
    EXPECT_EQ(a.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
  for (size_t i = 0; i < a.bucket_count(); ++i) ASSERT_EQ(a.CountAt(i), all.CountAt(i));
  EXPECT_THROW(a.Merge(LatencyHistogram(1000, 3)), std::invalid_argument);
}

TEST(LatencyHistogram, SaturatesAboveTheHighestValue) {
  LatencyHistogram h(1'000'000, 3);
  h.Record(5'000'000);
  h.RecordN(10, 3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.saturated(), 1u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.ValueAtPercentile(50), 10u);
}

TEST(LatencyHistogram, EmptyAndReset) {
  LatencyHistogram h;
  EXPECT_EQ(h.ValueAtPercentile(99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.stddev(), 0);
  h.Record(42);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.CountAt(42), 0u);
}

}  // namespace
}  // namespace leaklab::loadgen
