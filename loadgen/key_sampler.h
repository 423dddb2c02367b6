#ifndef LEAKLAB_LOADGEN_KEY_SAMPLER_H_
#define LEAKLAB_LOADGEN_KEY_SAMPLER_H_

// Keys for "{key}": unique, uniform over K, or Zipf(s) over K; a pure
// function of (seed, request number), so that runs with the same seed send
// the same key with the same request whatever the threads and timing.

#include <cstdint>

#include "loadgen/loadgen.h"

namespace leaklab::loadgen {

// SplitMix64 (G. L. Steele, D. Lea, C. H. Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014): a 64-bit counter stepped by
// the golden-ratio constant and passed through a bit mixer. Small and good
// enough for choosing keys; not for anything secret.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, 1), 53 random bits.
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // The mixer alone: a bijection of 64-bit values with good avalanche.
  static uint64_t Mix(uint64_t z);

 private:
  uint64_t state_;
};

// Zipf over ranks 1..count: P(k) proportional to k^-exponent.
//
// Rejection-inversion (W. Hormann and G. Derflinger, "Rejection-inversion to
// generate variates from monotone discrete distributions", ACM Transactions
// on Modeling and Computer Simulation 6(3), 169-184, 1996). Constant time and
// memory for any count: no table of count probabilities.
class ZipfSampler {
 public:
  // count >= 1, exponent > 0 (checked by ParseKeySpec / ValidateOptions).
  ZipfSampler(uint64_t count, double exponent);
  uint64_t Sample(SplitMix64& rng) const;

 private:
  double Hat(double x) const;          // h(x) = x^-s
  double HatIntegral(double x) const;  // H(x) = integral of h from 1 to x
  double HatIntegralInverse(double y) const;

  double count_;
  double exponent_;
  double area_low_;   // H(1.5) - h(1)
  double area_high_;  // H(count + 0.5)
  double squeeze_;    // 2 - H^-1(H(2.5) - h(2))
};

class KeySampler {
 public:
  KeySampler(const KeySpec& spec, uint64_t seed);
  // The key of request number n: 0 .. count-1 (or n itself for kUnique).
  uint64_t KeyFor(uint64_t n) const;

 private:
  KeySpec spec_;
  uint64_t seed_;
  ZipfSampler zipf_;
};

}  // namespace leaklab::loadgen

#endif  // LEAKLAB_LOADGEN_KEY_SAMPLER_H_
