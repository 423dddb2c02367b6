// Analysis speed on large profiles: decode, diff, and growth attribution, at
// 10^3 .. 10^6 samples. Run by hand (not by ctest):
//   build/release/bin/profile_benchmark --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "analyzers/pprof/attribution.h"
#include "analyzers/pprof/heap_diff.h"
#include "analyzers/pprof/synthetic_profile.h"

namespace leaklab::pprof {
namespace {

void BM_DecodeProfile(benchmark::State& state) {
  const std::string bytes =
      EncodeProfile(SyntheticHeapProfile(static_cast<size_t>(state.range(0)), 42, 0));
  for (auto _ : state) benchmark::DoNotOptimize(DecodeProfile(bytes));
  state.SetComplexityN(state.range(0));
  state.counters["compressed_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeProfile)
    ->RangeMultiplier(10)
    ->Range(1000, 1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

// Profiles as the scenarios and Go services write them every few seconds:
// tens to hundreds of samples, a few kilobytes of gzip. Their cost is mostly
// fixed per decode (inflate set-up and buffers), which this one measures.
void BM_DecodeSmallProfile(benchmark::State& state) {
  const std::string bytes =
      EncodeProfile(SyntheticHeapProfile(static_cast<size_t>(state.range(0)), 42, 0));
  for (auto _ : state) benchmark::DoNotOptimize(DecodeProfile(bytes));
  state.counters["compressed_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeSmallProfile)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_DiffProfiles(benchmark::State& state) {
  const Profile base = SyntheticHeapProfile(static_cast<size_t>(state.range(0)), 42, 0);
  const Profile source = SyntheticHeapProfile(static_cast<size_t>(state.range(0)), 42, 1);
  for (auto _ : state) benchmark::DoNotOptimize(DiffProfiles(base, source));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_DiffProfiles)
    ->RangeMultiplier(10)
    ->Range(1000, 1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

void BM_AttributeHeapGrowth(benchmark::State& state) {
  std::vector<NamedProfile> profiles;
  for (int round = 0; round < 2; ++round) {
    profiles.push_back({std::to_string(round),
                        SyntheticHeapProfile(static_cast<size_t>(state.range(0)), 42, round)});
  }
  for (auto _ : state) benchmark::DoNotOptimize(AttributeHeapGrowth(profiles));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_AttributeHeapGrowth)
    ->RangeMultiplier(10)
    ->Range(1000, 1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

}  // namespace
}  // namespace leaklab::pprof
