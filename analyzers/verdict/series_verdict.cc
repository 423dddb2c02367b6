#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analyzers/series/trend.h"
#include "analyzers/verdict/explain.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {
namespace {

// Memory signals, most direct first: the heap says what the program holds,
// RSS what the OS sees (stacks and mmaps included).
constexpr std::string_view kSignals[] = {series::kHeapInuseBytesColumn, series::kRssBytesColumn};

// Figures that change whenever a process is busy, to tell a heap figure that
// only repeats its last collection from a process that stands still.
constexpr std::string_view kLiveWitnesses[] = {series::kRssBytesColumn, series::kAnonBytesColumn,
                                               series::kRequestsTotalColumn,
                                               series::kKeysTotalColumn};

// A sampled heap profile's total moves by whole samples: growth that left
// no new sample behind is up to about 3 periods (the 95 % Poisson bound for
// none seen), whatever the slope's interval says.
constexpr double kSamplesUnseen = 3;

struct Counter {
  std::string_view column;
  const char* unit;
};
constexpr Counter kCounters[] = {{series::kRequestsTotalColumn, "request"},
                                 {series::kKeysTotalColumn, "key"},
                                 {series::kReloadsTotalColumn, "reload"}};

// The value of `counter` at the start of the floor's window ending at
// `t_end_s`: memory that only grows with the counter has its minimum over the
// window where the counter had its minimum, at the window's start. NaN when
// the counter has no value there or after it in the window.
double CounterAtWindowStart(const series::Series& s, const std::vector<double>& counter, size_t row,
                            double window_s) {
  size_t i = row;
  if (window_s > 0) {
    const double from = s.t_s[row] - window_s;
    i = static_cast<size_t>(std::upper_bound(s.t_s.begin(), s.t_s.end(), from) - s.t_s.begin());
  }
  for (; i <= row; ++i) {
    if (std::isfinite(counter[i])) return counter[i];
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// Two fits explain memory equally well when the variance they leave
// unexplained is within a factor of 1.5: at R² 0.999 against 0.995 one
// counter leaves five times less unexplained, which is a real difference
// (a staircase of reloads against the ramp of requests), while 0.990 against
// 0.992 is noise. The 1e-4 keeps two near-perfect fits from differing by
// rounding alone.
bool EquallyGood(const WorkExplanation& a, const WorkExplanation& b) {
  const double ua = 1 - a.r_squared + 1e-4, ub = 1 - b.r_squared + 1e-4;
  return std::max(ua, ub) < 1.5 * std::min(ua, ub);
}

// Regresses the floor of `subject` on each work counter present, over the
// analysed window (warm-up left out): bytes per unit is the Theil-Sen slope
// (robust to the odd sample), R² that of least squares (how much of the
// floor's variation the counter accounts for).
std::vector<WorkExplanation> ExplainByWork(const series::Series& s,
                                           const series::GrowthEvidence& subject) {
  std::vector<WorkExplanation> out;
  const series::Floor& floor = subject.floor;
  for (const Counter& c : kCounters) {
    const std::vector<double>* counter = s.Find(c.column);
    if (counter == nullptr) continue;
    std::vector<double> x, y;
    for (size_t k = 0; k < floor.t_s.size(); ++k) {
      if (floor.t_s[k] < subject.t_begin_s) continue;
      const double units = CounterAtWindowStart(s, *counter, floor.index[k], floor.window_s);
      if (!std::isfinite(units)) continue;
      x.push_back(units);
      y.push_back(floor.values[k]);
    }
    if (x.size() < 3) continue;
    auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    if (*hi <= *lo) continue;  // no work done: nothing to explain with
    WorkExplanation w;
    w.signal = subject.signal;
    w.counter = std::string(c.column);
    w.unit = c.unit;
    w.units = *hi - *lo;
    w.points = x.size();
    try {
      w.bytes_per_unit = series::TheilSenEstimate(x, y).slope;
      w.r_squared = series::LeastSquares(x, y).r_squared;
    } catch (const std::invalid_argument&) {
      continue;  // values the fits cannot take (near the limits of double): no explanation
    }
    out.push_back(std::move(w));
  }
  // Best fit first: the most variance explained. Fits that leave about as
  // much unexplained (within kEquallyGood of each other) are equally good;
  // among those the counter with fewer units (keys before requests) comes
  // first, being the more specific explanation, so the order does not flip
  // with noise.
  std::stable_sort(out.begin(), out.end(), [](const WorkExplanation& a, const WorkExplanation& b) {
    return a.r_squared > b.r_squared;
  });
  if (!out.empty()) {
    auto specific = out.begin();
    for (auto it = out.begin(); it != out.end(); ++it) {
      if (EquallyGood(*it, out.front()) && it->units < specific->units) specific = it;
    }
    std::rotate(out.begin(), specific, specific + 1);
  }
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
// RSS that kept less than kKeptShare still counts when the freed-memory
// figures account for what it kept and it is at least kAccountedKeptShare:
// allocators give back part of a burst at once (jemalloc purges what its
// decay allows while freeing) and hold the rest.
constexpr double kReleasedShareOfRss = 0.25;
constexpr double kMinReleasedBytes = 4 << 20;
constexpr double kKeptShare = 0.5;
constexpr double kAccountedKeptShare = 0.25;
constexpr double kAccountedShare = 0.5;

// Steps: 1. the heap's peak and its level at the end; 2. how much of the
// released heap RSS still holds at the end, as growth of the RSS-minus-heap
// gap; 3. how much of that LazyFree (or what the runtime says it released)
// and the allocator's free bytes explain;
// 4. a peak between samples, from what those hold.
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
  if (!std::isfinite(r.heap_peak_bytes) || !std::isfinite(r.heap_end_bytes) ||
      !std::isfinite(kept)) {
    return r;
  }
  r.checked = true;
  r.released_bytes = r.heap_peak_bytes - r.heap_end_bytes;
  r.kept_bytes = kept;
  // The heap came down once: it crossed halfway from its peak to its end
  // level on the way down a single time. A collector's sawtooth comes down
  // and goes back up, again and again, and is no release.
  const double halfway = r.heap_end_bytes + 0.5 * r.released_bytes;
  int falls = 0;
  bool above = false;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite((*heap)[i])) continue;
    if ((*heap)[i] > halfway) above = true;
    if (above && (*heap)[i] < halfway) {
      ++falls;
      above = false;
    }
  }
  const bool stayed_down = falls == 1;
  auto growth = [&](std::string_view column) {
    const std::vector<double>* v = s.Find(column);
    if (v == nullptr) return 0.0;
    double d = FiniteMedian(*v, n - tenth, n) - FiniteMedian(*v, 0, tenth);
    return std::isfinite(d) ? std::max(d, 0.0) : 0.0;
  };
  r.lazyfree_bytes = growth(series::kLazyfreeBytesColumn);
  r.allocator_free_bytes = growth(series::kHeapFreeBytesColumn);
  r.runtime_released_bytes = growth(series::kHeapReleasedBytesColumn);
  // A runtime without an allocator-free figure (a JVM) keeps freed heap as
  // committed heap not in use: committed minus in use.
  const std::vector<double>* committed = s.Find(series::kHeapCommittedBytesColumn);
  if (s.Find(series::kHeapFreeBytesColumn) == nullptr && committed != nullptr) {
    std::vector<double> spare(n);
    for (size_t i = 0; i < n; ++i) spare[i] = (*committed)[i] - (*heap)[i];
    const double d = FiniteMedian(spare, n - tenth, n) - FiniteMedian(spare, 0, tenth);
    r.allocator_free_bytes = std::isfinite(d) ? std::max(d, 0.0) : 0.0;
  }
  r.heap_released = stayed_down && r.released_bytes >= kMinReleasedBytes &&
                    r.released_bytes >= kReleasedShareOfRss * rss_peak;
  // 4. A burst that came and went between two samples leaves no heap peak,
  //    only its trace: freed memory that LazyFree or the allocator's free
  //    bytes hold, more than the program holds at the end. It counts as a
  //    release of that much.
  // LazyFree and what the runtime says it released overlap (MADV_FREE pages
  // are both); the allocator's free bytes are neither.
  const double freed =
      std::max(r.lazyfree_bytes, r.runtime_released_bytes) + r.allocator_free_bytes;
  if (!r.heap_released && freed >= kMinReleasedBytes && freed >= r.heap_end_bytes &&
      freed >= kReleasedShareOfRss * rss_peak) {
    r.heap_released = true;
    r.peak_unseen = true;
    r.released_bytes = freed;
  }
  const bool explained = freed >= kAccountedShare * r.kept_bytes;
  r.rss_kept =
      r.heap_released && (r.kept_bytes >= kKeptShare * r.released_bytes ||
                          (explained && r.kept_bytes >= kAccountedKeptShare * r.released_bytes));
  r.accounted = r.rss_kept && explained;
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

namespace {

// Seconds for a leak to add its growing signal's level again; infinity for
// anything else.
double SecondsToDouble(const Verdict& v) {
  double best = std::numeric_limits<double>::infinity();
  if (v.kind != Kind::kLeak) return best;
  for (const auto& ev : v.signals) {
    if (ev.trend == series::Trend::kGrowing && ev.fit.slope > 0 && ev.level_bytes > 0) {
      best = std::min(best, ev.level_bytes / ev.fit.slope);
    }
  }
  return best;
}

int KindRank(Kind k) {
  switch (k) {
    case Kind::kLeak:
      return 0;
    case Kind::kInconclusive:
      return 1;
    case Kind::kLazyRelease:
      return 2;
    case Kind::kNoLeak:
      return 3;
  }
  return 4;
}

}  // namespace

bool MoreSevere(const Verdict& a, const Verdict& b) {
  if (KindRank(a.kind) != KindRank(b.kind)) return KindRank(a.kind) < KindRank(b.kind);
  return SecondsToDouble(a) < SecondsToDouble(b);
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kLeak, Kind::kNoLeak, Kind::kLazyRelease, Kind::kInconclusive}) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

namespace {

// An undecided signal shows no rise of its own when its Mann-Kendall test
// is not significant at 5 %.
constexpr double kNoRiseAlpha = 0.05;

// Workers: growth that matters adds at least this many over the window (and
// min_relative_growth of the level): fewer is the coming and going of
// connections and requests in flight.
constexpr double kMinWorkerGrowth = 8;

bool IsMemory(const series::GrowthEvidence& ev) { return ev.signal != series::kWorkersColumn; }

// The longest window any undecided signal needs, 0 when none can say.
double DecideWindow(const std::vector<series::GrowthEvidence>& signals) {
  double window = 0;
  for (const auto& ev : signals) {
    if (ev.trend == series::Trend::kInsufficient) window = std::max(window, ev.decide_window_s);
  }
  return window;
}

// The counter's value at the first sample at or after `t` (at or before
// `t` for the end of a stretch), NaN when it has none there.
double CounterAt(const series::Series& s, const std::vector<double>& counter, double t,
                 bool at_end) {
  if (at_end) {
    for (size_t i = s.size(); i-- > 0;) {
      if (s.t_s[i] <= t && std::isfinite(counter[i])) return counter[i];
    }
  } else {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.t_s[i] >= t && std::isfinite(counter[i])) return counter[i];
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// The strength of a no-leak: the decided memory signal with the tightest
// upper bound on its growth rate where it is judged level (a flat signal's
// whole window; a plateaued one's last regime or last third), and that bound
// per unit of work where a counter moved there.
std::optional<Bound> BoundGrowth(const series::Series& s,
                                 const std::vector<series::GrowthEvidence>& signals,
                                 double heap_sampling_bytes) {
  // The heap, where decided: what the program holds, which a flat RSS does
  // not bound (the heap can grow inside memory already resident). RSS
  // otherwise: then the bound is on the process's footprint.
  std::optional<Bound> best;
  const bool heap_decided =
      std::any_of(signals.begin(), signals.end(), [](const series::GrowthEvidence& ev) {
        return ev.signal == series::kHeapInuseBytesColumn &&
               ev.trend != series::Trend::kInsufficient && ev.trend != series::Trend::kGrowing;
      });
  for (const auto& ev : signals) {
    if (!IsMemory(ev) || (heap_decided && ev.signal != series::kHeapInuseBytesColumn)) continue;
    Bound b;
    b.signal = ev.signal;
    b.t_end_s = ev.t_end_s;
    switch (ev.trend) {
      case series::Trend::kFlat:
      case series::Trend::kFalling:
        b.t_begin_s = ev.t_begin_s;
        b.max_bytes_per_s = ev.fit.slope_high;
        break;
      case series::Trend::kPlateaued:
        if (ev.last_regime_begin_s > 0 &&
            (ev.tail_begin_s <= 0 ||
             ev.last_regime_slope_high_bytes_per_s <= ev.tail_slope_high_bytes_per_s)) {
          b.t_begin_s = ev.last_regime_begin_s;
          b.max_bytes_per_s = ev.last_regime_slope_high_bytes_per_s;
        } else {
          b.t_begin_s = ev.tail_begin_s;
          b.max_bytes_per_s = ev.tail_slope_high_bytes_per_s;
        }
        break;
      default:
        continue;
    }
    if (!std::isfinite(b.max_bytes_per_s) || !(b.t_end_s > b.t_begin_s)) continue;
    b.max_bytes_per_s = std::max(b.max_bytes_per_s, 0.0);
    // A sampled heap hides growth of up to a few sampling periods.
    if (ev.signal == series::kHeapInuseBytesColumn && heap_sampling_bytes > 0) {
      b.max_bytes_per_s = std::max(
          b.max_bytes_per_s, kSamplesUnseen * heap_sampling_bytes / (b.t_end_s - b.t_begin_s));
    }
    if (best && best->max_bytes_per_s <= b.max_bytes_per_s) continue;
    for (const Counter& c : kCounters) {
      const std::vector<double>* counter = s.Find(c.column);
      if (counter == nullptr) continue;
      const double units =
          CounterAt(s, *counter, b.t_end_s, true) - CounterAt(s, *counter, b.t_begin_s, false);
      if (!(units >= 1)) continue;
      b.unit = c.unit;
      b.units = units;
      b.max_bytes_per_unit = b.max_bytes_per_s * (b.t_end_s - b.t_begin_s) / units;
      break;
    }
    best = b;
  }
  return best;
}

// RSS minus the freed memory it holds (the allocator's free bytes, LazyFree):
// what the program holds, judged when RSS grows while the heap in use does
// not; nullopt otherwise, or when the series has neither figure.
std::optional<series::GrowthEvidence> HeldByProgram(
    const series::Series& s, const std::vector<series::GrowthEvidence>& signals,
    const series::GrowthOptions& options) {
  const series::GrowthEvidence* rss = nullptr;
  const series::GrowthEvidence* heap = nullptr;
  for (const auto& ev : signals) {
    if (ev.signal == series::kRssBytesColumn) rss = &ev;
    if (ev.signal == series::kHeapInuseBytesColumn) heap = &ev;
  }
  if (rss == nullptr || rss->trend != series::Trend::kGrowing || heap == nullptr ||
      heap->trend == series::Trend::kGrowing) {
    return std::nullopt;
  }
  const std::vector<double>* free = s.Find(series::kHeapFreeBytesColumn);
  const std::vector<double>* lazy = s.Find(series::kLazyfreeBytesColumn);
  if (free == nullptr && lazy == nullptr) return std::nullopt;
  const std::vector<double>& r = *s.Find(series::kRssBytesColumn);
  std::vector<double> held(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    held[i] = r[i] - (free ? (*free)[i] : 0.0) - (lazy ? (*lazy)[i] : 0.0);
  }
  return series::AnalyzeGrowth("rss_bytes - heap_free_bytes - lazyfree_bytes", s.t_s, held,
                               options);
}

// How much `column` changed over the run: the median of its last tenth
// (at least 3 samples) less that of its first; 0 without the column.
double ChangeOverRun(const series::Series& s, std::string_view column) {
  const std::vector<double>* v = s.Find(column);
  if (v == nullptr) return 0.0;
  const size_t n = s.size(), tenth = std::max<size_t>(n / 10, 3);
  const double d =
      FiniteMedian(*v, n - std::min(tenth, n), n) - FiniteMedian(*v, 0, std::min(tenth, n));
  return std::isfinite(d) ? d : 0.0;
}

// See step 2c of AnalyzeSeries: RSS grows, the heap in use and the workers
// surely do not, and RSS's rise is not strong enough to stand against them.
constexpr double kOutsideHeapFactor = 4;
bool RssOutsideHeapUnsure(const std::vector<series::GrowthEvidence>& signals) {
  const series::GrowthEvidence *rss = nullptr, *heap = nullptr, *workers = nullptr;
  for (const auto& ev : signals) {
    if (ev.signal == series::kRssBytesColumn) rss = &ev;
    if (ev.signal == series::kHeapInuseBytesColumn) heap = &ev;
    if (ev.signal == series::kWorkersColumn) workers = &ev;
  }
  if (rss == nullptr || rss->trend != series::Trend::kGrowing || heap == nullptr) return false;
  const bool heap_level = heap->trend == series::Trend::kFlat ||
                          heap->trend == series::Trend::kPlateaued ||
                          heap->trend == series::Trend::kFalling;
  if (!heap_level || (workers != nullptr && workers->trend == series::Trend::kGrowing))
    return false;
  return !(rss->tail_growing && rss->growth_bytes >= kOutsideHeapFactor * rss->practical_growth);
}

constexpr double kKeysExplainRSquared = 0.8;

// Whether keys_total, over a growing signal's window, slows down (new keys
// come ever more rarely: a bounded key space being drawn).
bool KeysLevelOff(const series::Series& s, const series::GrowthEvidence& ev) {
  const std::vector<double>* keys = s.Find(series::kKeysTotalColumn);
  if (keys == nullptr) return false;
  std::vector<double> t, y;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.t_s[i] >= ev.t_begin_s && s.t_s[i] <= ev.t_end_s && std::isfinite((*keys)[i])) {
      t.push_back(s.t_s[i]);
      y.push_back((*keys)[i]);
    }
  }
  return series::SlowsDown(t, y);
}

// Growth that keeps less than this share of what each unit of work
// allocates is too little to call a leak: under 1 byte in 20.
constexpr double kKeptShareOfAllocation = 0.05;
// Per-unit figures need this many units at least.
constexpr double kMinBoundUnits = 100;

// The most a sampled heap can have grown over [from, to], in bytes: its
// slope's upper bound, and no less than what its sampling hides.
double MaxHeapGrowth(double from, double to, double upper_slope, double sampling_bytes) {
  return std::max(std::max(upper_slope, 0.0) * (to - from), kSamplesUnseen * sampling_bytes);
}

// A heap read from sampled profiles: (1) a flat or levelled reading finer
// than its sampling is no reading; (2) with its own allocation total and a
// work counter, growth is judged per unit of work instead: at most
// kKeptShareOfAllocation of what each unit allocates is too little to
// matter, however small the heap.
void ReadSampledHeap(const series::Series& s, const AnalyzeOptions& options,
                     series::GrowthEvidence& ev) {
  const double sampling = options.heap_sampling_bytes;
  if (sampling <= 0 || ev.trend == series::Trend::kGrowing || ev.trend == series::Trend::kFalling)
    return;
  const double hidden = kSamplesUnseen * sampling;
  const bool too_coarse = hidden >= ev.practical_growth;
  if (ev.trend != series::Trend::kInsufficient && !too_coarse) return;
  // (2) Per unit of work, where the signal is judged level: the analysed
  //     window, or a plateau's last regime (its last third without one).
  double from = ev.t_begin_s, upper = ev.fit.slope_high;
  if (ev.trend == series::Trend::kPlateaued) {
    const bool regime = ev.last_regime_begin_s > 0;
    from = regime ? ev.last_regime_begin_s : ev.tail_begin_s;
    upper = regime ? ev.last_regime_slope_high_bytes_per_s : ev.tail_slope_high_bytes_per_s;
  }
  const std::vector<double>* allocated = s.Find(series::kHeapAllocatedBytesColumn);
  if (allocated != nullptr && ev.n >= 2 && std::isfinite(upper) && ev.t_end_s > from) {
    for (const Counter& c : kCounters) {
      const std::vector<double>* counter = s.Find(c.column);
      if (counter == nullptr) continue;
      const double units =
          CounterAt(s, *counter, ev.t_end_s, true) - CounterAt(s, *counter, from, false);
      const double bytes =
          CounterAt(s, *allocated, ev.t_end_s, true) - CounterAt(s, *allocated, from, false);
      if (!(units >= kMinBoundUnits) || !(bytes > 0)) continue;
      const double kept = MaxHeapGrowth(from, ev.t_end_s, upper, sampling) / units;
      const double per_unit = bytes / units;
      if (kept < kKeptShareOfAllocation * per_unit) {
        if (ev.trend == series::Trend::kInsufficient) ev.trend = series::Trend::kFlat;
        const KeptPerUnit facts{
            .kept_bytes = kept,
            .unit = c.unit,
            .allocated_bytes = per_unit,
            .since_s = from > ev.t_begin_s ? std::optional(from) : std::nullopt};
        ev.reason = KeptPerUnitReason(facts, ev.reason);
        return;
      }
      break;
    }
  }
  // (1) Too coarse to tell flat from practical growth.
  if (too_coarse && ev.trend != series::Trend::kInsufficient) {
    ev.trend = series::Trend::kInsufficient;
    ev.reason = CoarseSamplingReason(sampling, hidden, ev.practical_growth, ev.reason);
  }
}

// Where a signal judged level is level from: its window, or a plateau's
// last regime (its last third without one).
double LevelSince(const series::GrowthEvidence& ev) {
  if (ev.trend != series::Trend::kPlateaued) return ev.t_begin_s;
  return ev.last_regime_begin_s > 0 ? ev.last_regime_begin_s : ev.tail_begin_s;
}

// One column of the series analysed from `from` on.
series::GrowthEvidence AnalyzeSince(const series::Series& s, std::string_view column, double from,
                                    const series::GrowthOptions& options) {
  const std::vector<double>& values = *s.Find(column);
  const auto first =
      static_cast<size_t>(std::lower_bound(s.t_s.begin(), s.t_s.end(), from) - s.t_s.begin());
  const std::span<const double> t(s.t_s.data() + first, s.size() - first),
      v(values.data() + first, s.size() - first);
  return series::AnalyzeGrowth(std::string(column), t, v, options);
}

// A generational collector's heap that grew and never fell (no collection
// in the window took old objects back) cannot tell promoted garbage from
// kept objects: undecided, saying so.
void ReadGenerational(const std::vector<double>& values, series::GrowthEvidence& ev) {
  if (ev.trend != series::Trend::kGrowing) return;
  double previous = std::numeric_limits<double>::quiet_NaN();
  size_t steps = 0;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (std::isfinite(previous) && v < previous)
      return;  // an old-generation collection took some back
    if (v != previous) ++steps;
    previous = v;
  }
  ev.trend = series::Trend::kInsufficient;
  ev.decide_window_s = 2 * (ev.t_end_s - ev.t_begin_s);
  ev.reason = GenerationalReason(ev.growth_bytes, steps, ev.reason);
}

