// The model (profile.cc): its look-ups and the indexes its Add* helpers
// return.
#include "analyzers/pprof/profile.h"

#include <gtest/gtest.h>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof {
namespace {

TEST(ProfileModel, FindSampleTypeAndTotalValue) {
  Profile profile = BuildHeapProfile();
  EXPECT_EQ(profile.FindSampleType("inuse_space"), 1u);
  EXPECT_EQ(profile.FindSampleType("cpu"), std::nullopt);
  EXPECT_EQ(profile.TotalValue(0), 1003);
  EXPECT_EQ(profile.TotalValue(1), 1024000 - 7);
}

TEST(ProfileModel, AddReturnsTheNewElementsIndex) {
  Profile profile;
  EXPECT_EQ(profile.AddFunction({.name = "f"}), 0u);
  EXPECT_EQ(profile.AddFunction({.name = "g"}), 1u);
  EXPECT_EQ(profile.AddMapping({.filename = "/bin/a"}), 0u);
  EXPECT_EQ(profile.AddLocation({.address = 0x10}), 0u);
  EXPECT_EQ(profile.functions[1].name, "g");
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
