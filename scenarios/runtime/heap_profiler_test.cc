// Tests of the sampling heap profiler, the symbolizer, the scratch arena and
// the profile endpoints. This binary links the allocation hook (operator new
// is replaced, as in the server).

#include "scenarios/runtime/heap_profiler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "analyzers/pprof/profile.h"
#include "scenarios/runtime/alloc_stats.h"
#include "scenarios/runtime/profiles.h"
#include "scenarios/runtime/router.h"
#include "scenarios/runtime/scratch_arena.h"
#include "scenarios/runtime/symbolize.h"
#include "scenarios/runtime/worker_registry.h"

namespace hp = leaklab::runtime::heap_profiler;
using leaklab::pprof::Profile;

namespace leaklab_test {

// Allocates and frees `count` objects of kSize bytes. One instantiation per
// size, so each size has its own stack (un-sampling scales by average size).
template <size_t kSize>
__attribute__((noinline)) void AllocateAndFree(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    char* p = new char[kSize];
    // Keeps the compiler from eliding the pair.
    asm volatile("" : : "r"(p) : "memory");
    delete[] p;
  }
}

__attribute__((noinline)) void AllocateAndKeep(std::vector<char*>& kept, size_t count,
                                               size_t size) {
  for (size_t i = 0; i < count; ++i) kept.push_back(new char[size]);
}

// The "leak" the profile must point at.
__attribute__((noinline)) void LeakForProfileTest(std::vector<char*>& leaked, size_t count,
                                                  size_t size) {
  for (size_t i = 0; i < count; ++i) leaked.push_back(new char[size]);
}

}  // namespace leaklab_test

