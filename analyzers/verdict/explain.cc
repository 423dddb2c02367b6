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

}  // namespace leaklab::verdict
