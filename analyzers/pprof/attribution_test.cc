#include "analyzers/pprof/attribution.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "analyzers/pprof/profile_test_util.h"

namespace leaklab::pprof {
namespace {

const std::filesystem::path kTestdata = LEAKLAB_PPROF_TESTDATA_DIR;

TEST(AttributeHeapGrowthTest, RanksGrowingSiteBySlopeWithShareAndStack) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 5; ++i) {
    profiles.push_back(Heap("h" + std::to_string(i), 10 + 2 * i, 1'000'000 * (i + 1), 500'000,
                            400'000 - 50'000 * i, /*salt=*/static_cast<uint64_t>(i)));
  }
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  EXPECT_EQ(a.profiles, 5);
  EXPECT_TRUE(a.timed);
  EXPECT_DOUBLE_EQ(a.span, 8);
  ASSERT_EQ(a.sites.size(), 1u);  // the flat and the shrinking site did not grow
  const GrowingSite& s = a.sites[0];
  EXPECT_EQ(s.site.function, "Store::Add");
  EXPECT_NEAR(s.bytes.slope, 500'000, 1e-6);  // 1 MB per 2 s
  EXPECT_NEAR(s.bytes.growth, 4'000'000, 1e-3);
  EXPECT_DOUBLE_EQ(s.bytes.share, 1.0);
  EXPECT_EQ(s.bytes.first, 1'000'000);
  EXPECT_EQ(s.bytes.last, 5'000'000);
  ASSERT_EQ(s.stack.size(), 3u);
  EXPECT_EQ(s.stack[1].function, "Handler::Serve");
  // Total: +4 MB from the leak, -0.2 MB from the shrinking site.
  EXPECT_NEAR(a.total.growth, 3'800'000, 1e-3);
}

// The incident's look-alike: one function allocates most of everything and
// frees it within the request; another allocates little and keeps it all.
// Ranked by allocation the first leads; its share of the growth is nil.
TEST(AttributeHeapGrowthTest, RanksSitesByWhatTheyAllocatedBesideWhatTheyKept) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 4; ++i) {
    HeapBuilder b(int64_t{2} * i * kSecond);
    // 9 MB allocated per step, none of it live; 1 MB allocated and kept.
    b.Add({"Repo::ToDomain", "Usecase::GetDatas", "main"}, 0, 0, 0, 9'000'000 * (i + 1));
    b.Add({"Cache::Set", "Usecase::GetDatas", "main"}, 1'000'000 * (i + 1));
    b.Add({"Config::Load", "main"}, 500'000, 0, 0, 500'000);  // allocated once, before
    profiles.push_back({"h" + std::to_string(i), b.Build()});
  }
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  ASSERT_EQ(a.sites.size(), 1u);
  EXPECT_EQ(a.sites[0].site.function, "Cache::Set");
  ASSERT_EQ(a.allocating.size(), 2u);  // Config::Load allocated nothing over the span
  EXPECT_EQ(a.allocating[0].site.function, "Repo::ToDomain");
  EXPECT_NEAR(a.allocating[0].allocated, 27'000'000, 1e-3);
  EXPECT_NEAR(a.allocating[0].share, 0.9, 1e-9);
  EXPECT_DOUBLE_EQ(a.allocating[0].growth_share, 0);
  EXPECT_EQ(a.allocating[1].site.function, "Cache::Set");
  EXPECT_NEAR(a.allocating[1].share, 0.1, 1e-9);
  EXPECT_DOUBLE_EQ(a.allocating[1].growth_share, 1);
  ASSERT_TRUE(a.allocated.has_value());
  EXPECT_NEAR(a.allocated->growth, 30'000'000, 1e-3);
}

TEST(AttributeHeapGrowthTest, SlopeUsesEverySnapshotNotJustTheEnds) {
  // Site A ends where it started but rose in between: last minus first would
  // call it flat, and a spike in the last snapshot would rank B first.
  std::vector<NamedProfile> profiles;
  const std::vector<int64_t> a = {0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000};
  const std::vector<int64_t> b = {0, 0, 0, 0, 0, 0, 0, 0, 0, 12000};
  for (size_t i = 0; i < a.size(); ++i) {
    HeapBuilder builder(static_cast<int64_t>(i + 1) * kSecond);
    builder.Add({"A"}, a[i]).Add({"B"}, b[i]);
    profiles.push_back({"p" + std::to_string(i), builder.Build()});
  }
  const HeapAttribution attribution = AttributeHeapGrowth(profiles);
  ASSERT_EQ(attribution.sites.size(), 2u);
  EXPECT_EQ(attribution.sites[0].site.function, "A");
  EXPECT_GT(attribution.sites[0].bytes.share, 0.5);
}