namespace leaklab::runtime {
namespace {

constexpr int kAllocObjects = 0;
constexpr int kAllocSpace = 1;
constexpr int kInuseObjects = 2;
constexpr int kInuseSpace = 3;

Profile CurrentHeapProfile() { return BuildHeapProfile(hp::TakeSnapshot(), NowUnixNanos()); }

const std::string& LeafName(const Profile& profile, const pprof::Sample& sample) {
  static const std::string kNone;
  if (sample.location_indexes.empty()) return kNone;
  const pprof::Location& loc = profile.location(sample.location_indexes.front());
  return profile.function(loc.lines.front().function_index).name;
}

// Sum of values[index] over samples whose leaf function name contains `name`.
int64_t SumForLeaf(const Profile& profile, int index, std::string_view name) {
  int64_t sum = 0;
  for (const pprof::Sample& s : profile.samples) {
    if (LeafName(profile, s).find(name) != std::string::npos)
      sum += s.values[static_cast<size_t>(index)];
  }
  return sum;
}

// Restores the default rate whatever a test set.
class HeapProfilerTest : public ::testing::Test {
 protected:
  void TearDown() override { hp::SetSampleRate(hp::kDefaultSampleRateBytes); }
};

TEST(ScaleHeapSampleTest, MatchesGoFormula) {
  // One sampled object of the rate's size: probability 1 - 1/e.
  const ObjectsAndBytes r = ScaleHeapSample(1, 512 * 1024, 512 * 1024);
  const double scale = 1 / (1 - std::exp(-1.0));
  EXPECT_EQ(r.objects, static_cast<int64_t>(scale));
  EXPECT_EQ(r.bytes, static_cast<int64_t>(512 * 1024 * scale));
  // Rate 1 samples everything: nothing to scale.
  EXPECT_EQ(ScaleHeapSample(7, 700, 1).bytes, 700);
  EXPECT_EQ(ScaleHeapSample(0, 0, 4096).bytes, 0);
}

// Internal linkage: not in the dynamic symbol table, only in .symtab.
__attribute__((noinline)) void LocalFunctionForSymtab(std::vector<char*>& kept) {
  kept.push_back(new char[8]);
}

TEST(SymbolizeTest, NamesInternalFunctionFromSymtab) {
  const auto pc = reinterpret_cast<uintptr_t>(&LocalFunctionForSymtab) + 1;
  ProcessSymbolizer symbolizer;
  const SymbolizedFrame f = symbolizer.Symbolize(pc);
  EXPECT_TRUE(f.known);
  EXPECT_EQ(f.name,
            "leaklab::runtime::(anonymous namespace)::LocalFunctionForSymtab(std::vector<char*, "
            "std::allocator<char*> >&)");
  ASSERT_GE(f.object, 0);
  const LoadedSegment& segment = symbolizer.segments()[static_cast<size_t>(f.object)];
  EXPECT_TRUE(segment.main_program);
  EXPECT_EQ(segment.path, std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_LE(segment.start, pc);
  EXPECT_LT(pc, segment.limit);
  // Debian's toolchain links with --build-id (a 20-byte SHA-1 by default).
  EXPECT_EQ(symbolizer.BuildId(f.object).size(), 40u) << symbolizer.BuildId(f.object);
}

TEST(SymbolizeTest, NamesSharedLibraryFunctionAndDemangles) {
  // libstdc++ is stripped of .symtab: its exported functions come from .dynsym.
  const auto pc = reinterpret_cast<uintptr_t>(&std::get_new_handler) + 1;
  ProcessSymbolizer symbolizer;
  const SymbolizedFrame f = symbolizer.Symbolize(pc);
  EXPECT_TRUE(f.known);
  EXPECT_EQ(f.name, "std::get_new_handler()");
  EXPECT_EQ(f.system_name, "_ZSt15get_new_handlerv");
  ASSERT_GE(f.object, 0);
  EXPECT_NE(symbolizer.segments()[static_cast<size_t>(f.object)].path.find("libstdc++"),
            std::string::npos);
  EXPECT_EQ(Demangle("malloc"), "malloc");
}

TEST(SymbolizeTest, UnknownAddressIsHex) {
  ProcessSymbolizer symbolizer;
  const SymbolizedFrame f = symbolizer.Symbolize(0x10);
  EXPECT_FALSE(f.known);
  EXPECT_EQ(f.name, "0x10");
  EXPECT_EQ(f.object, -1);
}

TEST(ScratchArenaTest, ScopeServesOperatorNewAndIgnoresItsDeletes) {
  const int64_t live_before = CurrentLiveAllocations().bytes;
  ScratchArena arena;
  {
    ScratchScope scope(&arena);
    std::vector<std::string> strings;
    for (int i = 0; i < 1000; ++i) strings.push_back(std::string(1000, 'x'));
    EXPECT_TRUE(arena.Contains(strings.data()));
    EXPECT_TRUE(arena.Contains(strings.back().data()));
    auto* aligned = new (std::align_val_t{4096}) char[10];
    EXPECT_TRUE(arena.Contains(aligned));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(aligned) % 4096, 0u);
    ::operator delete[](aligned, std::align_val_t{4096});
    // Scratch memory is not the program's: live bytes do not move.
    EXPECT_EQ(CurrentLiveAllocations().bytes, live_before);
    {
      ScratchScope pause(nullptr);
      auto heap = std::make_unique<int>(1);
      EXPECT_FALSE(arena.Contains(heap.get()));
    }
  }
  EXPECT_GE(arena.used_bytes(), 1000u * 1000u);
  EXPECT_EQ(CurrentLiveAllocations().bytes, live_before);
}

TEST(ScratchArenaTest, BuildOffHeapCopiesResultOutAndKeepsErrors) {
  const void* inside = nullptr;
  const std::string out = BuildOffHeap([&inside] {
    std::string s(100000, 'a');
    inside = s.data();
    return s;
  });
  // The arena is gone; the result lives on the heap.
  EXPECT_EQ(out, std::string(100000, 'a'));
  EXPECT_NE(static_cast<const void*>(out.data()), inside);
  try {
    (void)BuildOffHeap([]() -> std::string { throw std::invalid_argument(std::string(500, 'e')); });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), std::string(500, 'e'));
  }
}