// RSS that rises while the heap a runtime committed does not, and stays
// within it (RSS at the end no more than the committed heap plus RSS at
// the start), is the runtime touching memory it had already reserved: no
// new demand, and no leak on its own.
void ReadFirstTouch(const series::Series& s, series::GrowthEvidence& ev) {
  const std::vector<double>* committed = s.Find(series::kHeapCommittedBytesColumn);
  const std::vector<double>* rss = s.Find(series::kRssBytesColumn);
  if (ev.trend != series::Trend::kGrowing || committed == nullptr || rss == nullptr) return;
  const size_t n = s.size(), tenth = std::max<size_t>(n / 10, 1);
  const double c_start = FiniteMedian(*committed, 0, tenth),
               c_end = FiniteMedian(*committed, n - tenth, n);
  const double r_start = FiniteMedian(*rss, 0, tenth), r_end = FiniteMedian(*rss, n - tenth, n);
  if (!(std::isfinite(c_start) && std::isfinite(c_end) && std::isfinite(r_start) &&
        std::isfinite(r_end)))
    return;
  // Committed did not grow: by less than 1 % (or a MiB).
  if (c_end - c_start > std::max(0.01 * c_start, 1048576.0) || r_end > c_end + r_start) return;
  ev.trend = series::Trend::kInsufficient;
  ev.decide_window_s = 2 * (ev.t_end_s - ev.t_begin_s);
  ev.reason = FirstTouchReason(c_end, ev.reason);
}

