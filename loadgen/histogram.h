#ifndef LEAKLAB_LOADGEN_HISTOGRAM_H_
#define LEAKLAB_LOADGEN_HISTOGRAM_H_

// A log-linear histogram of non-negative integers (latencies in nanoseconds)
// with a fixed relative precision. The idea is Gil Tene's HdrHistogram
// (http://hdrhistogram.org/ and its "HdrHistogram" design notes): values are
// grouped by their power of two, every power-of-two range is split into the
// same number of equal sub-buckets, and so a bucket is never wider than a
// fixed fraction of the values it holds. Recording is a shift and an
// increment, merging is adding arrays, and 1 ns .. 1 hour at 3 significant
// decimal digits fits in about 34,000 counters. This is our own
// implementation of that idea, not a port of any HdrHistogram library.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace leaklab::loadgen {

class LatencyHistogram {
 public:
  // One hour in nanoseconds: the longest latency a request timeout allows.
  static constexpr uint64_t kDefaultHighestValue = 3'600'000'000'000ULL;

  // Tracks 0 .. highest_value (>= 2) with `significant_digits` (1..5) decimal
  // digits: every recorded value is reported within 10^-digits of itself.
  // Throws std::invalid_argument naming the bad parameter.
  explicit LatencyHistogram(uint64_t highest_value = kDefaultHighestValue,
                            int significant_digits = 3);

  // Values above highest_value are counted as highest_value, and in saturated().
  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t count);
  // Adds `other`'s counts; both must have been built with the same parameters
  // (std::invalid_argument otherwise).
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t saturated() const { return saturated_; }
  // Exact, not bucketed: the smallest and largest values recorded (0 when empty).
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  // Mean and population standard deviation of the recorded values (not bucketed).
  double mean() const;
  double stddev() const;

  // The smallest value v such that at least `percentile` % (0..100) of the
  // recorded values are <= v, up to the histogram's precision: the upper end
  // of the bucket where that rank falls, capped at max(). 0 when empty.
  uint64_t ValueAtPercentile(double percentile) const;

  // The share (0..100 %) of the recorded values between low and high
  // inclusive, a bucket counting when its midpoint does: wrk's "+/- Stdev"
  // column, with low and high one standard deviation either side of the mean.
  double PercentWithin(double low, double high) const;

  // The bucket layout, public for tests.
  size_t bucket_count() const { return counts_.size(); }
  size_t IndexOf(uint64_t value) const;
  uint64_t LowestInBucket(size_t index) const;
  uint64_t HighestInBucket(size_t index) const;
  uint64_t CountAt(size_t index) const { return counts_[index]; }

 private:
  uint64_t highest_value_;
  int significant_digits_;
  // Values below 2^sub_bucket_bits_ are counted exactly, one bucket each;
  // above, each power-of-two range has 2^(sub_bucket_bits_ - 1) buckets.
  int sub_bucket_bits_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t saturated_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Sums for the mean and standard deviation (doubles: an integer sum of
  // squares of nanosecond latencies would overflow).
  double sum_ = 0;
  double sum_of_squares_ = 0;
};

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_HISTOGRAM_H_
