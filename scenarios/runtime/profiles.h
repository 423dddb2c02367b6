#ifndef LEAKLAB_SCENARIOS_RUNTIME_PROFILES_H_
#define LEAKLAB_SCENARIOS_RUNTIME_PROFILES_H_

// The profiles served at /debug/pprof/heap and /debug/pprof/workers, built
// the way Go's runtime/pprof builds its heap and goroutine profiles, so that
// `go tool pprof` and leaklab's analyzers read them alike.

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/pprof/profile.h"
#include "scenarios/runtime/heap_profiler.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::runtime {

struct ObjectsAndBytes {
  int64_t objects = 0;
  int64_t bytes = 0;
};

// Estimates the true counts behind `count` sampled objects totalling `bytes`
// under Poisson sampling at `rate_bytes`, as Go's runtime/pprof
// scaleHeapSample (protomem.go) does: an object of the average size s was
// sampled with probability 1 - exp(-s / rate), so both are multiplied by
// 1 / (1 - exp(-s / rate)). A rate <= 1 means every allocation was sampled.
ObjectsAndBytes ScaleHeapSample(int64_t count, int64_t bytes, int64_t rate_bytes);

// Heap profile: sample types alloc_objects/count, alloc_space/bytes,
// inuse_objects/count, inuse_space/bytes (the default, as last), period_type
// space/bytes, period = the sampling rate, values un-sampled.
//
// Each stack loses its top frames up to the last one of the allocator (operator
// new, the allocation hook, the profiler), as Go drops runtime.mallocgc: the
// leaf is the function that allocated, so `pprof -top` ranks allocation
// sites by their flat values.
pprof::Profile BuildHeapProfile(const heap_profiler::HeapSnapshot& snapshot, int64_t time_nanos);

// Worker profile, like Go's goroutine profile: sample type goroutine/count,
// period_type goroutine/count, period 1; one sample per group, whose stack
// is the wait point (leaf) called from the spawn site.
pprof::Profile BuildWorkerProfile(const std::vector<WorkerRegistry::Group>& groups,
                                  int64_t time_nanos);

// Nanoseconds since the Unix epoch, for time_nanos.
int64_t NowUnixNanos();

// The heap and worker profiles of this process now, gzip-encoded as the
// endpoints serve them. Built in a scratch arena (scratch_arena.h), so that
// taking profiles leaves the server's heap as it was.
std::string EncodedHeapProfile();
std::string EncodedWorkerProfile();

// Builds each profile once at startup, so that the code, the allocator state
// and the data the first capture would otherwise page in are part of the
// server's baseline memory rather than a step in the middle of a run.
void WarmUpProfiles();

}  // namespace leaklab::runtime

#endif  // LEAKLAB_SCENARIOS_RUNTIME_PROFILES_H_
