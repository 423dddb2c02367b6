#include "analyzers/verdict/profile_evidence.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace leaklab::verdict {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kSecond = 1'000'000'000;

pprof::Profile Heap(int64_t t_s, int64_t leak_bytes) {
  pprof::Profile p;
  p.sample_types = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  p.time_nanos = t_s * kSecond;
  const pprof::FunctionIndex leak = p.AddFunction(
      {.name = "ns::Cache::Put(int)", .system_name = "", .filename = "", .start_line = 0});
  const pprof::FunctionIndex lib = p.AddFunction({.name = "void std::vector<int>::push_back(int&&)",
                                                  .system_name = "",
                                                  .filename = "",
                                                  .start_line = 0});
  const pprof::FunctionIndex caller =
      p.AddFunction({.name = "ns::Serve()", .system_name = "", .filename = "", .start_line = 0});
  std::vector<pprof::LocationIndex> stack;
  for (pprof::FunctionIndex f : {leak, lib, caller}) {
    pprof::Location loc;
    loc.lines.push_back({.function_index = f, .line = 0, .column = 0});
    stack.push_back(p.AddLocation(std::move(loc)));
  }
  p.samples.push_back({.location_indexes = stack,
                       .values = {1, leak_bytes},
                       .string_labels = {},
                       .numeric_labels = {}});
  return p;
}

pprof::Profile Workers(int64_t t_s, int64_t count) {
  pprof::Profile p;
  p.sample_types = {{"goroutine", "count"}};
  p.time_nanos = t_s * kSecond;
  const pprof::FunctionIndex f =
      p.AddFunction({.name = "Pool::Wait", .system_name = "", .filename = "", .start_line = 0});
  pprof::Location loc;
  loc.lines.push_back({.function_index = f, .line = 0, .column = 0});
  const pprof::LocationIndex wait = p.AddLocation(std::move(loc));
  p.samples.push_back(
      {.location_indexes = {wait}, .values = {count}, .string_labels = {}, .numeric_labels = {}});
  return p;
}

TEST(SeriesFromProfilesTest, TotalsBecomeColumnsOnTheProfilesTimes) {
  std::vector<pprof::NamedProfile> p = {
      {"h2", Heap(12, 300)}, {"h1", Heap(10, 100)}, {"w1", Workers(10, 5)}, {"w2", Workers(12, 9)}};
  const series::Series s = SeriesFromProfiles(p, "profiles");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.t_s, (std::vector<double>{0, 2}));
  EXPECT_EQ(*s.Find("heap_inuse_bytes"), (std::vector<double>{100, 300}));
  EXPECT_EQ(*s.Find("workers"), (std::vector<double>{5, 9}));
  // Counts that do not pair up: the heap alone.
  p.pop_back();
  EXPECT_EQ(SeriesFromProfiles(p, "x").Find("workers"), nullptr);
}

TEST(AddProfileEvidenceTest, ExplainsLeakWithSiteAndFirstOwnCaller) {
  std::vector<pprof::NamedProfile> p;
  for (int i = 0; i < 4; ++i) p.push_back({"h" + std::to_string(i), Heap(i, 1000 * (i + 1))});
  for (int i = 0; i < 4; ++i) p.push_back({"w" + std::to_string(i), Workers(i, 10 * (i + 1))});
  Verdict v;
  v.kind = Kind::kLeak;
  AddProfileEvidence(v, AnalyzeProfiles(p));
  ASSERT_TRUE(v.profiles && v.profiles->heap && v.profiles->workers);
  EXPECT_EQ(v.profiles->heap_first, "h0");
  EXPECT_EQ(v.profiles->heap_last, "h3");
  // The std::vector frame says how, not who: the caller named is ns::Serve.
  EXPECT_NE(
      v.explanation.find("100 % of the growth, 3.0 KB, in ns::Cache::Put, called from ns::Serve."),
      std::string::npos)
      << v.explanation;
  EXPECT_NE(v.explanation.find("30 more workers waiting in Pool::Wait"), std::string::npos)
      << v.explanation;

  Verdict flat;
  flat.kind = Kind::kNoLeak;
  AddProfileEvidence(flat, AnalyzeProfiles(p));
  EXPECT_TRUE(flat.profiles.has_value());
  EXPECT_EQ(flat.explanation, "");  // no story about growth the verdict rejected
}

