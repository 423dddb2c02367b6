#include "analyzers/pprof/stacks.h"

#include <gtest/gtest.h>

#include <vector>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof::internal {
namespace {

TEST(FrameTableTest, EqualFramesShareOneId) {
  FrameTable table;
  const FrameId a = table.Intern({"main.leak", "main.go", 23});
  EXPECT_EQ(table.Intern({"main.leak", "main.go", 23}), a);
  EXPECT_NE(table.Intern({"main.leak", "main.go", 40}), a);
  EXPECT_NE(table.Intern({"main.leak", "", 23}), a);
  EXPECT_EQ(table.at(a).line, 23);
}

// Two profiles of different processes: the same functions at other
// addresses give the same stack keys.
TEST(StackKeyTest, KeysByFramesNotAddresses) {
  const Profile first = Heap("a", 1, 10, 10, 10, /*salt=*/0).profile;
  const Profile second = Heap("b", 2, 20, 20, 20, /*salt=*/7).profile;
  ASSERT_NE(first.locations[0].address, second.locations[0].address);
  FrameTable table;
  const auto first_frames = LocationFrames(first, table);
  const auto second_frames = LocationFrames(second, table);
  ASSERT_EQ(first.samples.size(), second.samples.size());
  for (size_t s = 0; s < first.samples.size(); ++s) {
    EXPECT_EQ(StackKey(first.samples[s], first_frames), StackKey(second.samples[s], second_frames));
  }
  EXPECT_NE(StackKey(first.samples[0], first_frames), StackKey(first.samples[1], first_frames));
  // The ids come back in stack order, leaf first.
  const std::vector<FrameId> ids = StackIds(StackKey(first.samples[0], first_frames));
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(table.at(ids[0]).function, "Store::Add");
  EXPECT_EQ(table.at(ids[2]).function, "main");
}

TEST(LocationFramesTest, InlinedLinesInnermostFirstAndAddressesWithoutLines) {
  const Profile p = BuildHeapProfile();
  FrameTable table;
  const auto frames = LocationFrames(p, table);
  ASSERT_EQ(frames.size(), p.locations.size());
  // Location 1: Grow inlined into Cache::Put.
  ASSERT_EQ(frames[1].size(), 2u);
  EXPECT_EQ(table.at(frames[1][0]), (Frame{"Grow", "cache.cc", 81}));
  EXPECT_EQ(table.at(frames[1][1]), (Frame{"Cache::Put(std::string)", "cache.cc", 33}));

  Profile unsymbolized;
  Location location;
  location.address = 0x4010a0;
  unsymbolized.AddLocation(std::move(location));
  const auto bare = LocationFrames(unsymbolized, table);
  ASSERT_EQ(bare[0].size(), 1u);
  EXPECT_EQ(table.at(bare[0][0]).function, "0x4010a0");
}

}  // namespace
}  // namespace leaklab::pprof::internal
