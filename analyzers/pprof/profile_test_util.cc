#include "analyzers/pprof/profile_test_util.h"

#include <utility>

namespace leaklab::pprof {

Profile BuildHeapProfile() {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"}, {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 524288;
  p.time_nanos = 1'700'000'000'000'000'000;
  p.duration_nanos = 5'000'000'000;
  p.comments = {"built by profile_test", "second comment"};
  p.default_sample_type = "inuse_space";
  p.drop_frames = "operator new.*";
  p.keep_frames = "";
  const MappingIndex binary = p.AddMapping({.memory_start = 0x400000,
                                            .memory_limit = 0x800000,
                                            .file_offset = 0,
                                            .filename = "/usr/bin/server",
                                            .build_id = "feedface",
                                            .has_functions = true,
                                            .has_filenames = true});
  const FunctionIndex main_fn = p.AddFunction({"main", "main", "main.cc", 10});
  const FunctionIndex put_fn =
      p.AddFunction({"Cache::Put(std::string)", "_ZN5Cache3PutE", "cache.cc", 30});
  const FunctionIndex grow_fn = p.AddFunction({"Grow", "Grow", "cache.cc", 80});
  const LocationIndex main_loc =
      p.AddLocation({.mapping_index = binary,
                     .address = 0x401000,
                     .lines = {{.function_index = main_fn, .line = 12}}});
  // Grow inlined into Cache::Put: innermost first.
  const LocationIndex put_loc =
      p.AddLocation({.mapping_index = binary,
                     .address = 0x402000,
                     .lines = {{.function_index = grow_fn, .line = 81, .column = 3},
                               {.function_index = put_fn, .line = 33}}});
  const LocationIndex unmapped_loc =
      p.AddLocation({.address = 0x7f0000001000,
                     .lines = {{.function_index = put_fn, .line = 35}},
                     .is_folded = true});
  p.samples.push_back({.location_indexes = {put_loc, main_loc},
                       .values = {1000, 1024000},
                       .string_labels = {{"handler", "/put"}},
                       .numeric_labels = {{"bytes", 1024, "bytes"}}});
  p.samples.push_back({.location_indexes = {unmapped_loc, main_loc}, .values = {3, -7}});
  p.samples.push_back({.location_indexes = {}, .values = {0, 0}});
  return p;
}

HeapBuilder::HeapBuilder(int64_t time_nanos) {
  p_.sample_types = {{"alloc_objects", "count"},
                     {"alloc_space", "bytes"},
                     {"inuse_objects", "count"},
                     {"inuse_space", "bytes"}};
  p_.period_type = {"space", "bytes"};
  p_.period = 512 * 1024;
  p_.time_nanos = time_nanos;
}

HeapBuilder& HeapBuilder::Add(std::vector<std::string> stack, int64_t inuse_bytes,
                              uint64_t address_salt, int64_t line, int64_t alloc_bytes) {
  Sample s;
  for (size_t i = 0; i < stack.size(); ++i) {
    const FunctionIndex f = p_.AddFunction(
        {.name = stack[i], .system_name = stack[i], .filename = "", .start_line = 0});
    Location loc;
    // Different addresses for the same function in different profiles (as
    // in two processes): attribution must key by name, not address.
    loc.address = 0x1000 * (i + 1) + address_salt;
    loc.lines.push_back({.function_index = f, .line = i == 0 ? line : 0, .column = 0});
    s.location_indexes.push_back(p_.AddLocation(std::move(loc)));
  }
  s.values = {1, alloc_bytes < 0 ? inuse_bytes : alloc_bytes, 1, inuse_bytes};
  p_.samples.push_back(std::move(s));
  return *this;
}

NamedProfile Heap(const std::string& name, int64_t t_s, int64_t leak, int64_t steady,
                  int64_t shrinking, uint64_t salt) {
  HeapBuilder b(t_s * kSecond);
  b.Add({"Store::Add", "Handler::Serve", "main"}, leak, salt);
  b.Add({"Config::Load", "main"}, steady, salt);
  b.Add({"Warmup::Fill", "main"}, shrinking, salt);
  return {name, b.Build()};
}

Profile Goroutines(int64_t t_s, int waiting, int working) {
  Profile p;
  p.sample_types = {{"goroutine", "count"}};
  p.period_type = {"goroutine", "count"};
  p.period = 1;
  p.time_nanos = t_s * kSecond;
  auto add = [&p](std::vector<std::string> stack, int64_t count) {
    Sample s;
    for (const std::string& name : stack) {
      const FunctionIndex f =
          p.AddFunction({.name = name, .system_name = name, .filename = "", .start_line = 0});
      Location loc;
      loc.lines.push_back({.function_index = f, .line = 0, .column = 0});
      s.location_indexes.push_back(p.AddLocation(std::move(loc)));
    }
    s.values = {count};
    p.samples.push_back(std::move(s));
  };
  add({"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.watch",
       "main.startWatcher.func1", "runtime.goexit"},
      waiting);
  add({"main.serve", "runtime.goexit"}, working);
  return p;
}

}  // namespace leaklab::pprof
