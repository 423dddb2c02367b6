// The verdict rules that weigh signals against each other and against the
// runtime that reported them (issue 11), each on a small series built to
// show the one shape the rule is for, next to the shape it must not touch.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {
namespace {

constexpr double kMB = 1e6;

// A series of `n` samples every `dt` seconds; each column a function of the
// sample's index and time.
struct Column {
  std::string name;
  std::function<double(size_t, double)> value;
};
series::Series Make(size_t n, double dt, const std::vector<Column>& columns) {
  series::Series s;
  s.source = "test";
  for (const Column& c : columns) s.columns.push_back(c.name);
  s.values.resize(columns.size());
  for (size_t i = 0; i < n; ++i) {
    const double t = dt * static_cast<double>(i);
    s.t_s.push_back(t);
    for (size_t c = 0; c < columns.size(); ++c) s.values[c].push_back(columns[c].value(i, t));
  }
  return s;
}

// Deterministic noise: a normal sample per (seed, index).
double Noise(unsigned seed, size_t i, double sd) {
  std::mt19937 rng(seed * 7919 + static_cast<unsigned>(i));
  return std::normal_distribution<double>(0, sd)(rng);
}

const series::GrowthEvidence* Signal(const Verdict& v, std::string_view name) {
  for (const auto& ev : v.signals) {
    if (ev.signal == name) return &ev;
  }
  return nullptr;
}

TEST(Workers, AGrowingWorkerCountAloneIsALeakOfWorkers) {
  // What a goroutine profile alone gives: the count, every second for 40 s.
  const series::Series s =
      Make(40, 1,
           {{"workers", [](size_t, double t) { return 8 + 160 * t; }},
            {"reloads_total", [](size_t, double t) { return std::floor(t); }}});
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLeak) << v.explanation;
  EXPECT_NE(v.explanation.find("Workers are leaking"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("workers per reload"), std::string::npos) << v.explanation;
}

TEST(Workers, AWorkerCountThatComesAndGoesIsNoLeak) {
  const series::Series s =
      Make(60, 1, {{"workers", [](size_t i, double) { return 600.0 + (i % 5 == 0 ? 600 : 0); }}});
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kNoLeak) << v.explanation;
  EXPECT_NE(v.explanation.find("Memory itself was not measured"), std::string::npos)
      << v.explanation;
}

TEST(Staircase, GoHeapRepeatsBetweenCollectionsAreNotAPlateau) {
  // A leak seen through Go's heap profile alone, sampled every second: the
  // figure of the last collection holds for 9, then 10, then 12 s as the
  // heap grows and collections get rarer; RSS (not given) would show it.
  // Read sample by sample, the last 12 s are level; read per collection,
  // there are four points and no plateau to claim.
  const std::vector<double> steps = {15, 26.8, 41.6, 60};
  const series::Series s =
      Make(41, 1, {{"heap_inuse_bytes", [&](size_t i, double) {
                      return kMB * steps[i < 9 ? 0 : i < 19 ? 1 : i < 29 ? 2 : 3];
                    }}});
  AnalyzeOptions go;
  go.heap_as_of_collection = true;
  const Verdict v = AnalyzeSeries(s, go);
  EXPECT_NE(v.kind, Kind::kNoLeak) << v.explanation;
  EXPECT_NE(Signal(v, "heap_inuse_bytes")->trend, series::Trend::kPlateaued);
  EXPECT_EQ(Signal(v, "heap_inuse_bytes")->stale_repeats, 37u);
  // The same figures from a live heap counter are a plateau.
  EXPECT_EQ(Signal(AnalyzeSeries(s, {}), "heap_inuse_bytes")->stale_repeats, 0u);
}

TEST(Staircase, AllocationThatMovesMakesARepeatReal) {
  // A Go heap whose sampled live set comes out the same after every
  // collection: alloc_space moved, so each repeat is a new observation.
  const series::Series s = Make(
      30, 1,
      {{"heap_inuse_bytes", [](size_t, double) { return 1573440.0; }},
       {"heap_allocated_bytes", [](size_t i, double) { return 5e6 * static_cast<double>(i + 1); }},
       {"rss_bytes", [](size_t i, double) { return 12 * kMB + Noise(1, i, 0.1 * kMB); }}});
  AnalyzeOptions go;
  go.heap_as_of_collection = true;
  const Verdict v = AnalyzeSeries(s, go);
  EXPECT_EQ(Signal(v, "heap_inuse_bytes")->stale_repeats, 0u);
  EXPECT_EQ(Signal(v, "heap_inuse_bytes")->trend, series::Trend::kFlat) << v.explanation;
}

