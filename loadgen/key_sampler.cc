#include "loadgen/key_sampler.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace leaklab::loadgen {
namespace {

// Key counts beyond 2^40 (10^12) are typos: no server holds that many.
constexpr uint64_t kMaxKeyCount = uint64_t{1} << 40;
// Zipf exponents used in practice lie between about 0.5 and 3; above 20 all
// the mass is on key 0 and the floating-point hat loses meaning.
constexpr double kMaxZipfExponent = 20;
// The hat's area exceeds the sum of the weights only by the convexity gap in
// each unit interval, so a rejection-inversion try is accepted with
// probability above 0.9 for every count and exponent allowed here
// (key_sampler_test computes it); 64 failed tries in a row would take about
// 10^-64 odds. The bound only keeps the loop finite.
constexpr int kMaxZipfTries = 64;

// expm1(t) / t and log1p(t) / t, both 1 at t = 0: H and its inverse written
// with them stay accurate when the exponent is at or near 1, where the plain
// formulas divide zero by zero.
double ExpM1OverT(double t) { return std::abs(t) < 1e-8 ? 1 + t / 2 : std::expm1(t) / t; }
double Log1POverT(double t) { return std::abs(t) < 1e-8 ? 1 - t / 2 : std::log1p(t) / t; }

// The high 64 bits of the 128-bit product (GCC and Clang have the type;
// __extension__ keeps -Wpedantic quiet about it).
uint64_t MultiplyHigh(uint64_t a, uint64_t b) {
  __extension__ using Uint128 = unsigned __int128;
  return static_cast<uint64_t>((static_cast<Uint128>(a) * b) >> 64);
}

[[noreturn]] void Fail(std::string_view text, const std::string& what) {
  throw std::invalid_argument("keys '" + std::string(text) + "': " + what);
}

}  // namespace

uint64_t SplitMix64::Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::Next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  return Mix(state_);
}

ZipfSampler::ZipfSampler(uint64_t count, double exponent)
    : count_(static_cast<double>(count < 1 ? 1 : count)), exponent_(exponent > 0 ? exponent : 1) {
  area_low_ = HatIntegral(1.5) - 1.0;
  area_high_ = HatIntegral(count_ + 0.5);
  squeeze_ = 2.0 - HatIntegralInverse(HatIntegral(2.5) - Hat(2.0));
}

double ZipfSampler::Hat(double x) const { return std::exp(-exponent_ * std::log(x)); }

// H(x) = (x^(1-s) - 1) / (1-s), or log(x) when s = 1.
double ZipfSampler::HatIntegral(double x) const {
  const double log_x = std::log(x);
  return ExpM1OverT((1.0 - exponent_) * log_x) * log_x;
}

// The inverse of H: x = (1 + (1-s) y)^(1 / (1-s)), or exp(y) when s = 1.
double ZipfSampler::HatIntegralInverse(double y) const {
  double t = y * (1.0 - exponent_);
  if (t < -1.0) t = -1.0;  // rounding at the edge of H's range
  return std::exp(Log1POverT(t) * y);
}

// The method, in the paper's terms: the hat h(x) = x^-s is decreasing and
// convex, so the area under it over [k - 1/2, k + 1/2] is at least h(k), the
// probability weight of rank k.
//   1. Draw y uniformly from the area under the hat between 1.5 - (area h(1))
//      and count + 1/2, i.e. from [H(1.5) - h(1), H(count + 0.5)); shifting the
//      start makes rank 1's share exactly h(1).
//   2. Invert: x = H^-1(y), and round to the rank k nearest to x.
//   3. Accept k when y falls in the top h(k) of k's area, y >= H(k + 1/2) - h(k):
//      every rank is then accepted with probability proportional to h(k).
//      The squeeze (k - x <= 2 - H^-1(H(2.5) - h(2))) accepts most draws
//      without evaluating H; it is the paper's bound, tightest at k = 2.
//   4. Otherwise draw again.
uint64_t ZipfSampler::Sample(SplitMix64& rng) const {
  double k = 1;
  for (int tries = 0; tries < kMaxZipfTries; ++tries) {
    const double y = area_high_ + rng.NextDouble() * (area_low_ - area_high_);
    const double x = HatIntegralInverse(y);
    k = std::floor(x + 0.5);
    if (k < 1) k = 1;
    if (k > count_) k = count_;
    if (k - x <= squeeze_ || y >= HatIntegral(k + 0.5) - Hat(k)) break;
  }
  return static_cast<uint64_t>(k);
}