TEST(AttributeHeapGrowthTest, SiteSkipsStandardLibraryFramesAtTheLeaf) {
  // A debug build does not inline the allocator: the program's own frame is the site.
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 3; ++i) {
    HeapBuilder b((i + 1) * kSecond);
    b.Add({"std::__new_allocator<char>::allocate(unsigned long, void const*)",
           "std::__cxx11::basic_string<char>::_M_create(unsigned long&, unsigned long)",
           "ns::RepeatBytes(char)", "ns::Track()"},
          1000 * (i + 1));
    b.Add({"std::__new_allocator<int>::allocate(unsigned long, void const*)"}, 10 * (i + 1));
    profiles.push_back({"p" + std::to_string(i), b.Build()});
  }
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  ASSERT_EQ(a.sites.size(), 2u);
  EXPECT_EQ(a.sites[0].site.function, "ns::RepeatBytes(char)");
  EXPECT_EQ(a.sites[0].stack.front().function,
            "std::__new_allocator<char>::allocate(unsigned long, void const*)");
  // A stack of library frames only keeps its leaf.
  EXPECT_EQ(a.sites[1].site.function,
            "std::__new_allocator<int>::allocate(unsigned long, void const*)");
}

TEST(AttributeHeapGrowthTest, SitesAreFunctionAndLine) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 3; ++i) {
    HeapBuilder b((i + 1) * kSecond);
    b.Add({"main.leak"}, 1000 * (i + 1), 0, /*line=*/23)
        .Add({"main.leak"}, 10 * (i + 1), 0, /*line=*/40);
    profiles.push_back({"p" + std::to_string(i), b.Build()});
  }
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  ASSERT_EQ(a.sites.size(), 2u);
  EXPECT_EQ(a.sites[0].site.line, 23);
  EXPECT_EQ(a.sites[1].site.line, 40);
  EXPECT_NEAR(a.sites[0].bytes.share, 1000.0 / 1010.0, 1e-9);
}

TEST(AttributeHeapGrowthTest, WithoutTimesSlopeIsPerProfile) {
  std::vector<NamedProfile> profiles = {Heap("a", 0, 100, 0, 0), Heap("b", 0, 300, 0, 0)};
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  EXPECT_FALSE(a.timed);
  ASSERT_EQ(a.sites.size(), 1u);
  EXPECT_DOUBLE_EQ(a.sites[0].bytes.slope, 200);
}

TEST(AttributeHeapGrowthTest, RefusesBadInput) {
  EXPECT_THROW(AttributeHeapGrowth({Heap("only", 1, 1, 1, 1)}), ProfileError);
  Profile workers;
  workers.sample_types = {{"goroutine", "count"}};
  try {
    AttributeHeapGrowth({Heap("a", 1, 1, 1, 1), {"workers.pb.gz", workers}});
    FAIL() << "no error";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("workers.pb.gz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a heap profile"), std::string::npos) << e.what();
  }
  NamedProfile odd = Heap("odd.pb.gz", 2, 1, 1, 1);
  odd.profile.sample_types[0].type = "objects";
  try {
    AttributeHeapGrowth({Heap("a", 1, 1, 1, 1), odd});
    FAIL() << "no error";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("odd.pb.gz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("differ"), std::string::npos) << e.what();
  }
}

// The profiler's own allocations (Go writing a profile through
// compress/flate) are kept out of the growing sites, and counted apart.
TEST(AttributeHeapGrowthTest, TheProfilersOwnWorkIsNotAGrowingSite) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 3; ++i) {
    HeapBuilder b(i * kSecond);
    b.Add({"compress/flate.NewWriter", "compress/gzip.(*Writer).Write",
           "runtime/pprof.(*profileBuilder).build", "runtime/pprof.writeHeapProto",
           "net/http/pprof.handler.ServeHTTP"},
          1'000'000 * (i + 1));
    b.Add({"main.remember", "main.handle"}, 100'000 * (i + 1));
    profiles.push_back({"h" + std::to_string(i), b.Build()});
  }
  const HeapAttribution a = AttributeHeapGrowth(profiles);
  ASSERT_EQ(a.sites.size(), 1u);
  EXPECT_EQ(a.sites[0].site.function, "main.remember");
  EXPECT_DOUBLE_EQ(a.profiler.growth, 2'000'000);
  ASSERT_TRUE(a.allocated.has_value());
  EXPECT_DOUBLE_EQ(a.allocated->growth, 2'200'000);
}

