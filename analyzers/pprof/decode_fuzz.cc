// libFuzzer target: DecodeProfile on any bytes, gzip or raw (`ci/fuzz
// pprof_decode_fuzz SECONDS`). What decodes must also survive everything the
// analysis does with one profile, and encode back into a profile that
// decodes again: a validated profile that the encoder refuses, or that reads
// back differently, is a finding (the abort below).

#include <cstdint>
#include <string_view>

#include "analyzers/pprof/attribution.h"
#include "analyzers/pprof/heap_diff.h"
#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_kind.h"
#include "common/fuzz_check.h"

namespace {

using namespace leaklab::pprof;

// The stated limits (DecodeLimits' defaults) let one profile take about a
// gigabyte, which unit tests check with real bombs; under ASan that passes
// the fuzzer's 2 GiB bound, and a few inputs inflating to megabytes would
// slow every run to hundreds a second. The fuzzer checks the same code at a
// smaller scale: 1 MiB inflated, the counts in proportion.
DecodeLimits FuzzLimits() {
  DecodeLimits l;
  l.max_profile_bytes = std::size_t{1} << 20;
  l.max_samples = l.max_locations = l.max_functions = 20'000;
  l.max_mappings = 2'000;
  l.max_strings = 60'000;
  l.max_elements = 250'000;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Profile p;
  try {
    p = DecodeProfile(bytes, FuzzLimits());
  } catch (const ProfileError&) {
    return 0;  // refused with a message: the expected outcome for most inputs
  }
  // Sums over the samples saturate, never overflow (UBSan would say).
  for (std::size_t i = 0; i < p.sample_types.size(); ++i) (void)p.TotalValue(i);
  const ProfileKind kind = KindOf(p);
  (void)ReportsAsOfCollection(p);
  (void)SampleTypesText(p);
  // A profile minus itself has nothing left.
  leaklab::FuzzCheck(DiffProfiles(p, p).samples.empty());
  // Attribution over the profile twice (no growth), as the analysis runs it.
  try {
    std::vector<NamedProfile> two{{"a", p}, {"b", p}};
    OrderByTime(two);
    if (kind == ProfileKind::kHeap) (void)AttributeHeapGrowth(two);
    if (kind == ProfileKind::kWorkers) (void)AttributeWorkerGrowth(two);
  } catch (const ProfileError&) {
  }
  // What was accepted encodes, and reads back equal.
  const std::string encoded = EncodeProfile(p);
  leaklab::FuzzCheck(DecodeProfile(encoded, FuzzLimits()) == p);
  return 0;
}