KeySampler::KeySampler(const KeySpec& spec, uint64_t seed)
    : spec_(spec), seed_(seed), zipf_(spec.count, spec.exponent) {}

uint64_t KeySampler::KeyFor(uint64_t n) const {
  switch (spec_.kind) {
    case KeySpec::Kind::kUnique:
      return n;
    case KeySpec::Kind::kUniform: {
      // One generator per request, seeded from (seed, n): keys do not depend
      // on which thread sends request n, or when.
      SplitMix64 rng(SplitMix64::Mix(seed_ ^ SplitMix64::Mix(n)));
      // Multiply-shift onto [0, count) (D. Lemire, "Fast Random Integer
      // Generation in an Interval", ACM TOMACS 29(1), 2019), without the
      // rejection step: the bias is below count / 2^64.
      return MultiplyHigh(rng.Next(), spec_.count);
    }
    case KeySpec::Kind::kZipf: {
      SplitMix64 rng(SplitMix64::Mix(seed_ ^ SplitMix64::Mix(n)));
      return zipf_.Sample(rng) - 1;
    }
  }
  return n;
}

KeySpec ParseKeySpec(std::string_view text) {
  KeySpec spec;
  const size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (kind == "unique") {
    if (colon != std::string_view::npos) Fail(text, "'unique' takes no parameters");
    return spec;
  }
  if (kind != "uniform" && kind != "zipf") {
    Fail(text, "expected unique, uniform:K or zipf:K[:S]");
  }
  spec.kind = kind == "uniform" ? KeySpec::Kind::kUniform : KeySpec::Kind::kZipf;
  const size_t colon2 = rest.find(':');
  const std::string_view count = rest.substr(0, colon2);
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), spec.count);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size() || spec.count < 1 ||
      spec.count > kMaxKeyCount) {
    Fail(text, "the key count K must be a whole number 1..2^40 (got '" + std::string(count) + "')");
  }
  if (colon2 != std::string_view::npos) {
    if (spec.kind == KeySpec::Kind::kUniform) Fail(text, "uniform takes one parameter, K");
    const std::string_view s = rest.substr(colon2 + 1);
    const auto [end2, ec2] = std::from_chars(s.data(), s.data() + s.size(), spec.exponent);
    if (s.empty() || ec2 != std::errc() || end2 != s.data() + s.size() ||
        !std::isfinite(spec.exponent) || spec.exponent <= 0 || spec.exponent > kMaxZipfExponent) {
      Fail(text,
           "the Zipf exponent S must be a number > 0 and <= 20 (got '" + std::string(s) + "')");
    }
  }
  return spec;
}

std::string FormatKeySpec(const KeySpec& keys) {
  switch (keys.kind) {
    case KeySpec::Kind::kUnique:
      return "unique";
    case KeySpec::Kind::kUniform:
      return "uniform:" + std::to_string(keys.count);
    case KeySpec::Kind::kZipf: {
      // The shortest text that reads back as the same double: manifest.json
      // records the spec, and a rerun from it must draw the same keys (%g
      // kept 6 digits, so zipf:K:1.15555555 came back as 1.15556; found by
      // keys_fuzz).
      char s[32];
      const auto r = std::to_chars(s, s + sizeof s, keys.exponent);
      return "zipf:" + std::to_string(keys.count) + ":" + std::string(s, r.ptr);
    }
  }
  return "unique";
}

}  // namespace leaklab::loadgen
