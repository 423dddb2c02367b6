// The model (profile.cc): its look-ups and the indexes its Add* helpers
// return.
#include "analyzers/pprof/profile.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof {
namespace {

// One table's index used for another's does not compile, nor does a bare
// number where an index is meant.
static_assert(!std::is_convertible_v<LocationIndex, FunctionIndex>);
static_assert(!std::is_convertible_v<FunctionIndex, MappingIndex>);
static_assert(!std::is_convertible_v<std::size_t, LocationIndex>);
static_assert(!std::is_invocable_v<decltype(&Profile::function), const Profile&, LocationIndex>);
static_assert(!std::is_invocable_v<decltype(&Profile::location), const Profile&, std::size_t>);

TEST(ProfileModel, FindSampleTypeAndTotalValue) {
  Profile profile = BuildHeapProfile();
  EXPECT_EQ(profile.FindSampleType("inuse_space"), 1u);
  EXPECT_EQ(profile.FindSampleType("cpu"), std::nullopt);
  EXPECT_EQ(profile.TotalValue(0), 1003);
  EXPECT_EQ(profile.TotalValue(1), 1024000 - 7);
}

TEST(ProfileModel, AddReturnsTheNewElementsIndex) {
  Profile profile;
  EXPECT_EQ(profile.AddFunction({.name = "f"}), FunctionIndex{0});
  const FunctionIndex g = profile.AddFunction({.name = "g"});
  EXPECT_EQ(g, FunctionIndex{1});
  EXPECT_EQ(profile.AddMapping({.filename = "/bin/a"}), MappingIndex{0});
  const LocationIndex location = profile.AddLocation({.address = 0x10});
  EXPECT_EQ(location, LocationIndex{0});
  EXPECT_EQ(profile.function(g).name, "g");
  EXPECT_EQ(profile.location(location).address, 0x10u);
  EXPECT_EQ(PositionOf(g), 1u);
}

TEST(ProfileError, NamesTheFileWhenKnown) {
  const ProfileError in_memory("sample 0 has 2 values");
  EXPECT_STREQ(in_memory.what(), "sample 0 has 2 values");
  EXPECT_TRUE(in_memory.file().empty());
  const ProfileError in_file("heap.pb.gz", "sample 0 has 2 values");
  EXPECT_STREQ(in_file.what(), "heap.pb.gz: sample 0 has 2 values");
  EXPECT_EQ(in_file.problem(), "sample 0 has 2 values");
}

}  // namespace
}  // namespace leaklab::pprof