// The signal of `column`, nullptr when the series has none.
const series::GrowthEvidence* FindSignal(const std::vector<series::GrowthEvidence>& signals,
                                         std::string_view column) {
  for (const auto& ev : signals) {
    if (ev.signal == column) return &ev;
  }
  return nullptr;
}

// 1. Input that cannot be read as a time series at all; nullopt when it can.
std::optional<Undecided> Unreadable(const series::Series& s, const AnalyzeOptions& options) {
  if (s.size() < 2) return TooLittleData(options.growth.min_samples, s.size());
  if (series::IsStrictlyIncreasing(s.t_s)) return std::nullopt;
  size_t i = 1;
  while (i < s.size() && s.t_s[i] > s.t_s[i - 1]) ++i;
  const bool nan = std::isnan(s.t_s[0]) || (i < s.size() && std::isnan(s.t_s[i]));
  const bool same = i < s.size() && s.t_s[i] == s.t_s[i - 1];
  return OutOfOrder(i + 1, nan    ? TimeFault::kNoTime
                           : same ? TimeFault::kSameTime
                                  : TimeFault::kEarlier);
}

// Makes `v` inconclusive for want of what `u` names.
void Undecidable(Verdict& v, Undecided u) {
  v.kind = Kind::kInconclusive;
  v.missing.push_back(std::move(u.missing));
  v.explanation = std::move(u.explanation);
}

