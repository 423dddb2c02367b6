// Growth across a series of profiles of one process: which allocation sites
// grew (heap profiles) and which worker groups grew (goroutine-style
// profiles), and a pprof-readable difference of two profiles.
//
// Works on profiles from any producer: leaklab's, Go's runtime/pprof, or
// anything else writing profile.proto. Heap profiles in profile.proto already
// carry un-sampled (scaled) values (Go's runtime/pprof writeHeapProto scales
// them, as leaklab's server does), so values are used as they are.
#ifndef LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_
#define LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_

#include <cstdint>
#include <optional>
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

// A stack frame as a person reads it: function, and file and line when the
// profile has them. Locations are keyed by these, not by raw addresses, so
// profiles of different processes (or builds) line up.
struct Frame {
  std::string function;
  std::string file;
  int64_t line = 0;

  std::string ToString() const;  // "ns::F(int)", or "main.leak (/src/main.go:23)"
  // For sentences: C++ names without parameters, template arguments, return
  // types or clone suffixes ("ns::Cache::Put"), files without their folder
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

// How one quantity (a site's in-use bytes, a group's worker count) moved
// across the profiles.
struct Growth {
  double first = 0;
  double last = 0;
  // Least-squares slope over the profiles, per second when every profile has
  // a time, else per profile (see Attribution::timed).
  double slope = 0;
  double growth = 0;  // slope times the span: the fitted change over the series
  double share = 0;   // of the sum of the growth of everything that grew, 0..1
};

struct GrowingSite {
  Frame site;                // where the memory was allocated: the innermost frame
                             // outside the C++ standard library and Boost
  std::vector<Frame> stack;  // the stack that grew most at this site, leaf first
  Growth bytes;
};

struct GrowingWorkerGroup {
  Frame wait_point;        // the first frame outside the runtime, leaf first
  std::string blocked_in;  // the runtime function it waits in (Go), or ""
  Frame spawn_site;        // the outermost frame outside the runtime
  std::vector<Frame> stack;
  Growth workers;
};

struct HeapAttribution {
  int profiles = 0;
  bool timed = false;              // slopes are per second (true) or per profile
  double span = 0;                 // seconds (or profiles - 1) from first to last
  std::string sample_type;         // the value followed, "inuse_space"
  Growth total;                    // of the profile's total
  std::vector<GrowingSite> sites;  // sites that grew, most growth first
  // The profiler's own stacks (Frame::IsProfiler), kept out of `sites`.
  Growth profiler;
  // Of the alloc_space totals, when the profiles have that sample type:
  // what the program allocated (freed or not) across the profiles.
  std::optional<Growth> allocated;
};

struct WorkerAttribution {
  int profiles = 0;
  bool timed = false;
  double span = 0;
  Growth total;
  std::vector<GrowingWorkerGroup> groups;  // groups that grew, most first
};

// At most this many sites or groups are reported, and this many frames of a
// stack: enough to explain a leak, short enough to read.
inline constexpr std::size_t kMaxReported = 10;
inline constexpr std::size_t kMaxStackFrames = 12;

// Ranks allocation sites by the growth of their in-use bytes across two or
// more heap profiles, ordered as given (call OrderByTime first). Throws
// ProfileError naming the profile when one is not a heap profile or the
// sample types differ.
HeapAttribution AttributeHeapGrowth(const std::vector<NamedProfile>& profiles);

// Ranks worker groups (one per distinct stack) by the growth of their count,
// in the spirit of Uber's LeakProf: goroutines that pile up at one blocking
// point. Throws ProfileError as above.
WorkerAttribution AttributeWorkerGrowth(const std::vector<NamedProfile>& profiles);

// `source` minus `base`, as `go tool pprof -base base source` computes it:
// per stack (frames keyed as above), every sample type's value in source less
// its value in base; stacks whose values are all equal are left out. The
// result carries source's sample types, period and time, and reads in
// `go tool pprof` like the -base view. Throws ProfileError when the sample
// types differ.
Profile DiffProfiles(const Profile& base, const Profile& source);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_HEAP_DIFF_H_
