#include "analyzers/pprof/heap_diff.h"

#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <string>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof {
namespace {

TEST(DiffProfilesTest, SubtractsBaseStackByStackAndDropsUnchanged) {
  const Profile base = Heap("base", 1, 1000, 500, 400, 0).profile;
  const Profile source = Heap("source", 5, 5000, 500, 200, 7).profile;
  const Profile diff = DiffProfiles(base, source);
  EXPECT_EQ(diff.sample_types, source.sample_types);
  EXPECT_EQ(diff.time_nanos, 5 * kSecond);
  EXPECT_EQ(diff.duration_nanos, 4 * kSecond);
  std::map<std::string, int64_t> by_leaf;
  for (const Sample& s : diff.samples) {
    const Location& leaf = diff.location(s.location_indexes.front());
    by_leaf[diff.function(leaf.lines.front().function_index).name] = s.values[3];
  }
  EXPECT_EQ(by_leaf.size(), 2u);  // Config::Load did not change
  EXPECT_EQ(by_leaf["Store::Add"], 4000);
  EXPECT_EQ(by_leaf["Warmup::Fill"], -200);
  // It is a valid profile: it encodes and decodes to itself.
  EXPECT_EQ(DecodeProfile(EncodeProfile(diff)), diff);

  Profile other = source;
  other.sample_types.pop_back();
  EXPECT_THROW(DiffProfiles(base, other), ProfileError);
}

}  // namespace
}  // namespace leaklab::pprof

namespace leaklab::pprof {
namespace {

// Sample values near the int64 range: the totals and the diff used to wrap
// (UBSan: signed overflow), giving a heap of -9.2e18 bytes and a diff with
// flipped signs. Decoding refuses such values; in memory, sums saturate.
TEST(DiffProfilesTest, ExtremeValuesNeitherWrapNorDecode) {
  Profile base = Heap("base", 1, 1000, 500, 400, 0).profile;
  Profile source = Heap("source", 5, 5000, 500, 200, 7).profile;
  for (Sample& s : source.samples) s.values[3] = INT64_MAX;
  for (Sample& s : base.samples) s.values[3] = INT64_MIN;
  EXPECT_EQ(source.TotalValue(3), INT64_MAX);
  EXPECT_EQ(base.TotalValue(3), INT64_MIN);
  for (const Sample& s : DiffProfiles(base, source).samples) EXPECT_EQ(s.values[3], INT64_MAX);
  try {
    DecodeProfile(EncodeProfile(source));
    FAIL() << "a value of 2^63-1 was accepted";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("beyond 2^53"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace leaklab::pprof
