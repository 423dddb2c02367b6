#include "analyzers/pprof/profile_kind.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof {
namespace {

TEST(KindOfTest, HeapWorkersOrOther) {
  EXPECT_EQ(KindOf(Heap("h", 1, 1, 1, 1).profile), ProfileKind::kHeap);
  EXPECT_EQ(KindOf(Goroutines(1, 1, 1)), ProfileKind::kWorkers);
  Profile cpu;
  cpu.sample_types = {{"samples", "count"}, {"cpu", "nanoseconds"}};
  EXPECT_EQ(KindOf(cpu), ProfileKind::kOther);
  // A goroutine count beside another type is not a worker profile.
  cpu.sample_types = {{"goroutine", "count"}, {"cpu", "nanoseconds"}};
  EXPECT_EQ(KindOf(cpu), ProfileKind::kOther);
  EXPECT_STREQ(KindName(ProfileKind::kHeap), "heap");
  EXPECT_STREQ(KindName(ProfileKind::kWorkers), "workers");
  EXPECT_STREQ(KindName(ProfileKind::kOther), "other");
}

TEST(ReportsAsOfCollectionTest, OnlyGoHeapProfiles) {
  Profile heap = Heap("h", 1, 1, 1, 1).profile;
  EXPECT_FALSE(ReportsAsOfCollection(heap));
  heap.AddFunction({.name = "runtime.malg", .filename = "/usr/lib/go/src/runtime/proc.go"});
  EXPECT_TRUE(ReportsAsOfCollection(heap));
  // Go's goroutine profile has runtime functions too, but is no heap.
  Profile workers = Goroutines(1, 1, 1);
  workers.AddFunction({.name = "runtime.gopark", .filename = "proc.go"});
  EXPECT_FALSE(ReportsAsOfCollection(workers));
}

TEST(SampleTypesTextTest, TypeAndUnitOrNone) {
  EXPECT_EQ(SampleTypesText(Goroutines(1, 1, 1)), "goroutine/count");
  EXPECT_EQ(SampleTypesText(Profile{}), "none");
}

TEST(OrderByTimeTest, UsesTimesThenNames) {
  // Names and times disagree: "b" was taken first.
  std::vector<NamedProfile> p = {Heap("c", 3, 0, 0, 0), Heap("a", 2, 0, 0, 0),
                                 Heap("b", 1, 0, 0, 0)};
  EXPECT_TRUE(OrderByTime(p));
  EXPECT_EQ(p[0].name, "b");
  EXPECT_EQ(p[1].name, "a");
  EXPECT_EQ(p[2].name, "c");
  p[1].profile.time_nanos = 0;  // one has no time: names decide
  EXPECT_FALSE(OrderByTime(p));
  EXPECT_EQ(p[0].name, "a");
  EXPECT_EQ(p[1].name, "b");
  EXPECT_EQ(p[2].name, "c");
  p[0].profile.time_nanos = p[1].profile.time_nanos = p[2].profile.time_nanos =
      7;  // all equal: names
  EXPECT_FALSE(OrderByTime(p));
}

}  // namespace
}  // namespace leaklab::pprof
