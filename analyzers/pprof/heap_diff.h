// The difference of two profiles, as `go tool pprof -base` shows it.
#ifndef LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_
#define LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_

#include <string_view>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof {

// The first comment of every profile DiffProfiles makes: it tells a diff
// leaklab wrote (which a later one may replace) from anyone else's file.
inline constexpr std::string_view kDiffComment =
    "leaklab: difference of two profiles (source minus base, as pprof -base)";

// `source` minus `base`, as `go tool pprof -base base source` computes it:
// per stack (frames keyed by function, file and line, not by address, so
// profiles of different processes line up), every sample type's value in
// source less its value in base; stacks whose values are all equal are left
// out. The result carries source's sample types, period and time, and reads
// in `go tool pprof` like the -base view. Throws ProfileError when the sample
// types differ.
Profile DiffProfiles(const Profile& base, const Profile& source);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_
