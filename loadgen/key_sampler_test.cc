#include "loadgen/key_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace leaklab::loadgen {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParseKeySpec(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ParseKeySpec, Forms) {
  EXPECT_EQ(ParseKeySpec("unique").kind, KeySpec::Kind::kUnique);
  const KeySpec uniform = ParseKeySpec("uniform:1000");
  EXPECT_EQ(uniform.kind, KeySpec::Kind::kUniform);
  EXPECT_EQ(uniform.count, 1000u);
  const KeySpec zipf = ParseKeySpec("zipf:50000:1.2");
  EXPECT_EQ(zipf.kind, KeySpec::Kind::kZipf);
  EXPECT_EQ(zipf.count, 50000u);
  EXPECT_DOUBLE_EQ(zipf.exponent, 1.2);
  EXPECT_DOUBLE_EQ(ParseKeySpec("zipf:10").exponent, 1.0);
  for (const char* text : {"unique", "uniform:7", "zipf:10:0.5", "zipf:10:1"}) {
    EXPECT_EQ(FormatKeySpec(ParseKeySpec(text)), text);
  }
}

// Found by keys_fuzz: the exponent was printed with 6 significant digits,
// so the spec recorded in manifest.json drew other keys when run again.
TEST(ParseKeySpec, FormatReadsBackAsTheSameExponent) {
  const KeySpec zipf = ParseKeySpec("zipf:1000000:1.15555555555555555");
  EXPECT_EQ(ParseKeySpec(FormatKeySpec(zipf)).exponent, zipf.exponent);
  EXPECT_EQ(FormatKeySpec(ParseKeySpec("zipf:10:1.2345678")), "zipf:10:1.2345678");
}

TEST(ParseKeySpec, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(ErrorOf("random"), "keys 'random': expected unique, uniform:K or zipf:K[:S]");
  EXPECT_EQ(ErrorOf("unique:5"), "keys 'unique:5': 'unique' takes no parameters");
  EXPECT_EQ(ErrorOf("uniform"),
            "keys 'uniform': the key count K must be a whole number 1..2^40 (got '')");
  EXPECT_EQ(ErrorOf("uniform:0"),
            "keys 'uniform:0': the key count K must be a whole number 1..2^40 (got '0')");
  EXPECT_EQ(ErrorOf("uniform:10:2"), "keys 'uniform:10:2': uniform takes one parameter, K");
  EXPECT_EQ(ErrorOf("zipf:10:0"),
            "keys 'zipf:10:0': the Zipf exponent S must be a number > 0 and <= 20 (got '0')");
  EXPECT_EQ(ErrorOf("zipf:10:abc"),
            "keys 'zipf:10:abc': the Zipf exponent S must be a number > 0 and <= 20 (got 'abc')");
  EXPECT_EQ(ErrorOf("zipf:1e3"),
            "keys 'zipf:1e3': the key count K must be a whole number 1..2^40 (got '1e3')");
}

TEST(KeySampler, UniqueIsTheRequestNumber) {
  const KeySampler keys(KeySpec{}, 1);
  EXPECT_EQ(keys.KeyFor(0), 0u);
  EXPECT_EQ(keys.KeyFor(123456789), 123456789u);
}

TEST(KeySampler, DependsOnlyOnSeedAndNumber) {
  const KeySampler a(ParseKeySpec("zipf:1000:1.1"), 42);
  const KeySampler b(ParseKeySpec("zipf:1000:1.1"), 42);
  const KeySampler c(ParseKeySpec("zipf:1000:1.1"), 43);
  int differ = 0;
  // In any order: request n's key does not depend on what came before.
  for (uint64_t n = 1000; n-- > 0;) {
    ASSERT_EQ(a.KeyFor(n), b.KeyFor(n));
    differ += a.KeyFor(n) != c.KeyFor(n);
  }
  EXPECT_GT(differ, 300);
}

TEST(KeySampler, UniformCoversTheKeysEvenly) {
  constexpr uint64_t kKeys = 20;
  constexpr int kDraws = 200000;
  const KeySampler keys(ParseKeySpec("uniform:20"), 3);
  std::vector<int> count(kKeys, 0);
  for (uint64_t n = 0; n < kDraws; ++n) {
    const uint64_t k = keys.KeyFor(n);
    ASSERT_LT(k, kKeys);
    ++count[k];
  }
  // Chi-square with 19 degrees of freedom: 43.8 is its 0.1 % tail.
  double chi2 = 0;
  const double expected = static_cast<double>(kDraws) / kKeys;
  for (int c : count) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 43.8);
}

// Observed Zipf frequencies against k^-s / H(K, s).
void ExpectZipf(uint64_t keys_count, double s) {
  constexpr int kDraws = 300000;
  KeySpec spec{KeySpec::Kind::kZipf, keys_count, s};
  const KeySampler keys(spec, 11);
  std::vector<int> count(keys_count, 0);
  for (uint64_t n = 0; n < kDraws; ++n) {
    const uint64_t k = keys.KeyFor(n);
    ASSERT_LT(k, keys_count);
    ++count[k];
  }
  double norm = 0;
  for (uint64_t k = 1; k <= keys_count; ++k) norm += std::pow(static_cast<double>(k), -s);
  // The most frequent keys, within 5 standard deviations of a binomial count.
  for (uint64_t k = 1; k <= std::min<uint64_t>(keys_count, 20); ++k) {
    const double p = std::pow(static_cast<double>(k), -s) / norm;
    const double mean = p * kDraws;
    const double sd = std::sqrt(kDraws * p * (1 - p));
    EXPECT_NEAR(count[k - 1], mean, 5 * sd + 1)
        << "K=" << keys_count << " s=" << s << " rank " << k;
  }
}

TEST(ZipfSampler, MatchesTheDistribution) {
  ExpectZipf(100, 1.0);
  ExpectZipf(1000, 1.2);
  ExpectZipf(50, 0.5);
  ExpectZipf(10, 2.5);
  ExpectZipf(1000, 0.999999999);  // at the exponent where H's formula changes
  ExpectZipf(1, 1.0);
  ExpectZipf(2, 1.0);
}

TEST(ZipfSampler, HugeKeyCountsCostNothing) {
  const KeySampler keys(ParseKeySpec("zipf:1000000000000:1.1"), 5);
  uint64_t max = 0;
  for (uint64_t n = 0; n < 10000; ++n) max = std::max(max, keys.KeyFor(n));
  EXPECT_LT(max, 1'000'000'000'000u);
  EXPECT_GT(max, 1000u);  // the tail is heavy
}

// The claim behind the loop bound in key_sampler.cc: a try is accepted with
// probability (sum of weights h(k)) / (area under the hat over the draw
// range), which stays above 0.9 for all counts and exponents allowed.
TEST(ZipfSampler, AcceptanceProbabilityIsHigh) {
  for (double s : {0.01, 0.3, 0.7, 1.0, 1.3, 2.0, 3.0, 8.0, 20.0}) {
    for (double keys : {1.0, 2.0, 3.0, 10.0, 1000.0, 1e6}) {
      auto H = [s](double x) {
        return std::abs(1 - s) < 1e-12 ? std::log(x) : (std::pow(x, 1 - s) - 1) / (1 - s);
      };
      double weights = 0;
      for (double k = 1; k <= std::min(keys, 1e6); ++k) weights += std::pow(k, -s);
      const double area = H(keys + 0.5) - (H(1.5) - 1);
      EXPECT_GT(weights / area, 0.9) << "s=" << s << " K=" << keys;
    }
  }
}

}  // namespace
}  // namespace leaklab::loadgen