TEST_F(HeapProfilerTest, ProfileLocationsHaveMappings) {
  std::vector<char*> kept;
  hp::SetSampleRate(1);
  leaklab_test::AllocateAndKeep(kept, 10, 64);
  hp::SetSampleRate(hp::kDefaultSampleRateBytes);
  const Profile profile = CurrentHeapProfile();
  for (char* p : kept) delete[] p;
  ASSERT_FALSE(profile.mappings.empty());
  int main_mappings = 0;
  for (const pprof::Mapping& m : profile.mappings) {
    EXPECT_LT(m.memory_start, m.memory_limit);
    EXPECT_TRUE(m.has_functions);
    if (m.filename == std::filesystem::read_symlink("/proc/self/exe").string()) ++main_mappings;
  }
  EXPECT_EQ(main_mappings, 1);
  for (const pprof::Location& loc : profile.locations) {
    if (loc.address == 0 || !loc.mapping_index) continue;
    const pprof::Mapping& m = profile.mapping(*loc.mapping_index);
    EXPECT_GE(loc.address, m.memory_start);
    EXPECT_LT(loc.address, m.memory_limit);
  }
}

// Alloc_space is un-sampled to within 10 % of the truth for small, medium and
// large objects (about 2048 samples each: a standard error near 2.2 %).
TEST_F(HeapProfilerTest, AllocSpaceEstimateIsWithinTenPercent) {
  hp::SetSampleRate(hp::kDefaultSampleRateBytes);
  hp::internal::ReseedThisThread(20240601);
  constexpr int64_t kTotal = int64_t{1} << 30;
  struct Case {
    const char* name;
    size_t size;
    void (*run)(size_t);
  };
  const Case cases[] = {
      {"AllocateAndFree<256", 256, &leaklab_test::AllocateAndFree<256>},
      {"AllocateAndFree<4096", 4096, &leaklab_test::AllocateAndFree<4096>},
      {"AllocateAndFree<262144", 262144, &leaklab_test::AllocateAndFree<262144>},
      {"AllocateAndFree<1048576", 1048576, &leaklab_test::AllocateAndFree<1048576>}};
  for (const Case& c : cases) {
    const Profile before = CurrentHeapProfile();
    c.run(static_cast<size_t>(kTotal) / c.size);
    const Profile after = CurrentHeapProfile();
    const int64_t space =
        SumForLeaf(after, kAllocSpace, c.name) - SumForLeaf(before, kAllocSpace, c.name);
    const int64_t objects =
        SumForLeaf(after, kAllocObjects, c.name) - SumForLeaf(before, kAllocObjects, c.name);
    const double truth_objects = static_cast<double>(kTotal) / static_cast<double>(c.size);
    EXPECT_NEAR(static_cast<double>(space), static_cast<double>(kTotal), 0.10 * kTotal) << c.name;
    EXPECT_NEAR(static_cast<double>(objects), truth_objects, 0.10 * truth_objects) << c.name;
    // All were freed.
    EXPECT_EQ(SumForLeaf(after, kInuseSpace, c.name), 0) << c.name;
    std::printf("size %zu: alloc_space estimate %.4f of truth, alloc_objects %.4f\n", c.size,
                static_cast<double>(space) / static_cast<double>(kTotal),
                static_cast<double>(objects) / truth_objects);
  }
}

TEST_F(HeapProfilerTest, FreedObjectsLeaveInuse) {
  // Rate 1 samples every allocation and profiles are not scaled: exact counts.
  hp::SetSampleRate(1);
  std::vector<char*> kept;
  kept.reserve(1000);
  const Profile before = CurrentHeapProfile();
  leaklab_test::AllocateAndKeep(kept, 1000, 64);
  const Profile held = CurrentHeapProfile();
  for (char* p : kept) delete[] p;
  const Profile freed = CurrentHeapProfile();

  const std::string_view name = "leaklab_test::AllocateAndKeep";
  EXPECT_EQ(SumForLeaf(held, kInuseObjects, name) - SumForLeaf(before, kInuseObjects, name), 1000);
  EXPECT_EQ(SumForLeaf(held, kInuseSpace, name) - SumForLeaf(before, kInuseSpace, name), 64000);
  EXPECT_EQ(SumForLeaf(freed, kInuseObjects, name) - SumForLeaf(before, kInuseObjects, name), 0);
  EXPECT_EQ(SumForLeaf(freed, kInuseSpace, name) - SumForLeaf(before, kInuseSpace, name), 0);
  EXPECT_EQ(SumForLeaf(freed, kAllocObjects, name) - SumForLeaf(before, kAllocObjects, name), 1000);
}

