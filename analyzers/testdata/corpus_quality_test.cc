// The analyzer against a labelled corpus: synthetic series of every shape
// (synthetic_corpus.h) and recorded runs of every scenario variant (runs/).
// Asserts the targets of issue 5 and prints the quality figures:
//  - recall 100 % for leaks whose total growth is at least 2x the noise
//    (and that are long enough for any 1 % test to find, see kDecidableZ);
//  - no false positive: no series that is not a leak is called one;
//  - never the opposite mistake either: no leak is called no-leak;
//  - every recorded scenario run gets its expected verdict.
// It prints recall by signal-to-noise band and the detection latency: how
// many samples the analyzer needs before its verdict becomes and stays `leak`.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "analyzers/testdata/synthetic_corpus.h"
#include "analyzers/verdict/folder.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::corpus {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kCorpusSeed = 20'251'122;

// The first `n` samples of a series.
series::Series Prefix(const series::Series& s, size_t n) {
  series::Series p;
  p.source = s.source;
  p.columns = s.columns;
  p.t_s.assign(s.t_s.begin(), s.t_s.begin() + static_cast<ptrdiff_t>(n));
  for (const auto& column : s.values) {
    p.values.emplace_back(column.begin(), column.begin() + static_cast<ptrdiff_t>(n));
  }
  return p;
}

bool IsLeak(const series::Series& s) {
  return verdict::AnalyzeSeries(s, {}).kind == verdict::Kind::kLeak;
}

// Samples until the verdict becomes `leak` and stays so for every longer
// prefix. Prefixes are checked at up to kLatencyGrid sizes spread over the
// series (every size below that many), then the step into the final `leak`
// run is narrowed by bisection, taking the verdict to stay once it holds:
// exact to the sample for short series, to the grid's resolution otherwise
// for the "stays" part.
constexpr size_t kLatencyGrid = 16;
size_t DetectionLatency(const series::Series& s) {
  const size_t n = s.size();
  std::vector<size_t> grid;
  for (size_t k = 1; k <= kLatencyGrid; ++k)
    grid.push_back(std::max<size_t>(2, n * k / kLatencyGrid));
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  size_t first_stable = grid.size();  // index into grid of the final run of `leak`
  for (size_t g = grid.size(); g-- > 0;) {
    if (!IsLeak(Prefix(s, grid[g]))) break;
    first_stable = g;
  }
  if (first_stable == grid.size()) return n + 1;                // never detected
  size_t low = first_stable == 0 ? 1 : grid[first_stable - 1];  // not leak (or nothing)
  size_t high = grid[first_stable];                             // leak
  while (high - low > 1) {
    const size_t mid = low + (high - low) / 2;
    if (IsLeak(Prefix(s, mid))) {
      high = mid;
    } else {
      low = mid;
    }
  }
  return high;
}

const char* Band(double snr) {
  if (snr < 2) return "1-2x";
  if (snr < 4) return "2-4x";
  if (snr < 8) return "4-8x";
  return ">=8x";
}

struct Tally {
  int total = 0, leak = 0, no_leak = 0, lazy = 0, inconclusive = 0;
  std::vector<double> latency_share;  // detection latency / series length
  std::vector<size_t> latency_samples;
  void Count(verdict::Kind k) {
    ++total;
    leak += k == verdict::Kind::kLeak;
    no_leak += k == verdict::Kind::kNoLeak;
    lazy += k == verdict::Kind::kLazyRelease;
    inconclusive += k == verdict::Kind::kInconclusive;
  }
};

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const std::vector<Case>& Corpus() {
  static const std::vector<Case> cases = SyntheticCorpus(kCorpusSeed, /*long_series=*/true);
  return cases;
}

