#ifndef LEAKLAB_ANALYZERS_SERIES_GROWTH_H_
#define LEAKLAB_ANALYZERS_SERIES_GROWTH_H_

// Is one memory signal growing, and does it keep growing? Built on the trend
// statistics of trend.h; pure, no I/O.

#include <span>
#include <string>

#include "analyzers/series/trend.h"

namespace leaklab::series {

struct GrowthOptions {
  // Significance level of the Mann-Kendall test over the analysed window.
  double alpha = 0.01;
  // Below this rate growth is not worth calling a leak, whatever the test
  // says: 1 KiB/s is about 84 MiB a day.
  double min_growth_bytes_per_s = 1024;
  // Growth over the window must also be this fraction of the signal's level,
  // so that a few KB of drift in a flat process is not a leak.
  double min_relative_growth = 0.05;
  // The first part of the time span is warm-up (connections, pools, arenas
  // filling) and is left out of the test.
  double warmup_fraction = 0.1;
  // The plateau check looks at the last third of the window: growth there must
  // still be significant at this level and at least this share of the overall slope.
  double plateau_alpha = 0.05;
  double plateau_min_slope_share = 0.3;
  // Fewer finite samples than this: too short to say.
  size_t min_samples = 8;
  // The plateau check needs at least this many samples in its tail; a short
  // series uses its last this-many samples when a third is fewer.
  size_t min_tail_samples = 4;
  // Below this many samples, an apparent growth that is large but not
  // significant is "too short to tell", not "flat".
  size_t small_sample = 20;
};

enum class Trend {
  kInsufficient,  // too few samples
  kFlat,          // no significant, practical trend
  kFalling,       // significantly and practically decreasing
  kPlateaued,     // grew, but the last third no longer grows
  kGrowing,       // grows, and still grows at the end
};
const char* TrendName(Trend trend);

struct GrowthEvidence {
  std::string signal;
  Trend trend = Trend::kInsufficient;
  std::string reason;  // one sentence: why this trend
  size_t n = 0;        // samples in the analysed window
  double t_begin_s = 0, t_end_s = 0;
  MannKendall mk{};
  TheilSen fit{};       // slope in bytes per second
  double level_bytes = 0;   // median over the window
  double growth_bytes = 0;  // fitted slope x window length
  double noise_bytes = 0;   // robust spread of the residuals (1.4826 x MAD)
  MannKendall tail_mk{};    // last third
  double tail_slope_bytes_per_s = 0;
};

// Analyses one signal sampled at times `t_s` (strictly increasing). NaN values
// are missing samples and are skipped. Never throws: values the statistics
// cannot handle (e.g. near the limits of double) give kInsufficient. Steps:
//  1. drop missing samples and the warm-up part of the span;
//  2. Mann-Kendall test and Theil-Sen slope over the rest;
//  3. practical size: rate and growth relative to the level;
//  4. plateau check on the last third.
GrowthEvidence AnalyzeGrowth(std::string signal, std::span<const double> t_s,
                             std::span<const double> values, const GrowthOptions& options);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_GROWTH_H_
