#ifndef LEAKLAB_ANALYZERS_PPROF_SYNTHETIC_PROFILE_H_
#define LEAKLAB_ANALYZERS_PPROF_SYNTHETIC_PROFILE_H_

// Large heap profiles made to measure, for benchmarks and the side-by-side
// comparison with `go tool pprof` (ci/bench-analyze-vs-pprof).

#include <cstddef>
#include <cstdint>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof {

// A heap profile of `samples` distinct stacks, 8 to 16 frames deep, drawn
// (deterministically from `seed`) from samples / 4 + 64 functions, with one
// location per function and address. `round` 0 is a base; each later round
// adds in-use bytes to one stack in ten, so that a series of rounds shows a
// leak spread over many sites. time_nanos = 1e9 * (1 + round).
Profile SyntheticHeapProfile(std::size_t samples, uint64_t seed, int round);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_SYNTHETIC_PROFILE_H_
