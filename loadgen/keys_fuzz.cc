// libFuzzer target: the keys language (`ci/fuzz keys_fuzz SECONDS`), read
// from --keys. What parses prints back as itself, and its sampler gives keys
// in range for any request number and seed.

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "common/fuzz_check.h"
#include "loadgen/key_sampler.h"
#include "loadgen/loadgen.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::loadgen;
  // The first 8 bytes seed the sampler; the rest is the spec.
  if (size < 8) return 0;
  uint64_t seed;
  std::memcpy(&seed, data, sizeof seed);
  KeySpec spec;
  try {
    spec = ParseKeySpec(std::string_view(reinterpret_cast<const char*>(data) + 8, size - 8));
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const KeySpec again = ParseKeySpec(FormatKeySpec(spec));
  leaklab::FuzzCheck(again.kind == spec.kind && again.count == spec.count &&
                     again.exponent == spec.exponent);
  const KeySampler sampler(spec, seed);
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, seed, ~uint64_t{0}}) {
    const uint64_t key = sampler.KeyFor(n);
    if (spec.kind == KeySpec::Kind::kUnique) {
      leaklab::FuzzCheck(key == n);
    } else {
      leaklab::FuzzCheck(key < spec.count);
    }
  }
  return 0;
}
