#ifndef LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_
#define LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_

// One verdict from the evidence: leak / no-leak / lazy-release / inconclusive
// (shared/DESIGN.md, "Verdicts"), with the evidence and a plain explanation.

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/pprof/attribution.h"
#include "analyzers/series/growth.h"
#include "analyzers/series/series.h"

namespace leaklab::verdict {

inline constexpr int kVerdictSchemaVersion = 1;

enum class Kind { kLeak, kNoLeak, kLazyRelease, kInconclusive };
const char* KindName(Kind kind);  // "leak", "no-leak", ...
// Parses a verdict name; nullopt for anything else.
std::optional<Kind> ParseKind(std::string_view name);

// Growth of the memory signal explained by a work counter.
struct WorkExplanation {
  std::string signal;         // the signal explained: a memory column, or "workers"
  std::string counter;        // "requests_total", ...
  std::string unit;           // "request", "key", "reload"
  double bytes_per_unit = 0;  // Theil-Sen slope of the signal's floor against the counter
                              // (workers per unit when the signal is workers)
  double r_squared = 0;       // of the least-squares fit: how well the counter explains it
  double units = 0;           // counter increase over the window
  size_t points = 0;          // floor points regressed
};

// RSS that stayed up after the heap in use was given back: the allocator or
// the kernel still holds the freed pages (MADV_FREE's LazyFree, malloc's free
// lists). Figures are bytes; "start" and "end" are medians of the first and
// last tenth of the series.
struct ReleaseEvidence {
  bool checked = false;  // heap in use and RSS were both present
  double heap_peak_bytes = 0;
  double heap_end_bytes = 0;
  double released_bytes = 0;  // heap_peak - heap_end
  double rss_end_bytes = 0;
  double kept_bytes = 0;            // growth of (RSS - heap in use) from start to end
  double lazyfree_bytes = 0;        // growth of LazyFree from start to end
  double allocator_free_bytes = 0;  // growth of heap_free_bytes from start to end
  // Growth of heap_released_bytes: what the runtime says it returned to the
  // OS (Go's HeapReleased). Pages returned with MADV_FREE are LazyFree too,
  // so the two overlap; without a LazyFree figure (a Go service's /metrics)
  // this alone says the kept RSS was given back lazily.
  double runtime_released_bytes = 0;
  bool heap_released = false;  // the heap gave back a substantial amount
  // The heap's peak fell between samples: released_bytes is what the
  // freed-memory figures (LazyFree, allocator-free) gained instead.
  bool peak_unseen = false;
  bool rss_kept = false;   // and RSS kept most of it
  bool accounted = false;  // and LazyFree / allocator-free bytes explain what RSS kept
};

// When a growing signal will reach a memory limit: its peaks, the fitted
// floor line plus how far the samples rise above it (series::PredictLimitTime).
struct Exhaustion {
  double limit_bytes = 0;
  std::string signal;        // the signal extrapolated (RSS when present)
  double predicted_t_s = 0;  // when the peaks reach the limit
  double time_left_s = 0;    // predicted_t_s minus the last sample's time
  // Filled from a results folder whose server the OOM killer ended.
  std::optional<double> observed_t_s;
};

// What profiles taken during the run add: the allocation sites and worker
// groups that grew (shared/DESIGN.md, "Verdicts").
struct ProfileEvidence {
  std::optional<pprof::HeapAttribution> heap;       // from two or more heap profiles
  std::optional<pprof::WorkerAttribution> workers;  // from two or more worker profiles
  // The first and last heap profile (their names), the pair a diff compares.
  std::string heap_first, heap_last;
  std::string diff_profile;  // where the diff was written, when it was
};

// How strong a no-leak is: the most growth the data leave room for, from
// the upper end of a decided signal's 95 % interval, per second and, where a
// work counter moved, per unit of work.
struct Bound {
  std::string signal;
  double t_begin_s = 0, t_end_s = 0;  // where it holds: the window, or its level end
  double max_bytes_per_s = 0;         // at least 0
  std::string unit;                   // "request", "key", "reload"; "" without a counter
  double units = 0;                   // the counter's increase over [t_begin_s, t_end_s]
  double max_bytes_per_unit = 0;      // max_bytes_per_s x the span / units
  // What each unit allocates (heap profiles' alloc_space over the counter),
  // NaN when the profiles do not say.
  double allocated_bytes_per_unit = std::numeric_limits<double>::quiet_NaN();
};

struct Verdict {
  Kind kind = Kind::kInconclusive;
  std::string source;
  std::vector<series::GrowthEvidence> signals;
  ReleaseEvidence release;
  std::optional<Exhaustion> exhaustion;  // when a limit was given and memory grows
  std::vector<WorkExplanation> work;     // best explanation first
  std::optional<ProfileEvidence> profiles;
  std::string explanation;           // one paragraph, plain words
  std::vector<std::string> missing;  // for inconclusive: what would decide it
  std::optional<Bound> bound;        // for no-leak: how much growth is ruled out
  // For inconclusive: how long a watch would decide at this sampling rate
  // (from the first analysed sample), 0 when no estimate can be made.
  double decide_window_s = 0;
};

struct AnalyzeOptions {
  series::GrowthOptions growth;
  // A memory limit (e.g. a cgroup's) to predict time to exhaustion against.
  std::optional<double> limit_bytes;
  // heap_inuse_bytes is known to be reported as of the last garbage
  // collection (it came from Go heap profiles): its exact repeats are stale
  // even with no live figure beside it to show that the process was busy
  // (series::DropStaleRepeats).
  bool heap_as_of_collection = false;
  // heap_inuse_bytes is a generational collector's heap after collections
  // (a JVM's): young collections promote objects that later die, and only
  // an old-generation collection takes them back, so until one does (the
  // figure falls), a rise is promoted garbage as much as kept objects.
  bool generational_heap = false;
  // heap_inuse_bytes came from sampled heap profiles that take one sample
  // per this many bytes allocated on average (their period: 512 KiB for Go
  // and leaklab's servers); 0 when it is exact. Growth of fewer than a few
  // periods over a window leaves no new sample behind, so a flat heap figure
  // bounds growth no closer than that.
  double heap_sampling_bytes = 0;
};

// Decides from a series alone. Never throws for odd data: too little, constant
// or disordered data gives kInconclusive with the reason.
Verdict AnalyzeSeries(const series::Series& series, const AnalyzeOptions& options);

// For ranking many verdicts (a fleet, a Prometheus export): leaks first,
// the fastest relative growth first (the least time to add the signal's
// level again), however slow; then inconclusive, lazy-release, no-leak.
bool MoreSevere(const Verdict& a, const Verdict& b);

// verdict.json: schema_version, verdict, evidence, explanation.
std::string VerdictToJson(const Verdict& verdict);
// Whether a verdict leaves memory growing or possibly growing (leak,
// inconclusive): only then are growing sites and worker groups evidence,
// rather than a level heap's contents shifting or a sampled profile's noise.
inline bool MayGrow(Kind kind) { return kind == Kind::kLeak || kind == Kind::kInconclusive; }

// A few lines for a terminal.
std::string VerdictSummary(const Verdict& verdict);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_