TEST(AttributeWorkerGrowthTest, FindsGroupThatPilesUpAndWhereItWaits) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 4; ++i)
    profiles.push_back({"g" + std::to_string(i), Goroutines(i, 10 * (i + 1), 3)});
  const WorkerAttribution a = AttributeWorkerGrowth(profiles);
  ASSERT_EQ(a.groups.size(), 1u);
  const GrowingWorkerGroup& g = a.groups[0];
  EXPECT_EQ(g.wait_point.function, "main.watch");
  EXPECT_EQ(g.blocked_in, "runtime.chanrecv1");
  EXPECT_EQ(g.spawn_site.function, "main.startWatcher.func1");
  EXPECT_DOUBLE_EQ(g.workers.slope, 10);
  EXPECT_DOUBLE_EQ(g.workers.first, 10);
  EXPECT_DOUBLE_EQ(g.workers.last, 40);
  EXPECT_DOUBLE_EQ(g.workers.share, 1);
  EXPECT_THROW(AttributeWorkerGrowth({profiles[0], Heap("heap", 1, 1, 1, 1)}), ProfileError);
}

// Groups that only flicker (+0 over the profiles), and the runtime's own
// goroutines (GC workers: every frame the runtime's), are left out.
TEST(AttributeWorkerGrowthTest, LeavesOutFlickerAndTheRuntimesOwn) {
  std::vector<NamedProfile> profiles;
  for (int i = 0; i < 4; ++i) {
    Profile p = Goroutines(i, 10, 3 + (i % 2));  // main.serve: 3, 4, 3, 4
    Sample gc;
    for (const char* name : {"runtime.gopark", "runtime.gcBgMarkWorker", "runtime.goexit"}) {
      const FunctionIndex f =
          p.AddFunction({.name = name, .system_name = name, .filename = "", .start_line = 0});
      Location loc;
      loc.lines.push_back({.function_index = f, .line = 0, .column = 0});
      gc.location_indexes.push_back(p.AddLocation(std::move(loc)));
    }
    gc.values = {i == 0 ? 0 : 2};  // started by the first collection
    p.samples.push_back(std::move(gc));
    profiles.push_back({"g" + std::to_string(i), std::move(p)});
  }
  const WorkerAttribution a = AttributeWorkerGrowth(profiles);
  EXPECT_TRUE(a.groups.empty()) << a.groups.front().wait_point.function;
}

// Real profiles of a leaking Go program (testdata/go_series, see README):
// the leak is main.(*sessionStore).add, the worker leak main.watch.
std::vector<NamedProfile> ReadGoSeries(const std::string& prefix) {
  std::vector<NamedProfile> out;
  for (int i = 5; i >= 1; --i) {  // out of order on purpose
    const std::string name = prefix + "-000" + std::to_string(i) + ".pb.gz";
    out.push_back({name, ReadProfileFile(kTestdata / "go_series" / name)});
  }
  return out;
}

TEST(GoSeriesTest, AttributesTheLeakToTheRightFunction) {
  std::vector<NamedProfile> heap = ReadGoSeries("heap");
  EXPECT_TRUE(OrderByTime(heap));
  EXPECT_EQ(heap.front().name, "heap-0001.pb.gz");
  const HeapAttribution a = AttributeHeapGrowth(heap);
  ASSERT_FALSE(a.sites.empty());
  EXPECT_EQ(a.sites[0].site.function, "main.(*sessionStore).add");
  EXPECT_NE(a.sites[0].site.file.find("main.go"), std::string::npos);
  EXPECT_GT(a.sites[0].bytes.share, 0.8);
  // About 2 MiB per round, 200 ms apart: several MB/s (sampled at 512 KiB).
  EXPECT_GT(a.sites[0].bytes.slope, 2e6);

  std::vector<NamedProfile> goroutines = ReadGoSeries("goroutine");
  OrderByTime(goroutines);
  const WorkerAttribution w = AttributeWorkerGrowth(goroutines);
  ASSERT_EQ(w.groups.size(), 1u);
  EXPECT_EQ(w.groups[0].wait_point.function, "main.watch");
  EXPECT_EQ(w.groups[0].blocked_in, "runtime.chanrecv1");
  EXPECT_DOUBLE_EQ(w.groups[0].workers.first, 1);
  EXPECT_DOUBLE_EQ(w.groups[0].workers.last, 5);
}

}  // namespace
}  // namespace leaklab::pprof
