// A stack frame as a person reads it, the unit in which growth is
// attributed and profiles are compared.
#ifndef LEAKLAB_ANALYZERS_PPROF_FRAME_H_
#define LEAKLAB_ANALYZERS_PPROF_FRAME_H_

#include <cstdint>
#include <string>

namespace leaklab::pprof {

// Function, and file and line when the profile has them. Locations are keyed
// by these, not by raw addresses, so profiles of different processes (or
// builds) line up.
struct Frame {
  std::string function;
  std::string file;
  int64_t line = 0;

  std::string ToString() const;  // "ns::F(int)", or "main.leak (/src/main.go:23)"
  // For sentences: C++ names as QualifiedFunctionName gives them
  // (common/function_name.h: "ns::Cache::Put"), files without their folder
  // ("main.leak (main.go:23)").
  std::string ShortString() const;
  // True for frames of the C++ standard library or Boost, which say how
  // rather than who when a person reads a stack.
  bool IsLibrary() const;
  // True for frames of the profiler itself at work: Go's runtime/pprof and
  // net/http/pprof writing a profile (their compress/flate buffers sit below
  // them), leaklab's profile builder and encoder. What they allocate is the
  // measurement's, not the program's.
  bool IsProfiler() const;
  friend bool operator==(const Frame&, const Frame&) = default;
};

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_FRAME_H_
