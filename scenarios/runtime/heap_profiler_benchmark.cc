// The heap profiler's cost on the allocation path: a new/delete pair through
// the server's allocation hook with sampling at the default rate and off, and
// malloc/free as the floor. Run: build/.../bin/heap_profiler_benchmark

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>

#include "scenarios/runtime/heap_profiler.h"

namespace {

namespace hp = leaklab::runtime::heap_profiler;

// state.range(0): the sample rate in bytes (0 = off); state.range(1): the size.
void BM_NewDeletePair(benchmark::State& state) {
  hp::SetSampleRate(state.range(0));
  const auto size = static_cast<size_t>(state.range(1));
  for (auto _ : state) {
    void* p = ::operator new(size);
    benchmark::DoNotOptimize(p);
    ::operator delete(p);
  }
  hp::SetSampleRate(hp::kDefaultSampleRateBytes);
}
BENCHMARK(BM_NewDeletePair)
    ->ArgNames({"rate", "size"})
    ->Args({hp::kDefaultSampleRateBytes, 64})
    ->Args({0, 64})
    ->Args({hp::kDefaultSampleRateBytes, 4096})
    ->Args({0, 4096});

// Same pairs while sampled objects are live (as in a leaking server), so the
// free path must consult the filter.
void BM_NewDeletePairWithLiveSamples(benchmark::State& state) {
  hp::SetSampleRate(state.range(0));
  // About 256 live sampled objects at the default rate.
  void* held[2048];
  for (void*& h : held) h = ::operator new(64 * 1024);
  for (auto _ : state) {
    void* p = ::operator new(64);
    benchmark::DoNotOptimize(p);
    ::operator delete(p);
  }
  for (void* h : held) ::operator delete(h);
  hp::SetSampleRate(hp::kDefaultSampleRateBytes);
}
BENCHMARK(BM_NewDeletePairWithLiveSamples)
    ->ArgName("rate")
    ->Arg(hp::kDefaultSampleRateBytes)
    ->Arg(0);

void BM_MallocFreePair(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(64);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}
BENCHMARK(BM_MallocFreePair);

}  // namespace