// One memory signal on its own. A heap figure that repeats itself between
// garbage collections is read one step per collection
// (series::DropStaleRepeats).
series::GrowthEvidence ReadMemorySignal(const series::Series& s, const AnalyzeOptions& options,
                                        std::string_view name, const std::vector<double>& values) {
  size_t dropped = 0;
  // The heap profile's own allocation total is the witness that says
  // whether a collection came between two samples; without it, figures
  // that move whenever the process is busy stand in.
  series::StaleWitnesses witnesses;
  const std::vector<double>* collections = s.Find(series::kHeapAllocatedBytesColumn);
  if (collections == nullptr) collections = s.Find(series::kCollectionsTotalColumn);
  if (collections != nullptr) witnesses.moves_at_collection = *collections;
  for (std::string_view live : kLiveWitnesses) {
    if (const std::vector<double>* w = s.Find(live)) witnesses.moves_when_busy.emplace_back(*w);
  }
  // Only a heap known to be reported as of the last collection is read as
  // a staircase: a live heap figure can return to the same byte count
  // between requests, and an exact level in a figure of unknown origin
  // may be real.
  // A collection counter beside the heap says when the figure is new.
  const bool staircase =
      name == series::kHeapInuseBytesColumn &&
      (options.heap_as_of_collection || s.Find(series::kCollectionsTotalColumn) != nullptr);
  const std::vector<double> steps =
      staircase ? series::DropStaleRepeats(values, witnesses, dropped) : values;
  series::GrowthEvidence ev =
      series::AnalyzeGrowth(std::string(name), s.t_s, steps, options.growth);
  ev.stale_repeats = dropped;
  if (dropped > 0) ev.reason = StaleNote(ev) + ev.reason;
  if (name == series::kHeapInuseBytesColumn && options.generational_heap)
    ReadGenerational(steps, ev);
  if (name == series::kHeapInuseBytesColumn) ReadSampledHeap(s, options, ev);
  if (name == series::kRssBytesColumn) ReadFirstTouch(s, ev);
  return ev;
}