// A site that allocates most and keeps nothing is named as such, in the
// explanation and the summary, beside the one that grew: the look-alike the
// incidents' teams blamed first.
TEST(AddProfileEvidenceTest, NamesTheSiteThatAllocatesMostButKeepsNothing) {
  pprof::HeapAttribution h;
  h.profiles = 4;
  h.timed = true;
  h.span = 6;
  h.total.growth = 3e6;
  pprof::GrowingSite kept;
  kept.site = {"Cache::Set", "", 0};
  kept.stack = {kept.site};
  kept.bytes.growth = 3e6;
  kept.bytes.share = 1;
  h.sites = {kept};
  h.allocating = {{{"Repo::ToDomain", "", 0}, 27e6, 0.9, 0}, {{"Cache::Set", "", 0}, 3e6, 0.1, 1}};
  Verdict v;
  v.kind = Kind::kLeak;
  AddProfileEvidence(v, ProfileEvidence{.heap = h});
  EXPECT_NE(v.explanation.find("Repo::ToDomain allocated most (90 % of the 30 MB allocated) but "
                               "holds 0 % of the growth"),
            std::string::npos)
      << v.explanation;
  const std::string summary = VerdictSummary(v);
  EXPECT_NE(summary.find("allocated most  90 %  27 MB  Repo::ToDomain (0 % of the growth)"),
            std::string::npos)
      << summary;

  // When what allocates most is what grows, there is no look-alike to name.
  std::swap(h.allocating[0], h.allocating[1]);
  Verdict same;
  same.kind = Kind::kLeak;
  AddProfileEvidence(same, ProfileEvidence{.heap = h});
  EXPECT_EQ(same.explanation.find("allocated most"), std::string::npos) << same.explanation;
  EXPECT_EQ(VerdictSummary(same).find("allocated most"), std::string::npos);
}

TEST(ReadProfilesTest, RefusesProfilesThatAreNeitherHeapNorWorkers) {
  const fs::path dir = fs::temp_directory_path() / "profile_evidence_test";
  fs::create_directories(dir);
  pprof::Profile cpu;
  cpu.sample_types = {{"samples", "count"}, {"cpu", "nanoseconds"}};
  std::ofstream(dir / "cpu.pb.gz", std::ios::binary) << pprof::EncodeProfile(cpu);
  try {
    ReadProfiles({dir / "cpu.pb.gz"});
    FAIL() << "no error";
  } catch (const pprof::ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("cpu.pb.gz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("samples/count, cpu/nanoseconds"), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(ResultsFolderProfilesTest, ListsSnapshotsOnlyInOrder) {
  const fs::path dir = fs::temp_directory_path() / "profile_evidence_folder_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "profiles");
  for (const char* name : {"heap-0002.pb.gz", "heap-0001.pb.gz", "workers-0001.pb.gz",
                           "heap-diff.pb.gz", "notes.txt"}) {
    std::ofstream(dir / "profiles" / name) << "x";
  }
  const std::vector<fs::path> files = ResultsFolderProfiles(dir);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "heap-0001.pb.gz");
  EXPECT_EQ(files[1].filename(), "heap-0002.pb.gz");
  EXPECT_EQ(files[2].filename(), "workers-0001.pb.gz");
  EXPECT_TRUE(ResultsFolderProfiles(dir / "profiles").empty());  // no profiles/ inside
  fs::remove_all(dir);
}

}  // namespace
}  // namespace leaklab::verdict
