#include <algorithm>
#include <stdexcept>
#include <cmath>
#include <cstdio>
#include <limits>

#include "analyzers/series/trend.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {
namespace {

// Memory signals, most direct first: the heap says what the program holds,
// RSS what the OS sees (stacks and mmaps included).
constexpr std::string_view kSignals[] = {series::kHeapInuseBytesColumn, series::kRssBytesColumn};

struct Counter {
  std::string_view column;
  const char* unit;
};
constexpr Counter kCounters[] = {{series::kRequestsTotalColumn, "request"},
                                 {series::kKeysTotalColumn, "key"},
                                 {series::kReloadsTotalColumn, "reload"}};

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  double v = std::fabs(bytes);
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%.*f %s", bytes < 0 ? "-" : "", v < 10 && u > 0 ? 1 : 0, v, units[u]);
  return buf;
}

// Regresses `memory` on each counter over the samples where both are present
// and after `t_begin_s` (the warm-up the growth test skipped).
std::vector<WorkExplanation> ExplainByWork(const series::Series& s, const std::vector<double>& memory,
                                           double t_begin_s) {
  std::vector<WorkExplanation> out;
  for (const Counter& c : kCounters) {
    const std::vector<double>* counter = s.Find(c.column);
    if (counter == nullptr) continue;
    std::vector<double> x, y;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.t_s[i] < t_begin_s || !std::isfinite((*counter)[i]) || !std::isfinite(memory[i])) continue;
      x.push_back((*counter)[i]);
      y.push_back(memory[i]);
    }
    if (x.size() < 3) continue;
    auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    if (*hi <= *lo) continue;  // no work done: nothing to explain with
    WorkExplanation w;
    w.counter = std::string(c.column);
    w.unit = c.unit;
    w.units = *hi - *lo;
    try {
      w.bytes_per_unit = series::TheilSenEstimate(x, y).slope;
      w.r_squared = series::LeastSquares(x, y).r_squared;
    } catch (const std::invalid_argument&) {
      continue;  // values the fits cannot take (near the limits of double): no explanation
    }
    out.push_back(std::move(w));
  }
  // Best fit first. Fits within 0.01 of R² are equally good; then the counter
  // with fewer units (keys before requests) comes first, being the more
  // specific explanation, so the order does not flip with noise.
  std::stable_sort(out.begin(), out.end(), [](const WorkExplanation& a, const WorkExplanation& b) {
    long ra = std::lround(a.r_squared * 100), rb = std::lround(b.r_squared * 100);
    if (ra != rb) return ra > rb;
    return a.units < b.units;
  });
  return out;
}

// Median of the finite values of v[from, to); NaN when there are none.
double FiniteMedian(const std::vector<double>& v, size_t from, size_t to) {
  std::vector<double> x;
  for (size_t i = from; i < to && i < v.size(); ++i) {
    if (std::isfinite(v[i])) x.push_back(v[i]);
  }
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  return series::MedianOf(x);
}

// A release counts when the heap gave back at least this share of the RSS
// peak (and kMinReleasedBytes), RSS kept at least kKeptShare of it, and
// LazyFree plus allocator-free bytes explain at least kAccountedShare of what
// RSS kept.
constexpr double kReleasedShareOfRss = 0.25;
constexpr double kMinReleasedBytes = 4 << 20;
constexpr double kKeptShare = 0.5;
constexpr double kAccountedShare = 0.5;

