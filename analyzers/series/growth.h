#ifndef LEAKLAB_ANALYZERS_SERIES_GROWTH_H_
#define LEAKLAB_ANALYZERS_SERIES_GROWTH_H_

// Is one memory signal growing, and does it keep growing? Built on the floor
// (floor.h), regime changes (change_point.h) and the trend statistics of
// trend.h; pure, no I/O.

#include <span>
#include <string>
#include <vector>

#include "analyzers/series/change_point.h"
#include "analyzers/series/floor.h"
#include "analyzers/series/trend.h"

namespace leaklab::series {

struct GrowthOptions {
  // Significance level of the (Hamed-Rao corrected) Mann-Kendall test over
  // the analysed window.
  double alpha = 0.01;
  // What growth "matters": over the analysed window it adds at least
  // min_relative_growth of the signal's level and at least min_growth (in
  // the signal's unit: bytes, or workers). Both scale with the window: a day
  // of data judges a slow rise by what it adds in a day, 30 s of data by what
  // it adds in 30 s, so a slow leak is found in long data without a fixed
  // bytes-per-second floor that a long window would make blind. Below both,
  // growth is not worth calling a leak, whatever the test says; and a signal
  // is "flat" only when the upper end of its growth's 95 % interval is below
  // them too, else the data cannot tell and say so.
  // 5 % of the level: less is the drift of a flat process (pools, page
  // cache, fragmentation) over any window.
  double min_relative_growth = 0.05;
  // 256 KiB: 64 pages, below which memory figures move by page-granular
  // noise alone. For worker counts AnalyzeSeries uses a few workers.
  double min_growth = 256 * 1024;
  // The signal counts bytes (reasons say "4.1 MB/s") or things ("12 workers/s").
  bool bytes = true;
  std::string unit = "worker";  // the thing counted when !bytes
  // Warm-up (pools, arenas, caches filling) ends at the last change of regime
  // in the floor within this leading share of the span; the test starts
  // there. Changes later than that are the signal's own behaviour (a leak
  // that grows in steps changes regime at every step) and are judged by the
  // plateau check instead.
  // A third: warm-up longer than that means the run is too short to have
  // seen the steady state, and the test keeps at least two thirds of it.
  double max_warmup_fraction = 1.0 / 3;
  // The plateau check. Still growing: the last third grows significantly at
  // this level, at least at this share of the overall slope. Levelled off:
  // the last third's slope, or a last regime's covering at least
  // plateau_min_last_regime of the window, is surely below that share: the
  // upper end of its two-sided interval at plateau_confidence. 99 % rather
  // than 95 %: the check looks at two parts of every growing series, and
  // calling a leak "levelled off" is the mistake that matters most.
  double plateau_alpha = 0.05;
  double plateau_min_slope_share = 0.3;
  double plateau_min_last_regime = 0.25;
  double plateau_confidence = 0.99;
  // Fewer finite samples than this: too short to say.
  size_t min_samples = 8;
  // The plateau check needs at least this many points in its tail; a short
  // series uses its last this-many points when a third is fewer. Six points
  // are the fewest in which a steady rise can be significant at 5 %.
  size_t min_tail_samples = 6;
  FloorOptions floor;
  ChangePointOptions change_points;
};

enum class Trend {
  kInsufficient,  // too few samples, or data that cannot be analysed
  kFlat,          // no significant, practical trend
  kFalling,       // significantly and practically decreasing
  kPlateaued,     // grew, but no longer grows at the end
  kGrowing,       // grows, and still grows at the end
};
const char* TrendName(Trend trend);

struct GrowthEvidence {
  std::string signal;
  Trend trend = Trend::kInsufficient;
  std::string reason;                 // one plain sentence: why this trend
  size_t samples = 0;                 // finite samples of the signal
  size_t stale_repeats = 0;           // samples left out as repeats (DropStaleRepeats)
  size_t n = 0;                       // floor points in the analysed window
  double t_begin_s = 0, t_end_s = 0;  // the analysed window (after warm-up)
  // How the floor was taken (floor.h).
  size_t block = 1;           // samples per block minimum (long series)
  double period_s = 0;        // the cycle found in the signal, 0 when none
  double floor_window_s = 0;  // sliding-minimum window, 0 when the floor is the samples
  // Regime changes found in the floor (times), and the warm-up skipped.
  std::vector<double> change_points_s;
  bool warmup_skipped = false;
  MannKendall mk{};         // Hamed-Rao corrected, on the floor in the window
  TheilSen fit{};           // floor slope in bytes per second, interval from mk's variance
  double level_bytes = 0;   // median of the samples in the window
  double growth_bytes = 0;  // fitted slope x window length
  double noise_bytes = 0;   // robust spread of the samples around the line (1.4826 x MAD)
  double peak_bytes = 0;    // how far the samples rise above the floor line (99th percentile)
  // The practical size over this window (max of min_growth and
  // min_relative_growth x level): what "matters" meant for this signal.
  double practical_growth = 0;
  // When the data cannot decide (kInsufficient) for want of precision: the
  // window length, from the first analysed sample, at which the growth's
  // interval would be narrow enough to rule practical growth in or out at
  // the same sampling rate (the interval of a slope narrows as the window's
  // power 3/2, its growth over the window as the power 1/2). 0 when unknown.
  double decide_window_s = 0;
  // The plateau check.
  MannKendall tail_mk{};  // last third of the window
  double tail_slope_bytes_per_s = 0;
  double tail_slope_high_bytes_per_s = 0;  // its upper bound at plateau_confidence
  double tail_begin_s = 0;                 // where the last third starts
  bool tail_growing = false;  // the last third grows significantly, at a good share of the slope
  // When the last third grew in steps (its slope says level, its ends do
  // not): the rise from its first points to its last; 0 otherwise.
  double tail_net_rise_bytes = 0;
  double last_regime_begin_s = 0;                 // 0 when no last regime was judged
  double last_regime_slope_high_bytes_per_s = 0;  // its slope's upper 95 % bound
  // The floor itself (all of it, warm-up included), for regressions on it;
  // floor.index holds positions in the input given to AnalyzeGrowth.
  Floor floor;
};

// Analyses one signal sampled at times `t_s`. NaN values are missing samples
// and are skipped. Never throws: data the statistics cannot handle (time that
// does not increase, values near the limits of double) give kInsufficient
// with the reason. Steps:
//  1. drop missing samples;
//  2. the floor (block minima for long series, sliding minimum over the
//     cycle when there is one);
//  3. regimes of the floor; the test window starts at the last change within
//     the first max_warmup_fraction of the span (the end of warm-up);
//  4. Hamed-Rao Mann-Kendall test and Theil-Sen slope with Sen's interval
//     over the window;
//  5. practical size: rate and growth relative to the level; flat only when
//     the slope's interval rules practical growth out, else kInsufficient;
//  6. growth must be steady: no regime in the window falls by more than a
//     quarter of the rise and more than chance allows (else kInsufficient:
//     a wander);
//     plateau check: no sign that growth levelled off (in the last third or
//     a long last regime), and either the last third still grows or the
//     window is one regime; when neither can be told, kInsufficient.
GrowthEvidence AnalyzeGrowth(std::string signal, std::span<const double> t_s,
                             std::span<const double> values, const GrowthOptions& options);

// A figure that a program refreshes only at certain moments repeats itself,
// exactly, between them: Go's heap profile reports the heap as of the last
// garbage collection (runtime/pprof: "the most recently completed garbage
// collection"), a JVM's heap-after-GC gauge likewise. Sampled faster than
// collections happen, its series is a staircase whose repeated samples are
// not observations, and whose last step is level only because no collection
// came since. Returns the values with every stale repeat made missing (NaN),
// keeping the first sample of every step, and sets `dropped` to their
// number. What says a repeat is stale, best first:
struct StaleWitnesses {
  // A figure that moves at every collection (the profile's own cumulative
  // alloc_space, frozen with inuse between collections): the repeat is
  // stale when it stood still too, and real (the sampled live set came out
  // the same after a collection) when it moved.
  std::span<const double> moves_at_collection;
  // Without it, live figures sampled at the same times (RSS, a request
  // counter): the repeat is stale when one of them moved, since a busy
  // process's heap would have; an idle process, whose every figure stands
  // still, repeats for real. With neither, every repeat is stale.
  std::vector<std::span<const double>> moves_when_busy;
};
// For figures known to be reported so (AnalyzeSeries reads Go's heap this
// way): a live figure can repeat a byte count for real, between requests.
std::vector<double> DropStaleRepeats(std::span<const double> values,
                                     const StaleWitnesses& witnesses, size_t& dropped);

// True when y(t) rises, and its last third rises at most half as fast as
// its first third and surely slower (a one-sided 0.5 % test of the two
// Theil-Sen slopes against the pooled robust noise). What a filling cache
// or a counter of distinct keys over a bounded key space does; a steady
// rise's two ends rise alike. Needs two points in each third at least.
bool SlowsDown(std::span<const double> t, std::span<const double> y, double variance_factor = 1);

// When the signal's peaks (the floor line plus peak_bytes) reach `limit_bytes`
// at the fitted slope: a time in the series' clock, or NaN when it does not
// grow.
double PredictLimitTime(const GrowthEvidence& evidence, double limit_bytes);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_GROWTH_H_