// Threads allocating and freeing while another takes profiles: nothing stays
// in use, nothing crashes or deadlocks.
TEST_F(HeapProfilerTest, ConcurrentAllocationFreeAndSnapshots) {
  hp::SetSampleRate(4096);
  std::atomic<bool> stop{false};
  std::thread profiler([&stop] {
    while (!stop.load()) {
      const Profile p = CurrentHeapProfile();
      ASSERT_FALSE(p.sample_types.empty());
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([] {
      hp::SetSampleRate(4096);  // this thread's countdown, at once
      for (int round = 0; round < 50; ++round) {
        std::vector<char*> kept;
        kept.reserve(1000);
        leaklab_test::AllocateAndKeep(kept, 1000, 100 + static_cast<size_t>(round));
        for (char* p : kept) delete[] p;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  stop = true;
  profiler.join();
  const Profile after = CurrentHeapProfile();
  EXPECT_GT(SumForLeaf(after, kAllocObjects, "leaklab_test::AllocateAndKeep"), 0);
  EXPECT_EQ(SumForLeaf(after, kInuseObjects, "leaklab_test::AllocateAndKeep"), 0);
}

// 64 MiB leaked in 64 KiB blocks: the leaking function is the top flat entry
// of inuse_space, named and demangled, with the allocator's frames dropped.
class LeakTest : public HeapProfilerTest {
 protected:
  void SetUp() override {
    hp::SetSampleRate(hp::kDefaultSampleRateBytes);
    hp::internal::ReseedThisThread(7);
    leaked_.reserve(1024);
    leaklab_test::LeakForProfileTest(leaked_, 1024, 64 * 1024);
  }
  void TearDown() override {
    for (char* p : leaked_) delete[] p;
    HeapProfilerTest::TearDown();
  }
  std::vector<char*> leaked_;
};

TEST_F(LeakTest, LeakingFunctionTopsInuseSpace) {
  const Profile profile = CurrentHeapProfile();
  // Flat inuse_space per leaf function, as `pprof -top` ranks them.
  std::string top;
  int64_t top_value = 0;
  std::vector<std::pair<std::string, int64_t>> flat;
  for (const pprof::Sample& s : profile.samples) {
    const std::string& leaf = LeafName(profile, s);
    auto it =
        std::find_if(flat.begin(), flat.end(), [&leaf](const auto& e) { return e.first == leaf; });
    if (it == flat.end()) {
      flat.emplace_back(leaf, s.values[kInuseSpace]);
    } else {
      it->second += s.values[kInuseSpace];
    }
  }
  for (const auto& [name, value] : flat) {
    if (value > top_value) {
      top = name;
      top_value = value;
    }
  }
  // An optimising build may name a specialised copy: GCC at -O3 appends
  // " [clone .constprop.0]" to the demangled name, which the profile keeps
  // (it is the symbol's real name); the function is the same.
  if (const size_t clone = top.find(" [clone "); clone != std::string::npos) top.resize(clone);
  EXPECT_EQ(top,
            "leaklab_test::LeakForProfileTest(std::vector<char*, std::allocator<char*> >&, "
            "unsigned long, "
            "unsigned long)");
  const double truth = 64.0 * 1024 * 1024;
  EXPECT_NEAR(static_cast<double>(top_value), truth, 0.25 * truth);
  // No allocator frame is left at the top of any stack.
  for (const pprof::Sample& s : profile.samples) {
    EXPECT_FALSE(LeafName(profile, s).starts_with("operator new")) << LeafName(profile, s);
    EXPECT_FALSE(LeafName(profile, s).starts_with("leaklab::runtime::heap_profiler"))
        << LeafName(profile, s);
  }
}

class NullScenario : public Scenario {
 public:
  Response Handle(const Request&) override { return {404, "text/plain", ""}; }
};

Response Get(std::string_view path) {
  NullScenario scenario;
  Router router(scenario);
  Request request;
  request.method = "GET";
  request.path = path;
  return router.Handle(request);
}

TEST_F(LeakTest, HeapEndpointServesGzipProfile) {
  const Response r = Get("/debug/pprof/heap");
  ASSERT_EQ(r.status, 200);
  ASSERT_GE(r.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(r.body[1]), 0x8b);
  const Profile p = pprof::DecodeProfile(r.body);
  const std::vector<pprof::ValueType> expected = {{"alloc_objects", "count"},
                                                  {"alloc_space", "bytes"},
                                                  {"inuse_objects", "count"},
                                                  {"inuse_space", "bytes"}};
  EXPECT_EQ(p.sample_types, expected);
  EXPECT_EQ(p.period_type, (pprof::ValueType{"space", "bytes"}));
  EXPECT_EQ(p.period, hp::kDefaultSampleRateBytes);
  EXPECT_GT(p.time_nanos, 0);
  EXPECT_GT(SumForLeaf(p, kInuseSpace, "leaklab_test::LeakForProfileTest"), 0);
}

TEST(WorkersEndpointTest, ServesOneSamplePerGroup) {
  std::vector<std::unique_ptr<WorkerScope>> scopes;
  for (int i = 0; i < 3; ++i) {
    scopes.push_back(std::make_unique<WorkerScope>("test.SpawnSite"));
    scopes.back()->WaitingAt("test.WaitPoint");
  }
  const Response r = Get("/debug/pprof/workers");
  ASSERT_EQ(r.status, 200);
  const Profile p = pprof::DecodeProfile(r.body);
  EXPECT_EQ(p.sample_types, (std::vector<pprof::ValueType>{{"goroutine", "count"}}));
  EXPECT_EQ(p.period_type, (pprof::ValueType{"goroutine", "count"}));
  EXPECT_EQ(p.period, 1);
  EXPECT_GT(p.time_nanos, 0);
  int found = 0;
  for (const pprof::Sample& s : p.samples) {
    if (LeafName(p, s) != "test.WaitPoint") continue;
    ++found;
    ASSERT_EQ(s.location_indexes.size(), 2u);
    const pprof::Location& caller = p.location(s.location_indexes[1]);
    EXPECT_EQ(p.function(caller.lines.front().function_index).name, "test.SpawnSite");
    EXPECT_EQ(s.values, std::vector<int64_t>{3});
  }
  EXPECT_EQ(found, 1);
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return "";
}

// The real consumer: `go tool pprof` reads the served profile and shows the
// leaking function by its C++ name, without the binary.
TEST_F(LeakTest, GoToolPprofShowsLeakingFunction) {
  const std::string go = FindOnPath("go");
  if (go.empty()) GTEST_SKIP() << "go is not on PATH";
  const Response r = Get("/debug/pprof/heap");
  ASSERT_EQ(r.status, 200);

  char dir_template[] = "/tmp/heap_profiler_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir = dir_template;
  const std::filesystem::path file = dir / "heap.pb.gz";
  std::ofstream(file, std::ios::binary) << r.body;
  // CI has no writable HOME: give go its own home and build cache.
  const std::string command =
      "cd " + dir.string() + " && HOME=" + dir.string() + " GOCACHE=" + dir.string() +
      "/gocache GOPATH=" + dir.string() + "/gopath GOFLAGS=-mod=mod " + go +
      " tool pprof -top -sample_index=inuse_space " + file.string() + " 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    EXPECT_EQ(::pclose(pipe), 0) << output;
  } else {
    FAIL() << "cannot run " << command;
  }
  std::filesystem::remove_all(dir);
  EXPECT_NE(output.find("leaklab_test::LeakForProfileTest"), std::string::npos) << output;
  std::printf("%s", output.substr(0, 1500).c_str());
}

}  // namespace
}  // namespace leaklab::runtime
