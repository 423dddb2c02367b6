#include "analyzers/verdict/verdict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace leaklab::verdict {
namespace {

// A 10 Hz series of `n` samples: heap = base + per_request * requests + noise,
// with `rate` requests per second.
series::Series MakeSeries(size_t n, double base, double bytes_per_request, double rate,
                          double noise, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, noise);
  series::Series s;
  s.source = "synthetic";
  s.columns = {"heap_inuse_bytes", "requests_total"};
  s.values.resize(2);
  for (size_t i = 0; i < n; ++i) {
    double t = 0.1 * static_cast<double>(i);
    double requests = std::floor(rate * t);
    s.t_s.push_back(t);
    s.values[0].push_back(base + bytes_per_request * requests + (noise > 0 ? gauss(rng) : 0));
    s.values[1].push_back(requests);
  }
  return s;
}

TEST(AnalyzeSeries, PerRequestGrowthIsALeakWithBytesPerRequest) {
  series::Series s = MakeSeries(100, 1e6, 10'240, 1000, 50'000);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLeak) << v.explanation;
  ASSERT_FALSE(v.work.empty());
  EXPECT_EQ(v.work.front().counter, "requests_total");
  EXPECT_NEAR(v.work.front().bytes_per_unit, 10'240, 200);
  EXPECT_GT(v.work.front().r_squared, 0.99);
  EXPECT_NE(v.explanation.find("per request"), std::string::npos) << v.explanation;
}