// 2. Each signal on its own: memory, most direct first, then workers.
std::vector<series::GrowthEvidence> ReadSignals(const series::Series& s,
                                                const AnalyzeOptions& options) {
  std::vector<series::GrowthEvidence> signals;
  for (std::string_view name : kSignals) {
    if (const std::vector<double>* values = s.Find(name))
      signals.push_back(ReadMemorySignal(s, options, name, *values));
  }
  if (const std::vector<double>* workers = s.Find(series::kWorkersColumn)) {
    series::GrowthOptions counted = options.growth;
    counted.bytes = false;
    counted.unit = "worker";
    counted.min_growth = kMinWorkerGrowth;
    signals.push_back(
        series::AnalyzeGrowth(std::string(series::kWorkersColumn), s.t_s, *workers, counted));
  }
  return signals;
}

// 2d. Memory that grows with the distinct keys, while new keys come ever
//     more rarely, is a cache filling over a bounded key space: not a
//     sustained growth until the keys say so.
bool CacheFilling(const series::Series& s, const std::vector<series::GrowthEvidence>& signals,
                  const series::GrowthEvidence& growing) {
  if (!KeysLevelOff(s, growing)) return false;
  // Keys explain a growing memory signal well (R² 0.8 or more: a sampled
  // heap profile follows the keys with a lag, so RSS may show it better),
  // though not always best: requests, which keep their pace, can fit a
  // lagging figure as well.
  for (const auto& ev : signals) {
    if (!IsMemory(ev) || ev.trend != series::Trend::kGrowing) continue;
    const std::vector<WorkExplanation> work = ExplainByWork(s, ev);
    if (std::any_of(work.begin(), work.end(), [](const WorkExplanation& w) {
          return w.counter == series::kKeysTotalColumn && w.r_squared >= kKeysExplainRSquared;
        })) {
      return true;
    }
  }
  return false;
}

