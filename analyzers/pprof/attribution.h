// Growth across a series of profiles of one process: which allocation sites
// grew (heap profiles) and which worker groups grew (goroutine-style
// profiles).
//
// Works on profiles from any producer: leaklab's, Go's runtime/pprof, or
// anything else writing profile.proto. Heap profiles in profile.proto already
// carry un-sampled (scaled) values (Go's runtime/pprof writeHeapProto scales
// them, as leaklab's server does), so values are used as they are.
#ifndef LEAKLAB_ANALYZERS_PPROF_ATTRIBUTION_H_
#define LEAKLAB_ANALYZERS_PPROF_ATTRIBUTION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/pprof/frame.h"
#include "analyzers/pprof/profile_kind.h"

namespace leaklab::pprof {

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

// A site ranked by what it allocated across the profiles (alloc_space, freed
// or not), beside what it kept: the view that sends people after the wrong
// function (the incident's ToDomain allocated 70 % and kept nothing).
struct AllocatingSite {
  Frame site;  // by the same rule as GrowingSite::site
  // alloc_space allocated at this site from the first profile to the last
  // (the cumulative counts' fitted change over the span), in bytes.
  double allocated = 0;
  double share = 0;  // of everything allocated over the span, 0..1
  // This site's share of the in-use growth (GrowingSite::bytes.share), 0
  // when its memory in use did not grow.
  double growth_share = 0;
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
  // The sites that allocated most over the span, most first (empty without
  // alloc_space): "allocated most" beside `sites`' "grew most".
  std::vector<AllocatingSite> allocating;
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

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_ATTRIBUTION_H_