TEST(AnalyzeSeries, ANarrowIntervalIsGivenAsAShareNotAsTwoEqualFigures) {
  // 10 MB/s with 50 KB of noise: the interval is far narrower than the
  // rounding of "10 MB/s".
  const Verdict narrow = AnalyzeSeries(MakeSeries(100, 1e6, 10'000, 1000, 50'000), {});
  ASSERT_EQ(narrow.kind, Kind::kLeak) << narrow.explanation;
  EXPECT_EQ(narrow.explanation.find("between 10 MB/s and 10 MB/s"), std::string::npos)
      << narrow.explanation;
  EXPECT_NE(narrow.explanation.find("% of that with 95 % confidence"), std::string::npos)
      << narrow.explanation;
  // A noisy one keeps its two ends.
  const Verdict wide = AnalyzeSeries(MakeSeries(100, 1e6, 1'000, 1000, 2e6), {});
  ASSERT_EQ(wide.kind, Kind::kLeak) << wide.explanation;
  EXPECT_NE(wide.explanation.find("with 95 % confidence between"), std::string::npos)
      << wide.explanation;
}

TEST(AnalyzeSeries, PredictsWhenAGrowingSignalReachesALimit) {
  // 10 MB/s from 1 MB: a 101 MB limit is reached at t = 10 s.
  series::Series s = MakeSeries(60, 1e6, 10'000, 1000, 0);
  AnalyzeOptions options;
  options.limit_bytes = 101e6;
  Verdict v = AnalyzeSeries(s, options);
  ASSERT_EQ(v.kind, Kind::kLeak);
  ASSERT_TRUE(v.exhaustion.has_value());
  EXPECT_NEAR(v.exhaustion->predicted_t_s, 10.0, 0.2);
  EXPECT_NEAR(v.exhaustion->time_left_s, 10.0 - 5.9, 0.2);
  EXPECT_FALSE(AnalyzeSeries(s, {}).exhaustion.has_value());
}

TEST(AnalyzeSeries, FlatNoisyHeapIsNoLeak) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    series::Series s = MakeSeries(100, 5e6, 0, 1000, 40'000, seed);
    Verdict v = AnalyzeSeries(s, {});
    EXPECT_EQ(v.kind, Kind::kNoLeak) << "seed " << seed << ": " << v.explanation;
  }
}

TEST(AnalyzeSeries, GrowthThatLevelsOffIsNoLeak) {
  series::Series s = MakeSeries(200, 1e6, 0, 1000, 10'000);
  // Fills up over the first half, then stays: a cache reaching its bound.
  for (size_t i = 0; i < s.size(); ++i)
    s.values[0][i] += 2e4 * static_cast<double>(std::min<size_t>(i, 100));
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kNoLeak) << v.explanation;
  EXPECT_EQ(v.signals.front().trend, series::Trend::kPlateaued) << v.signals.front().reason;
}

TEST(AnalyzeSeries, TooShortIsInconclusiveAndSaysWhy) {
  series::Series s = MakeSeries(5, 1e6, 10'000, 1000, 0);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive);
  ASSERT_FALSE(v.missing.empty());
  EXPECT_NE(v.missing.front().find("samples"), std::string::npos) << v.missing.front();
}

TEST(AnalyzeSeries, DisorderedTimeIsInconclusiveNamingTheSample) {
  series::Series s = MakeSeries(50, 1e6, 10'000, 1000, 0);
  s.t_s[20] = s.t_s[19];
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive);
  EXPECT_NE(v.explanation.find("sample 21"), std::string::npos) << v.explanation;
}

TEST(AnalyzeSeries, ConstantSeriesIsNoLeakWithoutNaN) {
  series::Series s = MakeSeries(100, 1e6, 0, 0, 0);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kNoLeak);
  std::string json = VerdictToJson(v);
  EXPECT_EQ(json.find("nan"), std::string::npos) << json;
  EXPECT_EQ(json.find("inf"), std::string::npos) << json;
}

TEST(AnalyzeSeries, NoMemoryColumnIsInconclusive) {
  series::Series s = MakeSeries(50, 1e6, 0, 0, 0);
  s.columns = {"something_else", "requests_total"};
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive);
}

TEST(VerdictJson, CarriesSchemaVerdictEvidenceAndExplanation) {
  Verdict v = AnalyzeSeries(MakeSeries(100, 1e6, 10'240, 1000, 1000), {});
  std::string json = VerdictToJson(v);
  for (const char* key : {"\"schema_version\":1", "\"verdict\":\"leak\"", "\"mann_kendall\"",
                          "\"slope_bytes_per_s\"", "\"slope_ci95_bytes_per_s\"",
                          "\"plateau_check\"", "\"bytes_per_unit\"", "\"explanation\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
}

TEST(VerdictSummary, QuotesAnExactFitOverFewUnitsAndDropsLooseOnes) {
  Verdict v;
  v.kind = Kind::kLeak;
  auto fit = [](const char* counter, const char* unit, double bytes, double r2, double units) {
    WorkExplanation w;
    w.signal = "heap_inuse_bytes";
    w.counter = counter;
    w.unit = unit;
    w.bytes_per_unit = bytes;
    w.r_squared = r2;
    w.units = units;
    w.points = 12;
    return w;
  };
  v.work = {fit("reloads_total", "reload", 4.97e6, 0.999, 8),
            fit("requests_total", "request", 97e3, 0.99, 408),
            fit("keys_total", "key", 3e3, 0.6, 5)};
  const std::string summary = VerdictSummary(v);
  EXPECT_NE(summary.find("per reload (R^2 1.00 over 8 reloads)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("per request (R^2 0.99 over 408 requests)"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("per key"), std::string::npos) << summary;    // 5 keys, R^2 0.6
  EXPECT_LT(summary.find("per reload"), summary.find("per request"));  // best first

  v.kind = Kind::kNoLeak;  // per-unit growth is quoted for leaks only
  EXPECT_EQ(VerdictSummary(v).find(" per "), std::string::npos);
}

TEST(VerdictSummary, ListsGrowingSitesOnlyWhereMemoryMayGrow) {
  Verdict v;
  ProfileEvidence evidence;
  pprof::HeapAttribution heap;
  pprof::GrowingSite site;
  site.site.function = "Watcher";
  site.bytes.growth = 1.8e6;
  site.bytes.share = 1;
  heap.sites = {site};
  evidence.heap = heap;
  v.profiles = evidence;
  for (Kind k : {Kind::kLeak, Kind::kInconclusive, Kind::kNoLeak, Kind::kLazyRelease}) {
    v.kind = k;
    const bool listed = VerdictSummary(v).find("grows at") != std::string::npos;
    EXPECT_EQ(listed, k == Kind::kLeak || k == Kind::kInconclusive) << KindName(k);
  }
}

TEST(ParseKind, RoundTripsNames) {
  for (Kind k : {Kind::kLeak, Kind::kNoLeak, Kind::kLazyRelease, Kind::kInconclusive}) {
    EXPECT_EQ(ParseKind(KindName(k)), k);
  }
  EXPECT_FALSE(ParseKind("leaky").has_value());
}

}  // namespace
}  // namespace leaklab::verdict

namespace leaklab::verdict {
namespace {

TEST(AnalyzeSeries, ShortSeriesThatLevelsOffIsNotALeak) {
  // 14 hand-taken snapshots: growth, then the last 40 % flat.
  series::Series s = MakeSeries(14, 1e6, 0, 1000, 0);
  for (size_t i = 0; i < s.size(); ++i)
    s.values[0][i] += 1e6 * static_cast<double>(std::min<size_t>(i, 8));
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_NE(v.kind, Kind::kLeak) << v.explanation;
}

TEST(AnalyzeSeries, ShortSeriesWithoutSignificanceIsInconclusiveNotNoLeak) {
  // 9 samples, large but noisy growth: too few to tell either way.
  series::Series s = MakeSeries(9, 1e6, 0, 1000, 0);
  const double wiggle[] = {0, 3e6, -1e6, 4e6, 0, 5e6, 1e6, 2e6, 4e6};
  for (size_t i = 0; i < s.size(); ++i) s.values[0][i] += wiggle[i];
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
}

TEST(AnalyzeSeries, ExtremeValuesAreInconclusiveNotACrash) {
  series::Series s = MakeSeries(50, 0, 0, 1000, 0);
  for (size_t i = 0; i < s.size(); ++i) s.values[0][i] = (i % 2 ? 1.7e308 : -1.7e308);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_NE(v.kind, Kind::kLeak);
}

TEST(AnalyzeSeries, RssGrowthWithFlatHeapSaysItIsOutsideTheHeap) {
  series::Series s = MakeSeries(100, 1e6, 0, 1000, 1000);
  s.columns.push_back("rss_bytes");
  s.values.emplace_back();
  for (size_t i = 0; i < s.size(); ++i)
    s.values.back().push_back(5e6 + 2e5 * static_cast<double>(i));
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLeak);
  EXPECT_NE(v.explanation.find("outside the heap"), std::string::npos) << v.explanation;
}

}  // namespace
}  // namespace leaklab::verdict

#include <filesystem>
#include <fstream>

#include "analyzers/verdict/folder.h"

namespace leaklab::verdict {
namespace {

namespace fs = std::filesystem;

// A results folder with a flat series, and the given loadgen.json and end reason.
fs::path MakeFolder(const std::string& name, const std::string& loadgen_json,
                    const std::string& reason) {
  fs::path dir = fs::temp_directory_path() / ("leaklab-verdict-test-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream csv(dir / "series.csv");
  csv << "t_s,heap_inuse_bytes,requests_total\n";
  for (int i = 0; i < 100; ++i)
    csv << 0.1 * i << "," << 1'000'000 + (i % 3) * 100 << "," << i * 10 << "\n";
  std::ofstream(dir / "loadgen.json") << loadgen_json;
  std::ofstream(dir / "manifest.json")
      << "{\"end\":{\"reason\":\"" << reason << "\",\"detail\":\"d\"}}";
  return dir;
}

TEST(AnalyzeResultsFolder, FlatRunWithWorkIsNoLeak) {
  fs::path dir =
      MakeFolder("ok", R"({"options":{"connections":4},"result":{"requests":900}})", "completed");
  EXPECT_EQ(AnalyzeResultsFolder(dir, {}).kind, Kind::kNoLeak);
}

TEST(AnalyzeResultsFolder, FlatRunWithoutWorkIsInconclusive) {
  fs::path dir =
      MakeFolder("idle", R"({"options":{"connections":4},"result":{"requests":0}})", "completed");
  Verdict v = AnalyzeResultsFolder(dir, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
  ASSERT_FALSE(v.missing.empty());
  EXPECT_NE(v.missing.front().find("no request"), std::string::npos);
}

TEST(AnalyzeResultsFolder, FailedLoadIsInconclusive) {
  fs::path dir = MakeFolder(
      "failed", R"({"options":{"connections":4},"result":{"requests":5},"error":"boom"})",
      "completed");
  EXPECT_EQ(AnalyzeResultsFolder(dir, {}).kind, Kind::kInconclusive);
}

// A profiles/ folder that cannot be listed (here a symlink loop) costs the
// profiles only: the series' verdict stands, with a note. It used to abort
// the whole analysis.
TEST(AnalyzeResultsFolder, UnreadableProfilesFolderKeepsTheSeriesVerdict) {
  fs::path dir =
      MakeFolder("loop", R"({"options":{"connections":4},"result":{"requests":900}})", "completed");
  fs::create_symlink("profiles", dir / "profiles");
  Verdict v = AnalyzeResultsFolder(dir, {});
  EXPECT_EQ(v.kind, Kind::kNoLeak) << v.explanation;
  EXPECT_NE(v.explanation.find("the profiles were left out"), std::string::npos) << v.explanation;
}

TEST(AnalyzeResultsFolder, EarlyEndCannotConfirmNoLeak) {
  fs::path dir = MakeFolder("early", R"({"options":{"connections":4},"result":{"requests":900}})",
                            "server_exited");
  Verdict v = AnalyzeResultsFolder(dir, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive);
  EXPECT_NE(v.explanation.find("ended early"), std::string::npos);
  // It says so first: an inconclusive verdict never opens with "No leak".
  EXPECT_TRUE(v.explanation.starts_with(
      "Inconclusive, as the run ended early: up to then, no sign of a leak: "))
      << v.explanation;
}

// The harness killed mid-run: the manifest still says "running" and has no
// end. It used to read as a finished run, and a flat curve as no-leak.
TEST(AnalyzeResultsFolder, RunWithoutAnEndCannotConfirmNoLeak) {
  fs::path dir = MakeFolder("killed", R"({"options":{"connections":4},"result":{"requests":900}})",
                            "completed");
  std::ofstream(dir / "manifest.json") << R"({"scenario":"x","status":"running"})";
  Verdict v = AnalyzeResultsFolder(dir, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
  ASSERT_FALSE(v.missing.empty());
  EXPECT_NE(v.missing.back().find("manifest has no end"), std::string::npos);
  // An analysis of files has no end and needs none.
  std::ofstream(dir / "manifest.json") << R"({"origin":"leaklab analyze --out"})";
  EXPECT_EQ(AnalyzeResultsFolder(dir, {}).kind, Kind::kNoLeak);
}

// Found by manifest_fuzz: a memory limit beyond the int64 range was
// converted to int64 (undefined behaviour); it is now ignored, like any
// limit that is not a whole number of bytes.
TEST(ParseManifestFacts, LimitOutsideTheInt64RangeIsIgnored) {
  EXPECT_FALSE(ParseManifestFacts(R"({"flags":{"mem_limit_bytes":1e300}})", "m.json").limit_bytes);
  EXPECT_FALSE(ParseManifestFacts(R"({"flags":{"mem_limit_bytes":-1e300}})", "m.json").limit_bytes);
  EXPECT_EQ(ParseManifestFacts(R"({"flags":{"mem_limit_bytes":209715200}})", "m.json").limit_bytes,
            209715200.0);
  EXPECT_EQ(ParseManifestFacts(R"({"flags":{"mem_limit_bytes":2e8}})", "m.json").limit_bytes, 2e8);
}

TEST(ParseManifestFacts, NotAnObjectNamesTheFile) {
  try {
    ParseManifestFacts("[1]", "dir/manifest.json");
    FAIL();
  } catch (const series::InputError& e) {
    EXPECT_STREQ(e.what(), "dir/manifest.json: not a JSON object");
  }
}

TEST(AnalyzeResultsFolder, MissingSeriesNamesTheFolder) {
  fs::path dir = fs::temp_directory_path() / "leaklab-verdict-test-empty";
  fs::create_directories(dir);
  try {
    AnalyzeResultsFolder(dir, {});
    FAIL();
  } catch (const series::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos);
  }
}

}  // namespace
}  // namespace leaklab::verdict

namespace leaklab::verdict {
namespace {

// 12 s at 10 Hz: idle, a 256 MB burst from 1.5 s to 3 s, then idle. `kept`
// says how much of the burst RSS keeps afterwards; `lazy` and `free` how much
// of that LazyFree and the allocator's free bytes show.
series::Series Burst(double kept, double lazy, double free_bytes) {
  const double mb = 1 << 20, burst = 256 * mb;
  series::Series s;
  s.source = "burst";
  s.columns = {"rss_bytes", "heap_inuse_bytes", "lazyfree_bytes", "heap_free_bytes"};
  s.values.resize(4);
  for (int i = 0; i < 120; ++i) {
    double t = 0.1 * i;
    bool during = t >= 1.5 && t < 3;
    bool after = t >= 3;
    double heap = 2 * mb + (during ? burst : 0) + (i % 5) * 1000;
    double rss = 6 * mb + (during ? burst : after ? kept * burst : 0);
    s.t_s.push_back(t);
    s.values[0].push_back(rss);
    s.values[1].push_back(heap);
    s.values[2].push_back(after ? lazy * burst : 0);
    s.values[3].push_back(after ? free_bytes * burst : 0);
  }
  return s;
}

TEST(LazyRelease, RssKeptAndShownAsLazyFreeIsLazyRelease) {
  Verdict v = AnalyzeSeries(Burst(1.0, 1.0, 0), {});
  EXPECT_EQ(v.kind, Kind::kLazyRelease) << v.explanation;
  EXPECT_TRUE(v.release.accounted);
  EXPECT_NEAR(v.release.lazyfree_bytes, 256 << 20, 1 << 20);
  EXPECT_NE(v.explanation.find("LazyFree"), std::string::npos) << v.explanation;
}

TEST(LazyRelease, RssKeptByTheAllocatorIsLazyRelease) {
  Verdict v = AnalyzeSeries(Burst(0.95, 0, 0.95), {});
  EXPECT_EQ(v.kind, Kind::kLazyRelease) << v.explanation;
  EXPECT_NE(v.explanation.find("allocator keeps"), std::string::npos) << v.explanation;
}

TEST(LazyRelease, RssThatFallsWithTheHeapIsNoLeak) {
  Verdict v = AnalyzeSeries(Burst(0.02, 0, 0), {});
  EXPECT_EQ(v.kind, Kind::kNoLeak) << v.explanation;
  EXPECT_TRUE(v.release.heap_released);
  EXPECT_FALSE(v.release.rss_kept);
}

TEST(LazyRelease, RssKeptWithNothingToAccountForItIsInconclusive) {
  Verdict v = AnalyzeSeries(Burst(1.0, 0, 0), {});
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
  ASSERT_FALSE(v.missing.empty());
  EXPECT_NE(v.missing.front().find("lazyfree_bytes"), std::string::npos);
}

TEST(LazyRelease, WhatTheRuntimeSaysItReleasedAccountsForRssWithoutLazyFree) {
  // A Go service seen through its /metrics: no LazyFree figure, but
  // go_memstats_heap_released_bytes (heap_released_bytes) rose by what RSS
  // kept: Go 1.12 to 1.15 gave it back with MADV_FREE. The incident's paradox.
  series::Series s = Burst(1.0, 0, 0);
  const size_t lazy = 2;
  s.columns.erase(s.columns.begin() + lazy);
  s.values.erase(s.values.begin() + lazy);
  s.columns.push_back("heap_released_bytes");
  s.values.emplace_back();
  for (double t : s.t_s) s.values.back().push_back(t >= 3 ? 256.0 * (1 << 20) : 0);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLazyRelease) << v.explanation;
  EXPECT_TRUE(v.release.accounted);
  EXPECT_NEAR(v.release.runtime_released_bytes, 256 << 20, 1 << 20);
  EXPECT_NE(v.explanation.find("counts as returned to the OS (heap_released_bytes)"),
            std::string::npos)
      << v.explanation;
}

TEST(LazyRelease, ReleasedBytesAndLazyFreeAreNotCountedTwice) {
  // RSS kept the whole burst, LazyFree shows 30 % of it and the runtime says
  // it released 30 % too: the same pages, so 30 % is explained (added up it
  // would pass the half that lazy release needs).
  series::Series s = Burst(1.0, 0.3, 0);
  s.columns.push_back("heap_released_bytes");
  s.values.emplace_back();
  for (double t : s.t_s) s.values.back().push_back(t >= 3 ? 0.3 * 256 * (1 << 20) : 0);
  Verdict v = AnalyzeSeries(s, {});
  EXPECT_FALSE(v.release.accounted) << v.explanation;
  EXPECT_NE(v.kind, Kind::kLazyRelease) << v.explanation;
}

TEST(LazyRelease, HighFlatRssAloneIsNeverALeak) {
  // RSS high and flat from the start, heap small and flat: no release seen, no growth.
  series::Series s = Burst(0, 0, 0);
  for (auto& x : s.values[0]) x = 300.0 * (1 << 20);
  for (auto& x : s.values[1]) x = 2.0 * (1 << 20);
  EXPECT_EQ(AnalyzeSeries(s, {}).kind, Kind::kNoLeak);
}

}  // namespace
}  // namespace leaklab::verdict

namespace leaklab::verdict {
namespace {

// A 10 Hz series with heap, RSS and all three counters: requests at 100/s,
// a new key every `requests_per_key` requests, a reload every `reload_s`;
// the heap keeps `per_reload` bytes per reload and `per_key` per key.
series::Series Work(size_t n, double reload_s, double per_reload, double requests_per_key,
                    double per_key, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 20'000);
  series::Series s;
  s.source = "work";
  s.columns = {"heap_inuse_bytes", "rss_bytes", "requests_total", "keys_total", "reloads_total"};
  s.values.resize(5);
  for (size_t i = 0; i < n; ++i) {
    const double t = 0.1 * static_cast<double>(i);
    const double requests = std::floor(100 * t);
    const double keys = std::floor(requests / requests_per_key);
    const double reloads = std::floor(t / reload_s);
    const double heap = 8e6 + per_reload * reloads + per_key * keys + noise(rng);
    s.t_s.push_back(t);
    s.values[0].push_back(heap);
    s.values[1].push_back(heap + 6e6);
    s.values[2].push_back(requests);
    s.values[3].push_back(keys);
    s.values[4].push_back(reloads);
  }
  return s;
}

TEST(WorkExplanation, StepsPerReloadAreExplainedByReloads) {
  // 412 KB per reload every 1.5 s; requests grow too, but smoothly.
  const Verdict v = AnalyzeSeries(Work(300, 1.5, 412e3, 1e18, 0), {});
  ASSERT_EQ(v.kind, Kind::kLeak) << v.explanation;
  ASSERT_FALSE(v.work.empty());
  EXPECT_EQ(v.work.front().counter, "reloads_total");
  EXPECT_NEAR(v.work.front().bytes_per_unit, 412e3, 20e3);
  EXPECT_GT(v.work.front().r_squared, 0.98);
  EXPECT_NE(v.explanation.find(" KB per reload (R\xC2\xB2 1.00)"), std::string::npos)
      << v.explanation;
  EXPECT_EQ(v.explanation.find("just as well"), std::string::npos) << v.explanation;
  // Requests explain it less well: the floor is a staircase, requests a ramp.
  for (const WorkExplanation& w : v.work) {
    if (w.counter == "requests_total") {
      EXPECT_LT(w.r_squared, v.work.front().r_squared);
    }
  }
}

TEST(WorkExplanation, RepeatedKeysTellAPerKeyCacheFromAPerRequestLeak) {
  // A key per 4 requests, 3 KB per key: keys explain it, at 3 KB each; requests
  // fit too (they grow in step) but at a quarter of that per request.
  const Verdict v = AnalyzeSeries(Work(300, 1e9, 0, 4, 3e3), {});
  ASSERT_EQ(v.kind, Kind::kLeak) << v.explanation;
  ASSERT_GE(v.work.size(), 2u);
  EXPECT_EQ(v.work.front().counter, "keys_total");
  EXPECT_NEAR(v.work.front().bytes_per_unit, 3e3, 200);
  EXPECT_NE(v.explanation.find("per key"), std::string::npos) << v.explanation;
}

TEST(WorkExplanation, NoWorkCounterNoExplanation) {
  series::Series s = Work(200, 1.5, 412e3, 1e18, 0);
  s.columns = {"heap_inuse_bytes", "rss_bytes", "a", "b", "c"};
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kLeak);
  EXPECT_TRUE(v.work.empty());
  EXPECT_EQ(v.explanation.find("per "), std::string::npos) << v.explanation;
}

series::Series Rows(std::vector<double> t, std::vector<double> heap) {
  series::Series s;
  s.source = "rows";
  s.columns = {"heap_inuse_bytes"};
  s.t_s = std::move(t);
  s.values = {std::move(heap)};
  return s;
}

TEST(BadInput, EmptyAndSingleSampleAreInconclusiveWithTheReason) {
  for (const series::Series& s : {Rows({}, {}), Rows({0}, {1e6})}) {
    const Verdict v = AnalyzeSeries(s, {});
    EXPECT_EQ(v.kind, Kind::kInconclusive);
    ASSERT_FALSE(v.missing.empty());
    EXPECT_NE(v.missing.front().find("at least"), std::string::npos) << v.missing.front();
  }
}

TEST(BadInput, ConstantIsNoLeakWhenLongEnoughAndInconclusiveWhenNot) {
  std::vector<double> t;
  for (int i = 0; i < 50; ++i) t.push_back(i);
  EXPECT_EQ(AnalyzeSeries(Rows(t, std::vector<double>(50, 4096.0 * 1000)), {}).kind, Kind::kNoLeak);
  const Verdict few = AnalyzeSeries(Rows({0, 1, 2, 3, 4}, std::vector<double>(5, 4096.0)), {});
  EXPECT_EQ(few.kind, Kind::kInconclusive) << few.explanation;
}

TEST(BadInput, MissingValuesOnlyIsInconclusive) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Verdict v =
      AnalyzeSeries(Rows({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, std::vector<double>(10, nan)), {});
  EXPECT_EQ(v.kind, Kind::kInconclusive);
  EXPECT_NE(v.explanation.find("only 0 samples"), std::string::npos) << v.explanation;
}

TEST(BadInput, BadTimeNamesTheSampleAndWhatIsWrong) {
  std::vector<double> heap(20, 1e6);
  std::vector<double> t;
  for (int i = 0; i < 20; ++i) t.push_back(i);
  std::vector<double> duplicate = t, backwards = t, missing = t;
  duplicate[7] = duplicate[6];
  backwards[7] = 2;
  missing[7] = std::numeric_limits<double>::quiet_NaN();
  const Verdict d = AnalyzeSeries(Rows(duplicate, heap), {});
  EXPECT_EQ(d.kind, Kind::kInconclusive);
  EXPECT_NE(d.explanation.find("sample 8 has the same time"), std::string::npos) << d.explanation;
  const Verdict b = AnalyzeSeries(Rows(backwards, heap), {});
  EXPECT_NE(b.explanation.find("sample 8 is earlier"), std::string::npos) << b.explanation;
  const Verdict m = AnalyzeSeries(Rows(missing, heap), {});
  EXPECT_NE(m.explanation.find("sample 8 has no valid time"), std::string::npos) << m.explanation;
}

TEST(BadInput, FlatHeapWithUnjudgedRssIsInconclusive) {
  // RSS mostly missing: the heap is flat, but memory outside it is unknown.
  series::Series s = MakeSeries(100, 5e6, 0, 1000, 10'000);
  s.columns.push_back("rss_bytes");
  s.values.emplace_back(100, std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < 5; ++i) s.values.back()[i] = 9e6;
  const Verdict v = AnalyzeSeries(s, {});
  EXPECT_EQ(v.kind, Kind::kInconclusive) << v.explanation;
}

}  // namespace
}  // namespace leaklab::verdict

#include "analyzers/series/prometheus.h"

namespace leaklab::verdict {
namespace {

TEST(PrometheusExport, EachSeriesGetsItsOwnVerdict) {
  // A real Prometheus range query over two scenario servers (see
  // analyzers/series/testdata/prometheus/record.sh): the unbounded cache
  // leaks, the steady-state control does not.
  const std::vector<series::Series> all = series::ReadPrometheusQueryRange(
      std::string(LEAKLAB_SERIES_TESTDATA_DIR) + "/prometheus/query_range.json");
  ASSERT_EQ(all.size(), 4u);
  for (const series::Series& s : all) {
    const bool leaky = s.source.find("job=\"unbounded-cache\"") != std::string::npos;
    const Verdict v = AnalyzeSeries(s, {});
    EXPECT_EQ(v.kind, leaky ? Kind::kLeak : Kind::kNoLeak) << s.source << "\n" << v.explanation;
  }
}

}  // namespace
}  // namespace leaklab::verdict