// What the signals say together (steps 2b to 2d): pointers into them.
struct Reading {
  std::optional<series::GrowthEvidence> held;  // what the program holds (HeldByProgram)
  bool rss_is_kept_free = false;
  bool rss_outside_unsure = false;
  const series::GrowthEvidence* growing = nullptr;  // the memory signal that leaks
  const series::GrowthEvidence* workers = nullptr;
  bool workers_growing = false;
  bool any_decided = false;
  const series::GrowthEvidence* filling = nullptr;  // grows as a cache filling up (2d)
};

Reading ReadTogether(const series::Series& s, const AnalyzeOptions& options,
                     const std::vector<series::GrowthEvidence>& signals) {
  Reading r;
  // 2b. RSS that grows while the heap does not, by memory freed and kept
  //     (the allocator's free bytes, LazyFree), grows by what the program
  //     gave back, not by what it holds: RSS minus those is judged instead.
  r.held = HeldByProgram(s, signals, options.growth);
  r.rss_is_kept_free = r.held && r.held->trend != series::Trend::kGrowing;
  // 2c. RSS that grows while the heap in use surely does not, nor the
  //     workers, grows outside what the program holds: a runtime settling
  //     (a collector's goal, a scavenger's lag), pages of code touched,
  //     fragmentation; now and then a leak of mappings. Against a heap that
  //     says otherwise, it takes more than one regime that rises: a rise
  //     still significant at the end, of kOutsideHeapFactor practical
  //     growths or more.
  r.rss_outside_unsure = RssOutsideHeapUnsure(signals) && !r.rss_is_kept_free;
  for (const auto& ev : signals) {
    if (ev.trend != series::Trend::kInsufficient) r.any_decided = true;
    if (!IsMemory(ev)) {
      r.workers = &ev;
    } else if (ev.trend == series::Trend::kGrowing && r.growing == nullptr &&
               !((r.rss_is_kept_free || r.rss_outside_unsure) &&
                 ev.signal == series::kRssBytesColumn)) {
      r.growing = &ev;
    }
  }
  r.workers_growing = r.workers != nullptr && r.workers->trend == series::Trend::kGrowing;
  if (r.growing != nullptr && CacheFilling(s, signals, *r.growing)) {
    r.filling = r.growing;
    r.growing = nullptr;
  }
  return r;
}

