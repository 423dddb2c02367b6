// Profiles built in code for analyzers/pprof's tests: one with every part of
// the model filled (for the codec), heap and goroutine series (for
// attribution, ordering and the diff).
#ifndef LEAKLAB_ANALYZERS_PPROF_PROFILE_TEST_UTIL_H_
#define LEAKLAB_ANALYZERS_PPROF_PROFILE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_kind.h"

namespace leaklab::pprof {

inline constexpr int64_t kSecond = 1'000'000'000;

// A heap profile as a server would build it: mappings, inlined lines, an
// unmapped folded location, labels, a sample without a stack.
Profile BuildHeapProfile();

// Builds heap profiles from stacks given as function names, leaf first.
class HeapBuilder {
 public:
  explicit HeapBuilder(int64_t time_nanos);
  // `alloc_bytes` < 0: as many allocated as in use (nothing freed yet).
  HeapBuilder& Add(std::vector<std::string> stack, int64_t inuse_bytes, uint64_t address_salt = 0,
                   int64_t line = 0, int64_t alloc_bytes = -1);
  Profile Build() { return std::move(p_); }

 private:
  Profile p_;
};

// A heap profile at `t_s` seconds with three sites: Store::Add holding
// `leak` bytes, Config::Load `steady`, Warmup::Fill `shrinking`.
NamedProfile Heap(const std::string& name, int64_t t_s, int64_t leak, int64_t steady,
                  int64_t shrinking, uint64_t salt = 0);

// A goroutine profile at `t_s` seconds: `waiting` goroutines blocked in
// main.watch on a channel, `working` in main.serve.
Profile Goroutines(int64_t t_s, int waiting, int working);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_PROFILE_TEST_UTIL_H_