// Steps: 1. the heap's peak and its level at the end; 2. how much of the
// released heap RSS still holds at the end, as growth of the RSS-minus-heap
// gap; 3. how much of that LazyFree and the allocator's free bytes explain.
ReleaseEvidence CheckRelease(const series::Series& s) {
  ReleaseEvidence r;
  const std::vector<double>* heap = s.Find(series::kHeapInuseBytesColumn);
  const std::vector<double>* rss = s.Find(series::kRssBytesColumn);
  if (heap == nullptr || rss == nullptr || s.size() < 10) return r;
  const size_t n = s.size(), tenth = std::max<size_t>(n / 10, 3);
  std::vector<double> gap(n);
  for (size_t i = 0; i < n; ++i) gap[i] = (*rss)[i] - (*heap)[i];
  r.heap_peak_bytes = -std::numeric_limits<double>::infinity();
  double rss_peak = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite((*heap)[i])) r.heap_peak_bytes = std::max(r.heap_peak_bytes, (*heap)[i]);
    if (std::isfinite((*rss)[i])) rss_peak = std::max(rss_peak, (*rss)[i]);
  }
  r.heap_end_bytes = FiniteMedian(*heap, n - tenth, n);
  r.rss_end_bytes = FiniteMedian(*rss, n - tenth, n);
  double kept = FiniteMedian(gap, n - tenth, n) - FiniteMedian(gap, 0, tenth);
  if (!std::isfinite(r.heap_peak_bytes) || !std::isfinite(r.heap_end_bytes) || !std::isfinite(kept)) return r;
  r.checked = true;
  r.released_bytes = r.heap_peak_bytes - r.heap_end_bytes;
  r.kept_bytes = kept;
  auto growth = [&](std::string_view column) {
    const std::vector<double>* v = s.Find(column);
    if (v == nullptr) return 0.0;
    double d = FiniteMedian(*v, n - tenth, n) - FiniteMedian(*v, 0, tenth);
    return std::isfinite(d) ? std::max(d, 0.0) : 0.0;
  };
  r.lazyfree_bytes = growth(series::kLazyfreeBytesColumn);
  r.allocator_free_bytes = growth(series::kHeapFreeBytesColumn);
  r.heap_released = r.released_bytes >= kMinReleasedBytes && r.released_bytes >= kReleasedShareOfRss * rss_peak;
  r.rss_kept = r.heap_released && r.kept_bytes >= kKeptShare * r.released_bytes;
  r.accounted = r.rss_kept && r.lazyfree_bytes + r.allocator_free_bytes >= kAccountedShare * r.kept_bytes;
  return r;
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kLeak:
      return "leak";
    case Kind::kNoLeak:
      return "no-leak";
    case Kind::kLazyRelease:
      return "lazy-release";
    case Kind::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kLeak, Kind::kNoLeak, Kind::kLazyRelease, Kind::kInconclusive}) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