TEST(Keys, MemoryThatFollowsKeysThatLevelOffIsACacheFilling) {
  // 2000 keys drawn uniformly at 300 requests/s: distinct keys saturate,
  // and a cache of 2 KB per key with them.
  auto keys = [](double t) { return 2000 * (1 - std::exp(-300 * t / 2000)); };
  const series::Series bounded =
      Make(30, 1,
           {{"heap_inuse_bytes",
             [&](size_t i, double t) { return 2 * kMB + 2048 * keys(t) + Noise(2, i, 20e3); }},
            {"keys_total", [&](size_t, double t) { return std::floor(keys(t)); }},
            {"requests_total", [](size_t, double t) { return 300 * t; }}});
  const Verdict v = AnalyzeSeries(bounded, {});
  EXPECT_NE(v.kind, Kind::kLeak) << v.explanation;
  // Unique keys: the same cache leaks.
  const series::Series unique =
      Make(30, 1,
           {{"heap_inuse_bytes",
             [](size_t i, double t) { return 2 * kMB + 2048 * 300 * t + Noise(2, i, 20e3); }},
            {"keys_total", [](size_t, double t) { return 300 * t; }}});
  EXPECT_EQ(AnalyzeSeries(unique, {}).kind, Kind::kLeak);
}

TEST(Generational, AHeapAfterYoungCollectionsThatNeverFellDecidesNothing) {
  // A JVM heap after collections rising 2 MB/s with no old-generation
  // collection, RSS touching a committed heap of 270 MB that does not grow.
  const series::Series s =
      Make(60, 1,
           {{"heap_inuse_bytes",
             [](size_t i, double) { return 4 * kMB + 2 * kMB * static_cast<double>(i); }},
            {"collections_total", [](size_t i, double) { return static_cast<double>(i); }},
            {"rss_bytes",
             [](size_t i, double) { return 66 * kMB + 3.8 * kMB * static_cast<double>(i); }},
            {"heap_committed_bytes", [](size_t, double) { return 270 * kMB; }}});
  AnalyzeOptions jvm;
  jvm.generational_heap = true;
  const Verdict v = AnalyzeSeries(s, jvm);
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
  EXPECT_NE(Signal(v, "heap_inuse_bytes")->reason.find("never fell"), std::string::npos);
  EXPECT_NE(Signal(v, "rss_bytes")->reason.find("already committed"), std::string::npos);
  // The same series from a collector that marks the whole heap each time
  // (Go's) is a leak.
  EXPECT_EQ(AnalyzeSeries(s, {}).kind, Kind::kLeak);
}

TEST(Release, ABurstBetweenTwoSamplesIsLazyRelease) {
  // glibc keeps a 200 MB burst that came and went between two samples: the
  // heap never shows it, its free bytes and RSS do.
  const series::Series s = Make(
      15, 2,
      {{"rss_bytes", [](size_t i, double) { return i < 3 ? 3.4 * kMB : 225.4 * kMB; }},
       {"heap_inuse_bytes", [](size_t, double) { return 0.19 * kMB; }},
       {"heap_free_bytes", [](size_t i, double) { return i < 3 ? 0.68 * kMB : 222.6 * kMB; }}});
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLazyRelease) << v.explanation;
  EXPECT_TRUE(v.release.peak_unseen);
}

TEST(Release, ASawtoothIsNoRelease) {
  // A heap that falls and climbs again twice (collections), RSS above it.
  const series::Series s = Make(60, 1,
                                {{"rss_bytes", [](size_t, double) { return 160 * kMB; }},
                                 {"heap_inuse_bytes", [](size_t i, double) {
                                    return (30 + 2.2 * static_cast<double>(i % 20)) * kMB;
                                  }}});
  EXPECT_FALSE(AnalyzeSeries(s, {}).release.heap_released);
}

