// Speed of the trend analysis, 10^3 to 10^7 points. Run by hand (ci/bench
// style), never by ctest:
//
//   build/ci/bin/trend_benchmark --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one line)
//
// Figures are recorded in README.md ("Analysis speed").

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "analyzers/series/growth.h"
#include "analyzers/series/slope_selection.h"
#include "analyzers/series/trend.h"

namespace leaklab::series {
namespace {

// A slowly growing signal with noise, rounded to 4 KiB pages as RSS is, so the
// input has the ties that real memory series have.
std::vector<double> PageRoundedRamp(size_t n) {
  std::mt19937_64 random(42);
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    const double bytes =
        64e6 + 100.0 * static_cast<double>(i) + static_cast<double>(random() % (1u << 20));
    y[i] = static_cast<double>(static_cast<uint64_t>(bytes) / 4096 * 4096);
  }
  return y;
}

std::vector<double> Index(size_t n) {
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i);
  return x;
}

// Mann-Kendall S by Knight's merge sort.
void BM_MannKendallTest(benchmark::State& state) {
  const std::vector<double> y = PageRoundedRamp(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(MannKendallTest(y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_MannKendallTest)
    ->RangeMultiplier(10)
    ->Range(1'000, 10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNLogN);

// One counting pass of slope selection: slopes <= t by merge-sort inversions.
void BM_CountSlopesAtMost(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<double> x = Index(n), y = PageRoundedRamp(n);
  const PairwiseSlopes slopes(x, y);
  for (auto _ : state) benchmark::DoNotOptimize(slopes.CountAtMost(100));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_CountSlopesAtMost)
    ->RangeMultiplier(10)
    ->Range(1'000, 10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNLogN);

// Exact Theil-Sen slope and Sen's interval (median and two bounds: three
// randomized selections).
void BM_TheilSenEstimate(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<double> x = Index(n), y = PageRoundedRamp(n);
  for (auto _ : state) benchmark::DoNotOptimize(TheilSenEstimate(x, y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_TheilSenEstimate)
    ->RangeMultiplier(10)
    ->Range(1'000, 10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNLogN);

// The floor's test: Sen's slope, Hamed-Rao Mann-Kendall (rank autocorrelation
// at every lag by FFT) and Sen's interval from the corrected variance.
void BM_TestTrend(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::vector<double> x = Index(n), y = PageRoundedRamp(n);
  for (auto _ : state) benchmark::DoNotOptimize(TestTrend(x, y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_TestTrend)
    ->RangeMultiplier(10)
    ->Range(1'000, 1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oNLogN);

// The whole trend analysis of one signal, as a verdict runs it, sampled at
// 100 ms (10^7 points is 11.6 days): a leak with noise, under a sawtooth of
// 20 s cycles (range(1) = 1) or without one (0). Without a cycle the floor is
// the samples (block minima above 10^5), the most the tests are ever given.
void BM_AnalyzeGrowth(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const double sawtooth = state.range(1) ? 20e6 : 0;
  std::mt19937_64 random(7);
  std::normal_distribution<double> noise(0, 2e5);
  std::vector<double> t(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = 0.1 * static_cast<double>(i);
    y[i] = 200e6 + 50.0 * t[i] + sawtooth * std::fmod(t[i] / 20, 1.0) + noise(random);
  }
  for (auto _ : state) benchmark::DoNotOptimize(AnalyzeGrowth("rss_bytes", t, y, {}));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_AnalyzeGrowth)
    ->ArgsProduct({{1'000, 10'000, 100'000, 1'000'000, 10'000'000}, {0, 1}})
    ->ArgNames({"n", "sawtooth"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace leaklab::series
