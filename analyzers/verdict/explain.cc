// The verdict's English: the sentences AnalyzeSeries (series_verdict.cc)
// puts together into its explanation, built from the evidence it decided on.
#include "analyzers/verdict/explain.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "common/bytes.h"
#include "common/duration.h"

namespace leaklab::verdict {
namespace {

// A work explanation good enough to state: it fits well and says memory grows with the work.
constexpr double kMinStatedRSquared = 0.9;

std::string TwoDigits(double x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

}  // namespace

// "about 5.0 MB/s; with 95 % confidence between 4.7 MB/s and 6.2 MB/s", or,
// when the interval is too narrow for the rounded figures to differ (a
// steady leak over many samples), its width as a share of the rate instead of
// "between 10 MB/s and 10 MB/s".
std::string RateWithInterval(const series::TheilSen& fit) {
  const std::string low = FormatBytes(std::max(fit.slope_low, 0.0));
  const std::string high = FormatBytes(fit.slope_high);
  std::string text = "about " + FormatBytes(fit.slope) + "/s";
  if (low != high || !(fit.slope > 0) || !std::isfinite(fit.slope_high)) {
    return text + "; with 95 % confidence between " + low + "/s and " + high + "/s";
  }
  const double half_width = std::max(fit.slope_high - fit.slope, fit.slope - fit.slope_low);
  char share[64];
  std::snprintf(share, sizeof share, "; within %.2g %% of that with 95 %% confidence",
                std::max(100 * half_width / fit.slope, 0.01));
  return text + share;
}

// The signal named for a reader.
std::string Describe(std::string_view signal) {
  if (signal == series::kHeapInuseBytesColumn) return "the heap in use (heap_inuse_bytes)";
  if (signal == series::kRssBytesColumn) return "resident memory (rss_bytes)";
  return std::string(signal);
}

// How the floor was read, for the explanation, or "" when there is nothing to say.
std::string FloorNote(const series::GrowthEvidence& ev) {
  std::string note;
  if (ev.period_s > 0) {
    note += " The samples of " + Describe(ev.signal) + " repeat a pattern about every " +
            FormatSeconds(ev.period_s) + ", so each judgement uses the lowest value over " +
            FormatSeconds(ev.floor_window_s) +
            " windows (the floor): a leak raises the floor, a sawtooth of allocations and "
            "frees does not.";
  }
  if (ev.warmup_skipped) {
    note += " The first " + FormatSeconds(ev.t_begin_s) + " of " + Describe(ev.signal) +
            " were warm-up (settling at its working level) and are left out.";
  }
  if (ev.stale_repeats > 0) {
    note +=
        " The heap figure repeats itself between garbage collections (it is reported as of the "
        "last "
        "one, as Go's heap profile and a JVM's heap-after-collection figures are), so each step "
        "counts "
        "once, and a step that has not ended yet is no sign of levelling off; for Go, a heap "
        "profile "
        "taken with ?gc=1 gives the live heap at every sample.";
  }
  return note;
}

std::string Capitalized(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

std::string Count(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}

// "the worker count grew from 8 to 6410 in 38 s (about 168 a second)"
std::string WorkerGrowth(const series::GrowthEvidence& ev) {
  const double start = ev.fit.intercept + ev.fit.slope * ev.t_begin_s;
  char rate[32];
  std::snprintf(rate, sizeof rate, ev.fit.slope >= 10 ? "%.0f" : "%.2g", ev.fit.slope);
  return "the worker count grew from " + Count(std::max(start, 0.0)) + " to " +
         Count(start + ev.growth_bytes) + " in " + FormatSeconds(ev.t_end_s - ev.t_begin_s) +
         " (about " + rate + " a second)";
}

// The start of a heap signal's reason when it was read one step per collection.
std::string StaleNote(const series::GrowthEvidence& ev) {
  return "read one point per garbage collection (" + std::to_string(ev.stale_repeats) + " of " +
         std::to_string(ev.samples + ev.stale_repeats) + " samples only repeated the one before): ";
}

// How bad a leak is: what it adds in an hour, and how soon it adds its own level again.
std::string Severity(const series::GrowthEvidence& ev) {
  if (!(ev.fit.slope > 0)) return "";
  std::string text = " That is " + FormatBytes(ev.fit.slope * 3600) + " an hour";
  if (ev.level_bytes > 0)
    text += ", as much again as its level every " + FormatSeconds(ev.level_bytes / ev.fit.slope);
  return text + ".";
}

// " Watching about 40 s longer (20 more samples at this rate) would decide it."
std::string WatchLonger(const series::Series& s, double decide_window_s) {
  if (!(decide_window_s > 0) || s.size() < 2) return " Watch longer or sample more often.";
  const double span = s.t_s.back() - s.t_s.front();
  const double spacing = span / static_cast<double>(s.size() - 1);
  const double more = std::max(decide_window_s - span, spacing);
  return " Watching about " + FormatSeconds(more) + " longer (" +
         Count(std::ceil(more / spacing - 1e-6)) + " more samples at this rate) would decide it.";
}

std::string BoundSentence(const std::optional<Bound>& b) {
  if (!b) return "";
  std::string text =
      " How much could grow unseen: at most " + FormatBytes(b->max_bytes_per_s * 3600) +
      " an hour (the upper end of the 95 % interval of " + Describe(b->signal) + "'s slope";
  text += b->t_begin_s > 0 ? " since t = " + FormatSeconds(b->t_begin_s) + ")" : ")";
  if (!b->unit.empty()) {
    text += ", that is at most " + FormatBytes(b->max_bytes_per_unit) + " kept per " + b->unit +
            " over " + Count(b->units) + " " + b->unit + "s";
  }
  return text + ".";
}

// "RSS grew 8.4 MB, and 8.3 MB of that is memory the program freed and ...":
// `rss_growth_bytes` and `kept_free_bytes` over the run, `held` the verdict
// on RSS minus what is kept free.
std::string KeptFreeSentence(double rss_growth_bytes, double kept_free_bytes,
                             const series::GrowthEvidence& held) {
  return "RSS grew " + FormatBytes(rss_growth_bytes) + ", and " + FormatBytes(kept_free_bytes) +
         " of that is memory the program freed and the allocator or the kernel keeps "
         "(heap_free_bytes, "
         "lazyfree_bytes); what the program holds, RSS minus that, is " +
         series::TrendName(held.trend) + " (" + held.reason + ").";
}

std::string WorkSentence(const std::vector<WorkExplanation>& work, bool second_fits_as_well) {
  if (work.empty() || work.front().r_squared < kMinStatedRSquared ||
      !(work.front().bytes_per_unit > 0)) {
    return "";
  }
  const WorkExplanation& w = work.front();
  const bool workers = w.signal == series::kWorkersColumn;
  auto amount = [workers](double x) {
    if (!workers) return FormatBytes(x);
    char buf[32];
    std::snprintf(buf, sizeof buf, x >= 10 ? "%.0f workers" : "%.2g workers", x);
    return std::string(buf);
  };
  std::string text = " The growth follows the work done: about " + amount(w.bytes_per_unit) +
                     " per " + w.unit + " (R\xC2\xB2 " + TwoDigits(w.r_squared) +
                     "), so something " +
                     (workers ? "starts workers for every " + w.unit + " and never stops them."
                              : "keeps memory for every " + w.unit + " and never lets go.");
  if (work.size() > 1 && second_fits_as_well) {
    text += " (It fits " + amount(work[1].bytes_per_unit) + " per " + work[1].unit +
            " just as well: the two grew together in this run, so the data alone cannot tell "
            "which one " +
            (workers ? "the workers follow" : "memory follows") + "; a run that repeats " + w.unit +
            "s or " + work[1].unit + "s can.)";
  }
  return text;
}

std::string KeptPerUnitReason(const KeptPerUnit& k, const std::string& reason) {
  return "keeps at most " + FormatBytes(k.kept_bytes) + " per " + k.unit + " of the " +
         FormatBytes(k.allocated_bytes) + " each allocates (" +
         Count(100 * k.kept_bytes / k.allocated_bytes) + " %)" +
         (k.since_s ? " since t = " + FormatSeconds(*k.since_s) : std::string()) +
         ", too little to matter (" + reason + ")";
}

std::string CoarseSamplingReason(double sampling_bytes, double hidden_bytes,
                                 double practical_growth_bytes, const std::string& reason) {
  return "its profiles take one sample per " + FormatBytes(sampling_bytes) +
         " allocated, so growth under about " + FormatBytes(hidden_bytes) +
         " leaves no trace in them, where " + FormatBytes(practical_growth_bytes) +
         " would matter (" + reason + ")";
}

std::string GenerationalReason(double growth_bytes, size_t collections, const std::string& reason) {
  return "rose " + FormatBytes(growth_bytes) + " over " + std::to_string(collections) +
         " collections and never fell: a generational collector's heap after young collections "
         "also holds the objects they promoted that died since, until an old-generation "
         "collection takes them back, so garbage and kept objects cannot be told apart yet (" +
         reason + ")";
}

std::string FirstTouchReason(double committed_bytes, const std::string& reason) {
  return "rises into the heap the runtime had already committed (" + FormatBytes(committed_bytes) +
         ", unchanged): first touches of reserved memory, not new demand (" + reason + ")";
}

std::string SignalMissing(const series::GrowthEvidence& ev) { return ev.signal + ": " + ev.reason; }

Undecided TooLittleData(size_t min_samples, size_t samples) {
  Undecided u;
  u.missing = "a series of at least " + std::to_string(min_samples) + " samples (this one has " +
              std::to_string(samples) + ")";
  u.explanation = "There is too little data to say anything: " + u.missing + ".";
  return u;
}

Undecided OutOfOrder(size_t sample, TimeFault fault) {
  Undecided u;
  u.missing = "time (t_s) that increases from sample to sample; sample " + std::to_string(sample) +
              (fault == TimeFault::kNoTime     ? " has no valid time"
               : fault == TimeFault::kSameTime ? " has the same time as the one before (a "
                                                 "duplicate timestamp)"
                                               : " is earlier than the one before");
  u.explanation =
      "The samples are not in time order, so no trend can be read from them: " + u.missing + ".";
  return u;
}

Undecided NoSignal() {
  Undecided u;
  u.missing = "a memory column (heap_inuse_bytes or rss_bytes) or a worker count (workers)";
  u.explanation = "The series has no memory or worker signal to test: " + u.missing + ".";
  return u;
}

std::string NothingDecided(const series::GrowthEvidence& first, const series::Series& s,
                           double decide_window_s) {
  return "The data cannot decide: " + first.reason + "." + WatchLonger(s, decide_window_s);
}

Undecided KeysFilling(const series::GrowthEvidence& filling, const series::Series& s,
                      double decide_window_s) {
  Undecided u;
  u.missing = "keys_total that stops growing, or keeps its pace: new keys come ever more rarely";
  u.explanation = "Memory grows with the number of distinct keys (" + Describe(filling.signal) +
                  " " + filling.reason +
                  "), but new keys come ever more rarely: a cache over a bounded key space "
                  "fills up this way and then stops, while one that keeps every key grows for as "
                  "long as keys keep coming." +
                  WatchLonger(s, decide_window_s);
  return u;
}

Undecided RssOutsideHeap(const series::GrowthEvidence& rss, const series::Series& s,
                         double decide_window_s) {
  Undecided u;
  u.missing = "RSS that either levels off or keeps rising at the end, over a longer watch";
  u.explanation =
      "The heap in use does not grow, but resident memory does: rss_bytes " + rss.reason +
      ". Growth outside the heap (a runtime settling, code pages touched, fragmentation, or "
      "now and then a leak of mapped memory) that a heap saying otherwise does not settle." +
      WatchLonger(s, decide_window_s);
  return u;
}

namespace {

// What the heap gave back and RSS kept, for the release paragraphs.
std::string ReleaseFigures(const ReleaseEvidence& r) {
  if (r.peak_unseen) {
    return FormatBytes(r.released_bytes) +
           " was allocated and freed between two samples (the heap in use is " +
           FormatBytes(r.heap_end_bytes) +
           " at the end; the freed memory shows as LazyFree or as the allocator's free bytes), "
           "and RSS still holds " +
           FormatBytes(r.kept_bytes) + " of it (RSS " + FormatBytes(r.rss_end_bytes) +
           " at the end)";
  }
  return "the heap in use fell from " + FormatBytes(r.heap_peak_bytes) + " to " +
         FormatBytes(r.heap_end_bytes) + ", but RSS still holds " + FormatBytes(r.kept_bytes) +
         " of it (RSS " + FormatBytes(r.rss_end_bytes) + " at the end)";
}

}  // namespace

std::string LazyReleaseExplanation(const ReleaseEvidence& r) {
  std::string who;
  if (r.lazyfree_bytes > 0) {
    who = FormatBytes(r.lazyfree_bytes) +
          " of it is LazyFree (pages freed with MADV_FREE, which the kernel takes back only "
          "under memory pressure)";
  }
  if (r.lazyfree_bytes <= 0 && r.runtime_released_bytes > 0) {
    who = FormatBytes(r.runtime_released_bytes) +
          " of it the runtime counts as returned to the OS (heap_released_bytes), though RSS "
          "still holds it: it was given back lazily (MADV_FREE), and the kernel takes such "
          "pages only under memory pressure";
  }
  if (r.allocator_free_bytes > 0) {
    who += std::string(who.empty() ? "" : ", and ") + FormatBytes(r.allocator_free_bytes) +
           " is free memory the allocator keeps for reuse";
  }
  if (r.lazyfree_bytes > 0 && r.runtime_released_bytes > 0) {
    who += ". The runtime counts " + FormatBytes(r.runtime_released_bytes) +
           " as returned to the OS (heap_released_bytes, Go's HeapReleased) while RSS holds it: "
           "a page given back with MADV_FREE stays resident until the kernel needs it";
  }
  return "Not a leak, lazy release: " + ReleaseFigures(r) + ". " + who +
         ". RSS will fall when the memory is needed elsewhere, or at once with a forced release "
         "(/debug/release, malloc_trim, Go's debug.FreeOSMemory). High RSS alone is not a leak: "
         "memory that is not growing is not leaking.";
}

Undecided ReleaseUnaccounted(const ReleaseEvidence& r) {
  Undecided u;
  u.missing =
      "what holds the memory RSS kept: lazyfree_bytes (from /proc/PID/smaps_rollup), "
      "heap_released_bytes (what the runtime returned to the OS) or "
      "heap_free_bytes (the allocator's free bytes) do not account for it";
  u.explanation = "Memory is not growing, but " + ReleaseFigures(r) +
                  ", and nothing in the data says who holds it: " + u.missing + ".";
  return u;
}

namespace {

// "heap_inuse_bytes is flat (...); rss_bytes is growing (...)"
std::string SignalList(const std::vector<series::GrowthEvidence>& signals) {
  std::string text;
  for (const auto& ev : signals) {
    text += (text.empty() ? "" : "; ") + ev.signal + " is " + series::TrendName(ev.trend) + " (" +
            ev.reason + ")";
  }
  return text;
}

}  // namespace

std::string CannotWeigh(const std::vector<series::GrowthEvidence>& signals, bool heap_inside,
                        const series::Series& s, double decide_window_s) {
  return "The data cannot decide: " + SignalList(signals) + "." +
         (heap_inside ? " Resident memory does not grow, but the heap can grow inside it, in "
                        "memory already resident that the allocator or the runtime reuses, so "
                        "it does not settle the heap."
                      : " The heap does not grow, but resident memory rises outside it, which it "
                        "does not settle.") +
         WatchLonger(s, decide_window_s);
}

std::string NoLeakExplanation(const std::vector<series::GrowthEvidence>& signals,
                              const NoLeakFacts& f) {
  std::string notes;
  for (const series::GrowthEvidence* ev : f.weighed) {
    notes += ev->signal == series::kRssBytesColumn
                 ? " Resident memory alone cannot decide, but it shows no trend of its own (it "
                   "moves with the collector and the allocator), and the heap it holds does not "
                   "grow."
                 : " The heap figures alone cannot decide, but they show no rise of their own, "
                   "and resident memory, which holds them, does not grow.";
  }
  if (!f.memory_decided)
    notes += " Memory itself was not measured: give --pid or a heap profile to judge it too.";
  for (const auto& ev : signals) {
    if (ev.trend == series::Trend::kPlateaued || ev.period_s > 0 || ev.warmup_skipped ||
        ev.stale_repeats > 0) {
      notes += FloorNote(ev);
      break;
    }
  }
  if (f.kept_free) {
    notes += " " +
             KeptFreeSentence(f.kept_free->rss_growth_bytes, f.kept_free->kept_free_bytes,
                              f.kept_free->held) +
             " That is the allocator's, not a leak of the program's: malloc_trim or a release "
             "returns it.";
  }
  return "No leak: " + SignalList(signals) + "." + notes + BoundSentence(f.bound);
}

namespace {

std::string MemoryLeak(const LeakFacts& f, const std::vector<WorkExplanation>& work) {
  const series::GrowthEvidence& g = *f.growing;
  const double start = g.fit.intercept + g.fit.slope * g.t_begin_s;
  std::string text = "Memory is leaking: " + Describe(g.signal) + " grew from " +
                     FormatBytes(start) + " to " + FormatBytes(start + g.growth_bytes) + " in " +
                     FormatSeconds(g.t_end_s - g.t_begin_s) + " (" + RateWithInterval(g.fit) +
                     "), and it was still growing at the end, with no sign of levelling off." +
                     Severity(g);
  text += FloorNote(g);
  text += WorkSentence(work, f.second_fits_as_well);
  if (f.workers != nullptr) text += " Workers pile up as well: " + WorkerGrowth(*f.workers) + ".";
  return text;
}

std::string WorkersLeak(const LeakFacts& f, const std::vector<WorkExplanation>& work) {
  std::string text = "Workers are leaking: " + WorkerGrowth(*f.workers) +
                     ", and their number was still growing at the end, with no sign of levelling "
                     "off. Each one keeps its stack and everything it references.";
  text += FloorNote(*f.workers);
  text += WorkSentence(work, f.second_fits_as_well);
  if (f.memory != nullptr) {
    text += " " + Capitalized(Describe(f.memory->signal)) + " is " +
            series::TrendName(f.memory->trend) +
            " so far: at this size the workers cost little memory, but they do not stop.";
  }
  return text;
}

// " At this rate rss_bytes reaches the 64 MB limit at t = 31.2 s (25 s after the last sample)."
std::string ExhaustionSentence(const Exhaustion& e) {
  // The time as printed since before FormatSeconds, which would round 31.2 s to "31 s".
  char at[64];
  std::snprintf(at, sizeof at, "%.1f s", e.predicted_t_s);
  return " At this rate " + e.signal + " reaches the " + FormatBytes(e.limit_bytes) +
         " limit at t = " + at +
         (e.time_left_s > 0 ? " (" + FormatSeconds(e.time_left_s) + " after the last sample)."
                            : ".");
}

}  // namespace

std::string LeakExplanation(const LeakFacts& f, const std::vector<WorkExplanation>& work) {
  std::string text = f.growing != nullptr ? MemoryLeak(f, work) : WorkersLeak(f, work);
  if (f.exhaustion) text += ExhaustionSentence(*f.exhaustion);
  if (f.level_heap) {
    text += " The heap in use is " + std::string(series::TrendName(*f.level_heap)) +
            ", so the growth is outside the heap: thread or fiber stacks, memory mapped "
            "directly, or allocator fragmentation.";
  }
  return text;
}

}  // namespace leaklab::verdict
