#ifndef LEAKLAB_ANALYZERS_TESTDATA_SYNTHETIC_CORPUS_H_
#define LEAKLAB_ANALYZERS_TESTDATA_SYNTHETIC_CORPUS_H_

// A labelled corpus of synthetic memory series for measuring the analyzer:
// leaks of every shape and strength, and the things that are not leaks but
// look like them. Seeded: the same seed gives the same corpus, to the bit.

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/series/series.h"

namespace leaklab::corpus {

struct Case {
  std::string name;      // family/parameters/seed, unique
  std::string family;    // "linear", "staircase", "sawtooth", ...
  std::string expected;  // "leak", "no-leak" or "lazy-release"
  // Total growth over the series divided by the noise's standard deviation
  // (its robust equivalent, 1.4826 MAD, for heavy tails); 0 without growth.
  double snr = 0;
  // A leak this weak and this short that no trend test at 1 % could find
  // reliably: the expected z of a trend over n independent points,
  // snr * sqrt(n / 12), is below kDecidableZ. Under a sawtooth the
  // independent points are the cycles' troughs, one per cycle. Such cases
  // are reported, never asserted as leaks; they must not be called no-leak.
  bool decidable = true;
  series::Series series;
};

// A trend test at 1 % finds a leak whose expected z is 5.5 with probability
// above 99.9 %; below that, misses are the statistics, not the analyzer.
inline constexpr double kDecidableZ = 5.5;

// The corpus: about 300 series, from 10 hand-taken snapshots to a day at
// 100 ms (10^6 samples) when `long_series` is set.
std::vector<Case> SyntheticCorpus(uint64_t seed, bool long_series);

}  // namespace leaklab::corpus

#endif  // LEAKLAB_ANALYZERS_TESTDATA_SYNTHETIC_CORPUS_H_