TEST(CorpusQuality, SyntheticSeries) {
  const std::vector<Case>& cases = Corpus();
  std::map<std::string, Tally> by_band, by_family;
  Tally not_leaks, undecidable, lazies;
  for (const Case& c : cases) {
    const verdict::Verdict v = verdict::AnalyzeSeries(c.series, {});
    const std::string got = verdict::KindName(v.kind);
    const std::string why = c.name + ": " + got + " (" + v.explanation + ")";
    if (c.expected == "leak") {
      // Never the opposite mistake, whatever the strength.
      EXPECT_NE(v.kind, verdict::Kind::kNoLeak) << why;
      EXPECT_NE(v.kind, verdict::Kind::kLazyRelease) << why;
      if (!c.decidable) {
        undecidable.Count(v.kind);
        continue;
      }
      // Recall: every leak of 2x the noise or more.
      if (c.snr >= 2) {
        EXPECT_EQ(v.kind, verdict::Kind::kLeak) << why;
      }
      by_band[Band(c.snr)].Count(v.kind);
      by_family[c.family].Count(v.kind);
    } else if (c.expected == "lazy-release") {
      lazies.Count(v.kind);
      EXPECT_EQ(v.kind, verdict::Kind::kLazyRelease) << why;
    } else {
      // No false positive, ever.
      not_leaks.Count(v.kind);
      by_family[c.family].Count(v.kind);
      EXPECT_NE(v.kind, verdict::Kind::kLeak) << why;
      EXPECT_NE(v.kind, verdict::Kind::kLazyRelease) << why;
    }
  }

  std::printf("\nCorpus: %zu synthetic series (seed %llu)\n", cases.size(),
              static_cast<unsigned long long>(kCorpusSeed));
  std::printf("\nLeaks, by total growth / noise (decidable: snr * sqrt(n/12) >= %.1f)\n",
              kDecidableZ);
  std::printf("  %-6s %6s %8s %6s %13s\n", "band", "cases", "recall", "missed", "inconclusive");
  for (const char* band : {"1-2x", "2-4x", "4-8x", ">=8x"}) {
    const Tally& t = by_band[band];
    std::printf("  %-6s %6d %7.1f%% %6d %13d\n", band, t.total,
                t.total ? 100.0 * t.leak / t.total : 0.0, t.total - t.leak, t.inconclusive);
  }
  std::printf("  below the decidable line: %d leaks, %d found, %d inconclusive, %d no-leak\n",
              undecidable.total, undecidable.leak, undecidable.inconclusive, undecidable.no_leak);
  std::printf("\nNot leaks: %d series, %d false positives, %d no-leak, %d inconclusive\n",
              not_leaks.total, not_leaks.leak + not_leaks.lazy, not_leaks.no_leak,
              not_leaks.inconclusive);
  std::printf("Lazy release: %d series, %d lazy-release\n", lazies.total, lazies.lazy);
  std::printf("\nBy family: cases, leak / no-leak / inconclusive\n");
  for (const auto& [family, t] : by_family) {
    std::printf("  %-18s %4d  %4d / %4d / %4d\n", family.c_str(), t.total, t.leak, t.no_leak,
                t.inconclusive);
  }
}

// Figures only: how soon each detected, decidable leak is called one. The
// 10^6-sample series are left out (each prefix is a full analysis).
TEST(CorpusQuality, DetectionLatency) {
  std::map<std::string, Tally> by_band, by_family;
  for (const Case& c : Corpus()) {
    if (c.expected != "leak" || !c.decidable || c.series.size() > 100'000) continue;
    if (!IsLeak(c.series)) continue;  // a miss; SyntheticSeries reports it
    const size_t latency = DetectionLatency(c.series);
    const double share = static_cast<double>(latency) / static_cast<double>(c.series.size());
    for (Tally* t : {&by_band[Band(c.snr)], &by_family[c.family]}) {
      ++t->total;
      t->latency_samples.push_back(latency);
      t->latency_share.push_back(share);
    }
  }
  std::printf("\nDetection latency: samples until the verdict becomes and stays leak (median)\n");
  std::printf("  %-18s %6s %10s %18s\n", "", "leaks", "samples", "share of series");
  auto row = [](const std::string& name, const Tally& t) {
    std::vector<double> samples(t.latency_samples.begin(), t.latency_samples.end());
    std::printf("  %-18s %6d %10.0f %17.0f%%\n", name.c_str(), t.total, Median(samples),
                100 * Median(t.latency_share));
  };
  for (const char* band : {"1-2x", "2-4x", "4-8x", ">=8x"}) {
    row(std::string("snr ") + band, by_band[band]);
  }
  for (const auto& [family, t] : by_family) row(family, t);
}

TEST(CorpusQuality, RecordedScenarioRuns) {
  // Every variant of every scenario, recorded with `leaklab run` (runs/README.md).
  const fs::path runs = fs::path(LEAKLAB_ANALYZERS_TESTDATA_DIR) / "runs";
  int checked = 0;
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(runs)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::printf("\nRecorded runs:\n");
  for (const fs::path& dir : dirs) {
    std::ifstream in(dir / "expected_verdict");
    std::string expected;
    in >> expected;
    ASSERT_FALSE(expected.empty()) << dir << " has no expected_verdict";
    const verdict::Verdict v = verdict::AnalyzeResultsFolder(dir, {});
    EXPECT_EQ(verdict::KindName(v.kind), expected) << dir << "\n" << v.explanation;
    std::printf("  %-34s %-13s %s\n", dir.filename().c_str(), verdict::KindName(v.kind),
                v.kind == verdict::ParseKind(expected) ? "" : ("expected " + expected).c_str());
    ++checked;
  }
  EXPECT_EQ(checked, 13);  // six scenarios, thirteen variants
}

}  // namespace
}  // namespace leaklab::corpus
