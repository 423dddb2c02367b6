// What a profile is, and in what order a series of them was taken: the
// questions asked before any analysis of a series of profiles.
#ifndef LEAKLAB_ANALYZERS_PPROF_PROFILE_KIND_H_
#define LEAKLAB_ANALYZERS_PPROF_PROFILE_KIND_H_

#include <string>
#include <vector>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof {

enum class ProfileKind {
  kHeap,     // has an inuse_space sample type (Go, leaklab, tcmalloc via pprof)
  kWorkers,  // sample types are exactly goroutine/count (Go's goroutine profile, leaklab's workers)
  kOther,
};
ProfileKind KindOf(const Profile& profile);
const char* KindName(ProfileKind kind);  // "heap", "workers", "other"

// True for a heap profile written by Go's runtime/pprof (its functions are
// Go's: runtime.* from .go files), whose in-use figures are those of the
// most recently completed garbage collection, not of the moment it was
// written: between collections, profiles repeat the same totals.
bool ReportsAsOfCollection(const Profile& profile);

// The sample types as a message names them: "inuse_space/bytes, ...", or
// "none".
std::string SampleTypesText(const Profile& profile);

// A profile and the name it came under (its file), for ordering and messages.
struct NamedProfile {
  std::string name;
  Profile profile;
};

// Orders profiles by their own time_nanos. When any profile has none (0) or
// two share one, the order of their names (file names such as heap-0001,
// heap-0002 sort in time order) is used instead. Returns true when the times
// were used.
bool OrderByTime(std::vector<NamedProfile>& profiles);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_PROFILE_KIND_H_