// 3. The signal work is to explain: the one that grows, or else the most
//    direct one with a floor.
const series::GrowthEvidence& Subject(const Reading& r,
                                      const std::vector<series::GrowthEvidence>& signals) {
  if (r.growing != nullptr) return *r.growing;
  if (r.workers_growing) return *r.workers;
  for (const auto& ev : signals) {
    if (ev.trend != series::Trend::kInsufficient) return ev;
  }
  return signals.front();  // not reached: some signal was decided
}

// When `growing` reaches the memory limit; RSS, what a memory cgroup
// charges, is extrapolated instead when it grows too.
Exhaustion PredictExhaustion(const std::vector<series::GrowthEvidence>& signals,
                             const series::GrowthEvidence& growing, double limit_bytes) {
  const series::GrowthEvidence* line = &growing;
  for (const auto& ev : signals) {
    if (ev.signal == series::kRssBytesColumn && ev.trend == series::Trend::kGrowing) line = &ev;
  }
  Exhaustion e;
  e.limit_bytes = limit_bytes;
  e.signal = line->signal;
  e.predicted_t_s = series::PredictLimitTime(*line, e.limit_bytes);
  e.time_left_s = e.predicted_t_s - line->t_end_s;
  return e;
}

// A memory signal or the workers grow: a leak.
void DecideLeak(const AnalyzeOptions& options, const Reading& r, Verdict& v) {
  v.kind = Kind::kLeak;
  LeakFacts f;
  f.growing = r.growing;
  f.workers = r.workers_growing ? r.workers : nullptr;
  f.second_fits_as_well = v.work.size() > 1 && EquallyGood(v.work[1], v.work.front());
  if (r.growing == nullptr) {
    for (const auto& ev : v.signals) {
      if (IsMemory(ev) && ev.trend != series::Trend::kInsufficient) {
        f.memory = &ev;
        break;
      }
    }
  }
  if (options.limit_bytes && r.growing != nullptr)
    v.exhaustion = PredictExhaustion(v.signals, *r.growing, *options.limit_bytes);
  f.exhaustion = v.exhaustion;
  // Only a heap that surely did not grow puts the growth elsewhere; one
  // that grew and levelled off, or could not be judged, says nothing.
  const series::GrowthEvidence* heap = FindSignal(v.signals, series::kHeapInuseBytesColumn);
  if (r.growing != nullptr && r.growing->signal != series::kHeapInuseBytesColumn &&
      heap != nullptr &&
      (heap->trend == series::Trend::kFlat || heap->trend == series::Trend::kFalling)) {
    f.level_heap = heap->trend;
  }
  v.explanation = LeakExplanation(f, v.work);
}

// 4. Not growing. Did RSS stay up after the heap was given back? False
//    when it did not, and the verdict is still to be made.
bool DecideRelease(const series::Series& s, Verdict& v) {
  v.release = CheckRelease(s);
  const ReleaseEvidence& r = v.release;
  if (!r.rss_kept) return false;
  if (r.accounted) {
    v.kind = Kind::kLazyRelease;
    v.explanation = LazyReleaseExplanation(r);
  } else {
    Undecidable(v, ReleaseUnaccounted(r));
  }
  return true;
}