Verdict AnalyzeSeries(const series::Series& s, const AnalyzeOptions& options) {
  Verdict v;
  v.source = s.source;
  if (s.size() < 2) {
    v.missing.push_back("a series of at least " + std::to_string(options.growth.min_samples) +
                        " samples (this one has " + std::to_string(s.size()) + ")");
    v.explanation = "There is too little data to say anything: " + v.missing.back() + ".";
    return v;
  }
  if (!series::IsStrictlyIncreasing(s.t_s)) {
    size_t i = 1;
    while (i < s.size() && s.t_s[i] > s.t_s[i - 1]) ++i;
    v.missing.push_back("time (t_s) that increases from sample to sample; sample " + std::to_string(i + 1) +
                        " is not later than the one before");
    v.explanation = "The samples are not in time order, so no trend can be read from them: " +
                    v.missing.back() + ".";
    return v;
  }

  for (std::string_view name : kSignals) {
    const std::vector<double>* values = s.Find(name);
    if (values == nullptr) continue;
    v.signals.push_back(series::AnalyzeGrowth(std::string(name), s.t_s, *values, options.growth));
  }
  if (v.signals.empty()) {
    v.missing.push_back("a memory column (heap_inuse_bytes or rss_bytes)");
    v.explanation = "The series has no memory signal to test: " + v.missing.back() + ".";
    return v;
  }

  const series::GrowthEvidence* growing = nullptr;
  bool any_decided = false;
  for (const auto& ev : v.signals) {
    if (ev.trend != series::Trend::kInsufficient) any_decided = true;
    if (ev.trend == series::Trend::kGrowing && growing == nullptr) growing = &ev;
  }
  if (!any_decided) {
    v.missing.push_back(v.signals.front().reason);
    v.explanation = "The run is too short to decide: " + v.signals.front().reason +
                    ". Run longer or sample more often.";
    return v;
  }

  // Work explains the signal that grows, or else the most direct one.
  const series::GrowthEvidence& subject = growing ? *growing : v.signals.front();
  v.work = ExplainByWork(s, *s.Find(subject.signal), subject.t_begin_s);

  if (growing != nullptr) {
    v.kind = Kind::kLeak;
    std::string text = "Memory is leaking: " + growing->signal + " grew from " +
                       HumanBytes(growing->fit.intercept + growing->fit.slope * growing->t_begin_s) +
                       " by " + HumanBytes(growing->growth_bytes) + " in " +
                       std::to_string(static_cast<long>(growing->t_end_s - growing->t_begin_s + 0.5)) +
                       " s (" + HumanBytes(growing->fit.slope) + "/s) and was still growing at the end, with no plateau.";
    if (!v.work.empty() && v.work.front().r_squared >= 0.9 && v.work.front().bytes_per_unit > 0) {
      const WorkExplanation& w = v.work.front();
      char r2[16];
      std::snprintf(r2, sizeof r2, "%.2f", w.r_squared);
      text += " The growth follows the work done: about " + HumanBytes(w.bytes_per_unit) + " per " + w.unit +
              " (R\xC2\xB2 " + r2 + "), so something keeps memory for every " + w.unit + " and never lets go.";
      if (v.work.size() > 1 && std::lround(v.work[1].r_squared * 100) == std::lround(w.r_squared * 100)) {
        text += " (It fits " + HumanBytes(v.work[1].bytes_per_unit) + " per " + v.work[1].unit +
                " just as well: the two grew together in this run, so the data alone cannot tell which one "
                "memory follows; a run that repeats " + w.unit + "s or " + v.work[1].unit + "s can.)";
      }
    }
    if (options.limit_bytes) {
      // RSS is what a memory cgroup charges; extrapolate it when it grows too.
      const series::GrowthEvidence* line = growing;
      for (const auto& ev : v.signals) {
        if (ev.signal == series::kRssBytesColumn && ev.trend == series::Trend::kGrowing) line = &ev;
      }
      Exhaustion e;
      e.limit_bytes = *options.limit_bytes;
      e.signal = line->signal;
      e.predicted_t_s = (e.limit_bytes - line->fit.intercept) / line->fit.slope;
      e.time_left_s = e.predicted_t_s - line->t_end_s;
      char buf[200];
      std::snprintf(buf, sizeof buf, " At this rate %s reaches the %s limit at t = %.1f s", e.signal.c_str(),
                    HumanBytes(e.limit_bytes).c_str(), e.predicted_t_s);
      text += buf;
      text += e.time_left_s > 0 ? " (" + std::to_string(static_cast<long>(e.time_left_s + 0.5)) +
                                      " s after the last sample)."
                                : ".";
      v.exhaustion = e;
    }
    if (growing->signal != series::kHeapInuseBytesColumn) {
      for (const auto& ev : v.signals) {
        if (ev.signal == series::kHeapInuseBytesColumn && ev.trend != series::Trend::kGrowing) {
          text += " The heap in use is " + std::string(series::TrendName(ev.trend)) +
                  ", so the growth is outside the heap: thread or fiber stacks, memory mapped "
                  "directly, or allocator fragmentation.";
        }
      }
    }
    v.explanation = text;
    return v;
  }

  // Not growing. Did RSS stay up after the heap was given back?
  v.release = CheckRelease(s);
  const ReleaseEvidence& r = v.release;
  if (r.rss_kept) {
    std::string numbers = "the heap in use fell from " + HumanBytes(r.heap_peak_bytes) + " to " +
                          HumanBytes(r.heap_end_bytes) + ", but RSS still holds " + HumanBytes(r.kept_bytes) +
                          " of it (RSS " + HumanBytes(r.rss_end_bytes) + " at the end)";
    if (r.accounted) {
      v.kind = Kind::kLazyRelease;
      std::string who;
      if (r.lazyfree_bytes > 0) {
        who = HumanBytes(r.lazyfree_bytes) + " of it is LazyFree (pages freed with MADV_FREE, which the kernel "
              "takes back only under memory pressure)";
      }
      if (r.allocator_free_bytes > 0) {
        who += std::string(who.empty() ? "" : ", and ") + HumanBytes(r.allocator_free_bytes) +
               " is free memory the allocator keeps for reuse";
      }
      v.explanation = "Not a leak, lazy release: " + numbers + ". " + who +
                      ". RSS will fall when the memory is needed elsewhere, or at once with a forced release "
                      "(/debug/release, malloc_trim, Go's debug.FreeOSMemory).";
      return v;
    }
    v.kind = Kind::kInconclusive;
    v.missing.push_back("what holds the memory RSS kept: lazyfree_bytes (from /proc/PID/smaps_rollup) or "
                        "heap_free_bytes (the allocator's free bytes) do not account for it");
    v.explanation = "Memory is not growing, but " + numbers + ", and nothing in the data says who holds it: " +
                    v.missing.back() + ".";
    return v;
  }

  v.kind = Kind::kNoLeak;
  std::string text = "No leak: ";
  bool first = true;
  for (const auto& ev : v.signals) {
    text += (first ? "" : "; ") + ev.signal + " is " + series::TrendName(ev.trend) + " (" + ev.reason + ")";
    first = false;
  }
  v.explanation = text + ".";
  return v;
}

}  // namespace leaklab::verdict
