#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

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

void BM_MannKendallTest(benchmark::State& state) {
  const std::vector<double> y = PageRoundedRamp(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(MannKendallTest(y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_MannKendallTest)
    ->RangeMultiplier(10)
    ->Range(1'000, 1'000'000)
    ->Unit(benchmark::kMicrosecond)
    ->Complexity(benchmark::oNLogN);

// Exact below kMaxExactTheilSenPoints, sampled (fixed cost) above.
void BM_TheilSenEstimate(benchmark::State& state) {
  const std::vector<double> y = PageRoundedRamp(static_cast<size_t>(state.range(0)));
  std::vector<double> x(y.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  for (auto _ : state) benchmark::DoNotOptimize(TheilSenEstimate(x, y));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TheilSenEstimate)
    ->RangeMultiplier(10)
    ->Range(100, 100'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace leaklab::series
