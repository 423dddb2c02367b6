#include "loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace leaklab::loadgen {
namespace {

// Bits needed so that one power-of-two range holds at least 10^digits
// distinct sub-buckets in its upper half: a bucket is then never wider than
// 10^-digits of its smallest value. (HdrHistogram sizes its sub-buckets by
// the same rule: 2 * 10^digits values per range, rounded up to a power of two.)
int SubBucketBits(int significant_digits) {
  uint64_t needed = 2;
  for (int i = 0; i < significant_digits; ++i) needed *= 10;
  return std::bit_width(needed - 1);  // ceil(log2(needed))
}

}  // namespace

LatencyHistogram::LatencyHistogram(uint64_t highest_value, int significant_digits)
    : highest_value_(highest_value), significant_digits_(significant_digits) {
  if (significant_digits < 1 || significant_digits > 5) {
    throw std::invalid_argument("significant_digits must be 1..5 (got " +
                                std::to_string(significant_digits) + ")");
  }
  if (highest_value < 2) {
    throw std::invalid_argument("highest_value must be >= 2 (got " + std::to_string(highest_value) +
                                ")");
  }
  sub_bucket_bits_ = SubBucketBits(significant_digits);
  counts_.assign(IndexOf(highest_value) + 1, 0);
}

// The layout, with S = 2^sub_bucket_bits_ and H = S / 2:
//   1. values 0 .. S-1 have one bucket each (index = value);
//   2. a larger value v, whose highest set bit is bit m (m >= sub_bucket_bits_),
//      is shifted right by m - sub_bucket_bits_ + 1 bits, which leaves a number
//      in [H, S): its sub-bucket. Each shift (each power of two) adds H buckets.
// So bucket widths double from one power of two to the next while staying at
// most 1/H of the values they hold.
size_t LatencyHistogram::IndexOf(uint64_t value) const {
  const uint64_t sub_buckets = uint64_t{1} << sub_bucket_bits_;
  if (value < sub_buckets) return static_cast<size_t>(value);
  const int highest_bit = std::bit_width(value) - 1;
  const int shift = highest_bit - sub_bucket_bits_ + 1;
  const uint64_t half = sub_buckets / 2;
  return static_cast<size_t>(sub_buckets + static_cast<uint64_t>(shift - 1) * half +
                             ((value >> shift) - half));
}

uint64_t LatencyHistogram::LowestInBucket(size_t index) const {
  const uint64_t sub_buckets = uint64_t{1} << sub_bucket_bits_;
  if (index < sub_buckets) return index;
  const uint64_t half = sub_buckets / 2;
  const uint64_t above = index - sub_buckets;
  const int shift = static_cast<int>(above / half) + 1;
  return (half + above % half) << shift;
}

uint64_t LatencyHistogram::HighestInBucket(size_t index) const {
  const uint64_t sub_buckets = uint64_t{1} << sub_bucket_bits_;
  if (index < sub_buckets) return index;
  const uint64_t half = sub_buckets / 2;
  const int shift = static_cast<int>((index - sub_buckets) / half) + 1;
  return LowestInBucket(index) + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::RecordN(uint64_t value, uint64_t count) {
  if (count == 0) return;
  if (value > highest_value_) {
    value = highest_value_;
    saturated_ += count;
  }
  counts_[IndexOf(value)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  const double v = static_cast<double>(value);
  const double n = static_cast<double>(count);
  sum_ += v * n;
  sum_of_squares_ += v * v * n;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.highest_value_ != highest_value_ || other.significant_digits_ != significant_digits_) {
    throw std::invalid_argument("cannot merge histograms with different ranges or precision");
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  saturated_ += other.saturated_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  sum_of_squares_ += other.sum_of_squares_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = saturated_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = sum_of_squares_ = 0;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

double LatencyHistogram::stddev() const {
  if (count_ == 0) return 0;
  const double m = mean();
  const double variance = sum_of_squares_ / static_cast<double>(count_) - m * m;
  return variance > 0 ? std::sqrt(variance) : 0;
}

double LatencyHistogram::PercentWithin(double low, double high) const {
  if (count_ == 0) return 0;
  uint64_t within = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const double mid =
        (static_cast<double>(LowestInBucket(i)) + static_cast<double>(HighestInBucket(i))) / 2;
    if (mid >= low && mid <= high) within += counts_[i];
  }
  return 100.0 * static_cast<double>(within) / static_cast<double>(count_);
}

uint64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank of the value asked for, 1-based: at least the first value. The
  // tiny relative slack keeps 99.9 % of 1000 at rank 999 although 99.9 has no
  // exact binary form.
  const double exact_rank = percentile * static_cast<double>(count_) / 100.0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank * (1 - 1e-12)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestInBucket(i), max_);
  }
  return max_;
}

}  // namespace leaklab::loadgen