// 5. One memory signal decided level, the other undecided: weigh them.
//    RSS undecided next to a heap that is level settles nothing when RSS
//    rises (memory outside the heap, stacks and mappings, may be what
//    grows), but it does when RSS only moves with the collector, with no
//    trend. A heap undecided inside an RSS that does not grow is held by it
//    only when the heap shows no rise of its own: a heap can grow inside
//    memory already resident (free pages an allocator reuses, a JVM's
//    committed regions), unseen by RSS. A worker count alone that does not
//    grow is no leak of workers.
// Returns the memory signals still undecided; those the other settles go
// to `weighed`.
std::vector<series::GrowthEvidence> WeighUndecided(
    const series::Series& s, const AnalyzeOptions& options,
    const std::vector<series::GrowthEvidence>& signals,
    std::vector<const series::GrowthEvidence*>& weighed) {
  const series::GrowthEvidence* heap = FindSignal(signals, series::kHeapInuseBytesColumn);
  const series::GrowthEvidence* rss = FindSignal(signals, series::kRssBytesColumn);
  auto decided_level = [](const series::GrowthEvidence* ev) {
    return ev != nullptr &&
           (ev->trend == series::Trend::kFlat || ev->trend == series::Trend::kPlateaued ||
            ev->trend == series::Trend::kFalling);
  };
  // No rise of its own: enough points for the question, and either no
  // significant trend, or one whose estimate adds less than matters.
  auto no_rise = [&](const series::GrowthEvidence* ev) {
    return ev->n >= options.growth.min_tail_samples &&
           (ev->mk.p_value >= kNoRiseAlpha ||
            !(ev->fit.slope * (ev->t_end_s - ev->t_begin_s) >= ev->practical_growth));
  };
  std::vector<series::GrowthEvidence> undecided;
  for (const auto& ev : signals) {
    if (ev.trend != series::Trend::kInsufficient || !IsMemory(ev)) continue;
    const series::GrowthEvidence* other = &ev == rss ? heap : rss;
    bool settled = decided_level(other) && no_rise(&ev);
    // RSS since the heap levelled off: a rise of both (a cache filling)
    // before it is no rise of RSS's own. (Not the other way round: the heap
    // can grow inside resident memory that RSS already counts.)
    if (!settled && &ev == rss && decided_level(other) && LevelSince(*other) > ev.t_begin_s) {
      const series::GrowthEvidence since =
          AnalyzeSince(s, ev.signal, LevelSince(*other), options.growth);
      settled = since.trend == series::Trend::kFlat || since.trend == series::Trend::kPlateaued ||
                since.trend == series::Trend::kFalling || no_rise(&since);
    }
    if (settled) {
      weighed.push_back(&ev);
    } else {
      undecided.push_back(ev);
    }
  }
  return undecided;
}

// Nothing grows and nothing was released: no leak, unless weighing the
// signals leaves one undecided.
void DecideLevel(const series::Series& s, const AnalyzeOptions& options, const Reading& r,
                 Verdict& v) {
  NoLeakFacts f;
  const std::vector<series::GrowthEvidence> undecided =
      WeighUndecided(s, options, v.signals, f.weighed);
  if (!undecided.empty()) {
    v.kind = Kind::kInconclusive;
    for (const auto& ev : undecided) v.missing.push_back(SignalMissing(ev));
    v.decide_window_s = DecideWindow(undecided);
    const bool heap_inside = undecided.front().signal == series::kHeapInuseBytesColumn;
    v.explanation = CannotWeigh(v.signals, heap_inside, s, v.decide_window_s);
    return;
  }
  v.kind = Kind::kNoLeak;
  f.memory_decided =
      std::any_of(v.signals.begin(), v.signals.end(), [](const series::GrowthEvidence& ev) {
        return IsMemory(ev) && ev.trend != series::Trend::kInsufficient;
      });
  // 4b. RSS grows by freed memory kept, while what the program holds does
  //     not: no leak of the program's; the allocator's share is said.
  if (r.rss_is_kept_free) {
    f.kept_free = KeptFree{.rss_growth_bytes = ChangeOverRun(s, series::kRssBytesColumn),
                           .kept_free_bytes = ChangeOverRun(s, series::kHeapFreeBytesColumn) +
                                              ChangeOverRun(s, series::kLazyfreeBytesColumn),
                           .held = *r.held};
  }
  v.bound = BoundGrowth(s, v.signals, options.heap_sampling_bytes);
  f.bound = v.bound;
  v.explanation = NoLeakExplanation(v.signals, f);
}

}  // namespace

Verdict AnalyzeSeries(const series::Series& s, const AnalyzeOptions& options) {
  Verdict v;
  v.source = s.source;
  if (std::optional<Undecided> u = Unreadable(s, options)) {
    Undecidable(v, std::move(*u));
    return v;
  }
  v.signals = ReadSignals(s, options);
  if (v.signals.empty()) {
    Undecidable(v, NoSignal());
    return v;
  }
  const Reading r = ReadTogether(s, options, v.signals);
  if (!r.any_decided) {
    for (const auto& ev : v.signals) v.missing.push_back(SignalMissing(ev));
    v.decide_window_s = DecideWindow(v.signals);
    v.explanation = NothingDecided(v.signals.front(), s, v.decide_window_s);
    return v;
  }
  v.work = ExplainByWork(s, Subject(r, v.signals));
  if (r.growing != nullptr || r.workers_growing) {
    DecideLeak(options, r, v);
  } else if (r.filling != nullptr) {
    v.decide_window_s = 2 * (r.filling->t_end_s - r.filling->t_begin_s);
    Undecidable(v, KeysFilling(*r.filling, s, v.decide_window_s));
  } else if (DecideRelease(s, v)) {
    // lazy-release, or RSS kept what nothing accounts for
  } else if (r.rss_outside_unsure) {
    // 4c. RSS rises outside a heap that does not: not enough to call a leak.
    const series::GrowthEvidence& rss = *FindSignal(v.signals, series::kRssBytesColumn);
    v.decide_window_s = 2 * (rss.t_end_s - rss.t_begin_s);
    Undecidable(v, RssOutsideHeap(rss, s, v.decide_window_s));
  } else {
    DecideLevel(s, options, r, v);
  }
  return v;
}

}  // namespace leaklab::verdict
