// The verdict's English: sentences built from the evidence that
// AnalyzeSeries (series_verdict.cc) decided on, which it puts together into
// Verdict::explanation and the signals' reasons. The decision is made there;
// here only how it is said. Internal to analyzers/verdict.
#ifndef LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_
#define LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/series/growth.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {

// "12", a count rounded to a whole number.
std::string Count(double x);

// The text with its first letter a capital.
std::string Capitalized(std::string text);

// The signal named for a reader: "the heap in use (heap_inuse_bytes)".
std::string Describe(std::string_view signal);

// "about 5.0 MB/s; with 95 % confidence between 4.7 MB/s and 6.2 MB/s", or
// the interval's width as a share of the rate when the rounded ends agree.
std::string RateWithInterval(const series::TheilSen& fit);

// How the floor was read (a repeating pattern, warm-up left out, a heap read
// one step per collection), or "" when there is nothing to say.
std::string FloorNote(const series::GrowthEvidence& ev);

// "the worker count grew from 8 to 6410 in 38 s (about 168 a second)"
std::string WorkerGrowth(const series::GrowthEvidence& ev);

// The start of a heap signal's reason when it was read one step per collection.
std::string StaleNote(const series::GrowthEvidence& ev);

// How bad a leak is: what it adds in an hour, and how soon it adds its own
// level again; "" when it does not grow.
std::string Severity(const series::GrowthEvidence& ev);

// " Watching about 40 s longer (20 more samples at this rate) would decide it."
std::string WatchLonger(const series::Series& s, double decide_window_s);

// " How much could grow unseen: at most ...", or "" without a bound.
std::string BoundSentence(const std::optional<Bound>& b);

// "RSS grew 8.4 MB, and 8.3 MB of that is memory the program freed and ...":
// `rss_growth_bytes` and `kept_free_bytes` over the run, `held` the verdict
// on RSS minus what is kept free.
std::string KeptFreeSentence(double rss_growth_bytes, double kept_free_bytes,
                             const series::GrowthEvidence& held);

// " The growth follows the work done: about 10 KB per request ...", when the
// best fit is good enough to state (R² 0.9 or more, growing); with a note
// when `second_fits_as_well`. "" otherwise.
std::string WorkSentence(const std::vector<WorkExplanation>& work, bool second_fits_as_well);

// How a signal's reading is qualified: each returns the signal's new reason,
// ending with the reason it had, in brackets.

// A sampled heap whose growth, per unit of work, is too little to matter:
// at most `kept_bytes` per `unit` of the `allocated_bytes` each allocates,
// judged since `since_s` (nullopt: over the analysed window).
struct KeptPerUnit {
  double kept_bytes = 0;
  std::string unit;
  double allocated_bytes = 0;
  std::optional<double> since_s;
};
std::string KeptPerUnitReason(const KeptPerUnit& k, const std::string& reason);

// A sampled heap read level at a precision coarser than what matters: one
// sample per `sampling_bytes` hides growth under `hidden_bytes`.
std::string CoarseSamplingReason(double sampling_bytes, double hidden_bytes,
                                 double practical_growth_bytes, const std::string& reason);

// A generational heap that rose `growth_bytes` over `collections` and never fell.
std::string GenerationalReason(double growth_bytes, size_t collections, const std::string& reason);

// RSS rising into a committed heap of `committed_bytes` that did not grow.
std::string FirstTouchReason(double committed_bytes, const std::string& reason);

// "heap_inuse_bytes: <its reason>", an entry of Verdict::missing.
std::string SignalMissing(const series::GrowthEvidence& ev);

// The paragraphs. What would decide an inconclusive verdict, and the
// paragraph that says so.
struct Undecided {
  std::string missing;
  std::string explanation;
};

// Fewer than two samples; `min_samples` are needed.
Undecided TooLittleData(size_t min_samples, size_t samples);

// Time that does not increase at `sample` (counted from 1).
enum class TimeFault { kNoTime, kSameTime, kEarlier };
Undecided OutOfOrder(size_t sample, TimeFault fault);

// No memory column and no worker count.
Undecided NoSignal();

// No signal could be decided: the first signal's reason, and how much
// longer to watch.
std::string NothingDecided(const series::GrowthEvidence& first, const series::Series& s,
                           double decide_window_s);

// Memory grows with the distinct keys while new keys come ever more rarely.
Undecided KeysFilling(const series::GrowthEvidence& filling, const series::Series& s,
                      double decide_window_s);

// RSS rises outside a heap that does not, not clearly enough to say.
Undecided RssOutsideHeap(const series::GrowthEvidence& rss, const series::Series& s,
                         double decide_window_s);

// RSS kept memory the heap gave back, and LazyFree or the allocator's free
// bytes account for it (lazy-release), or do not (inconclusive).
std::string LazyReleaseExplanation(const ReleaseEvidence& r);
Undecided ReleaseUnaccounted(const ReleaseEvidence& r);

// The signals weighed against each other, one or more still undecided:
// `heap_inside` when the first undecided one is the heap (inside an RSS
// that does not grow), else RSS (outside a heap that does not).
std::string CannotWeigh(const std::vector<series::GrowthEvidence>& signals, bool heap_inside,
                        const series::Series& s, double decide_window_s);

// RSS that grew by freed memory kept: what it grew by, how much of that is
// kept free, and the verdict on what the program holds.
struct KeptFree {
  double rss_growth_bytes = 0;
  double kept_free_bytes = 0;
  series::GrowthEvidence held;
};

struct NoLeakFacts {
  // Memory signals undecided alone that the other memory signal settles.
  std::vector<const series::GrowthEvidence*> weighed;
  bool memory_decided = true;  // false: only workers were judged
  std::optional<KeptFree> kept_free;
  std::optional<Bound> bound;
};
std::string NoLeakExplanation(const std::vector<series::GrowthEvidence>& signals,
                              const NoLeakFacts& f);

struct LeakFacts {
  const series::GrowthEvidence* growing = nullptr;  // the memory signal that leaks, if any
  const series::GrowthEvidence* workers = nullptr;  // the worker count, when it grows
  // Workers alone leak: the first memory signal decided, said to be what it is.
  const series::GrowthEvidence* memory = nullptr;
  bool second_fits_as_well = false;  // a second work counter fits as well as the first
  std::optional<Exhaustion> exhaustion;
  // A heap surely level (flat, falling) beside another signal that grows.
  std::optional<series::Trend> level_heap;
};
std::string LeakExplanation(const LeakFacts& f, const std::vector<WorkExplanation>& work);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_EXPLAIN_H_
