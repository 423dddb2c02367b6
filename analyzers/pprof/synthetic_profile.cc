#include "analyzers/pprof/synthetic_profile.h"

#include <random>
#include <string>

namespace leaklab::pprof {

Profile SyntheticHeapProfile(std::size_t samples, uint64_t seed, int round) {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 512 * 1024;
  p.time_nanos = int64_t{1'000'000'000} * (1 + round);
  const std::size_t functions = samples / 4 + 64;
  for (std::size_t f = 0; f < functions; ++f) {
    const std::string name =
        "service::module" + std::to_string(f % 97) + "::Function" + std::to_string(f) + "(int)";
    p.AddFunction({.name = name, .system_name = name, .filename = "service.cc", .start_line = 0});
    Location location;
    location.address = 0x400000 + 64 * f;
    location.lines.push_back(
        {.function_index = FunctionIndex{f}, .line = static_cast<int64_t>(f % 500), .column = 0});
    p.AddLocation(std::move(location));
  }
  // The stacks depend on the seed only, so every round has the same ones.
  std::mt19937_64 stacks(seed);
  std::mt19937_64 values(seed ^ 0x9E3779B97F4A7C15ull);
  p.samples.reserve(samples);
  for (std::size_t s = 0; s < samples; ++s) {
    Sample sample;
    const std::size_t depth = 8 + stacks() % 9;
    // The leaf makes the stack distinct; callers are shared widely.
    sample.location_indexes.push_back(LocationIndex{s % functions});
    for (std::size_t d = 1; d < depth; ++d)
      sample.location_indexes.push_back(LocationIndex{stacks() % functions});
    const int64_t objects = 1 + static_cast<int64_t>(values() % 100);
    int64_t inuse = objects * 64;
    if (s % 10 == 0) inuse += int64_t{4096} * round;  // the leak
    sample.values = {objects * 2, objects * 128, objects, inuse};
    p.samples.push_back(std::move(sample));
  }
  return p;
}

}  // namespace leaklab::pprof
