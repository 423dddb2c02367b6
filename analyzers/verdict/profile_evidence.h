#ifndef LEAKLAB_ANALYZERS_VERDICT_PROFILE_EVIDENCE_H_
#define LEAKLAB_ANALYZERS_VERDICT_PROFILE_EVIDENCE_H_

// Heap and worker profiles as evidence for a verdict: where the growth is
// allocated, which workers pile up, and (when profiles are all there is) the
// series of their totals.

#include <filesystem>
#include <vector>

#include "analyzers/pprof/profile_kind.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {

// Reads profile files (gzip or raw profile.proto, any producer), each named by
// its path. Throws pprof::ProfileError naming the file that cannot be read,
// or that is neither a heap nor a worker (goroutine) profile.
std::vector<pprof::NamedProfile> ReadProfiles(const std::vector<std::filesystem::path>& paths);

// The profiles of a results folder (profiles/heap-NNNN.pb.gz and
// workers-NNNN.pb.gz), in file-name order; none when it has no profiles/.
std::vector<std::filesystem::path> ResultsFolderProfiles(const std::filesystem::path& dir);

// Splits the profiles by kind, orders each kind by time (falling back to
// names) and ranks what grew, where a kind has two or more profiles. Throws
// pprof::ProfileError when profiles of one kind do not match.
ProfileEvidence AnalyzeProfiles(std::vector<pprof::NamedProfile> profiles);

// A series made of the profiles' totals, for when there is no telemetry:
// t_s from time_nanos (seconds since the first) or the profile's position,
// heap_inuse_bytes from the heap profiles' inuse_space, workers from the
// worker profiles' count. Kinds are matched by position when counts agree.
series::Series SeriesFromProfiles(const std::vector<pprof::NamedProfile>& profiles,
                                  std::string source);

// True when the heap profiles among `profiles` report as of the last garbage
// collection (pprof::ReportsAsOfCollection), so the heap series made of them
// is a staircase (AnalyzeOptions::heap_as_of_collection).
bool HeapAsOfCollection(const std::vector<pprof::NamedProfile>& profiles);

// The sampling period of the heap profiles among `profiles` (bytes
// allocated per sample, for profiles whose period type is space/bytes and
// whose period is above 1), 0 when they are exact or absent.
double HeapSamplingBytes(const std::vector<pprof::NamedProfile>& profiles);

// Attaches the evidence to `v` and, where it helps explain a leak or an
// undecided run, says in the explanation where the growth is allocated.
void AddProfileEvidence(Verdict& v, ProfileEvidence evidence);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_PROFILE_EVIDENCE_H_