TEST(KeptFree, RssThatGrowsByFreedMemoryIsNotTheProgramsLeak) {
  // glibc behind a bounded LRU: the heap in use is level, RSS grows by 8 MB
  // of free chunks the allocator keeps; RSS minus them is level.
  const series::Series s =
      Make(30, 1,
           {{"heap_inuse_bytes", [](size_t i, double) { return 17.5 * kMB + Noise(3, i, 1e4); }},
            {"heap_free_bytes", [](size_t, double t) { return 0.3 * kMB * t; }},
            {"rss_bytes",
             [](size_t i, double t) { return 21 * kMB + 0.3 * kMB * t + Noise(4, i, 1e4); }}});
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_NE(v.kind, Kind::kLeak) << v.explanation;
  EXPECT_NE(v.explanation.find("the allocator or the kernel keeps"), std::string::npos)
      << v.explanation;
}

TEST(SampledHeap, NoLeakPerRequestWithABoundThatHoldsTheSampling) {
  // A Go heap profile sampled every 512 KiB, flat at one sampled value while
  // the program keeps 64 B of the 17 KB each request allocates.
  const series::Series s =
      Make(15, 2,
           {{"heap_inuse_bytes", [](size_t, double) { return 1573440.0; }},
            {"heap_allocated_bytes", [](size_t, double t) { return 17e3 * 300 * t + 1e6; }},
            {"requests_total", [](size_t, double t) { return 300 * t; }},
            {"rss_bytes", [](size_t i, double) { return 13 * kMB + Noise(5, i, 0.3 * kMB); }}});
  AnalyzeOptions go;
  go.heap_as_of_collection = true;
  go.heap_sampling_bytes = 512 * 1024;
  const Verdict v = AnalyzeSeries(s, go);
  EXPECT_EQ(v.kind, Kind::kNoLeak) << v.explanation;
  ASSERT_TRUE(v.bound);
  EXPECT_EQ(v.bound->unit, "request");
  // Three samples unseen over 8400 requests: about 187 B, more than the 64 B kept.
  EXPECT_GT(v.bound->max_bytes_per_unit, 64);
  EXPECT_LT(v.bound->max_bytes_per_unit, 400);
  EXPECT_NE(v.explanation.find("kept per request"), std::string::npos) << v.explanation;
}

TEST(SlowLeak, TwentyPercentOfTheLevelADayIsALeak) {
  // A day of RSS at 60 s: 290 MB growing 681 B/s (20 % over the day) under
  // 2 MB of noise. The old 1 KiB/s floor called it flat.
  const series::Series s = Make(1440, 60, {{"rss_bytes", [](size_t i, double t) {
                                              return 290 * kMB + 681 * t + Noise(6, i, 2 * kMB);
                                            }}});
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLeak) << v.explanation;
  EXPECT_NE(v.explanation.find("an hour"), std::string::npos) << v.explanation;
}

TEST(Severity, LeaksRankFirstTheFastestRelativeGrowthFirst) {
  auto leak = [](double level, double bytes_per_s) {
    return Make(120, 30, {{"rss_bytes", [=](size_t i, double t) {
                             return level + bytes_per_s * t + Noise(8, i, 1e5);
                           }}});
  };
  const Verdict fast = AnalyzeSeries(leak(100 * kMB, 20e3), {});  // its level again in 83 min
  const Verdict slow = AnalyzeSeries(leak(10 * kMB, 1e3), {});    // in 2.8 h
  const Verdict flat = AnalyzeSeries(leak(10 * kMB, 0), {});
  ASSERT_EQ(fast.kind, Kind::kLeak) << fast.explanation;
  ASSERT_EQ(slow.kind, Kind::kLeak) << slow.explanation;
  ASSERT_EQ(flat.kind, Kind::kNoLeak) << flat.explanation;
  EXPECT_TRUE(MoreSevere(fast, slow));
  EXPECT_FALSE(MoreSevere(slow, fast));
  EXPECT_TRUE(MoreSevere(slow, flat));
  EXPECT_FALSE(MoreSevere(flat, slow));
}

TEST(Inconclusive, SaysHowMuchLongerToWatch) {
  const series::Series s = Make(
      16, 2, {{"rss_bytes", [](size_t i, double) { return 12 * kMB + Noise(7, i, 0.8 * kMB); }}});
  const Verdict v = AnalyzeSeries(s, {});
  ASSERT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
  EXPECT_GT(v.decide_window_s, 30);
  EXPECT_NE(v.explanation.find("Watching about"), std::string::npos) << v.explanation;
}

}  // namespace
}  // namespace leaklab::verdict
