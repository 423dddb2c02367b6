#include "analyzers/series/growth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "analyzers/series/series.h"
#include "analyzers/series/units.h"

namespace leaklab::series {
namespace {

std::string PValue(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", p);
  return buf;
}

std::string Rate(double bytes_per_s) { return FormatBytes(bytes_per_s) + "/s"; }

// The q-quantile (0..1) of `values`, by nearest rank; reorders them.
double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const auto k =
      static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(k), values.end());
  return values[k];
}

// Smallest two-sided Mann-Kendall p a perfectly monotone run of n points can
// reach (S = n(n-1)/2, no ties, continuity-corrected): below n = 6 it is
// above 5 %, so a tail that short cannot show growth whatever it does.
double MinimumPValue(size_t n) {
  if (n < 2) return 1;
  const double nd = static_cast<double>(n);
  const double s = nd * (nd - 1) / 2;
  const double var = nd * (nd - 1) * (2 * nd + 5) / 18;
  return std::erfc((s - 1) / std::sqrt(var) / std::sqrt(2.0));
}

GrowthEvidence Insufficient(GrowthEvidence ev, std::string reason) {
  ev.trend = Trend::kInsufficient;
  ev.reason = std::move(reason);
  return ev;
}

GrowthEvidence AnalyzeGrowthOrThrow(std::string signal, std::span<const double> t_s,
                                    std::span<const double> values, const GrowthOptions& options) {
  GrowthEvidence ev;
  ev.signal = std::move(signal);

  // 1. The samples present (a NaN is a missing sample).
  std::vector<double> t, y;
  std::vector<size_t> rows;  // each sample's position in the input
  for (size_t i = 0; i < t_s.size() && i < values.size(); ++i) {
    if (std::isfinite(values[i]) && std::isfinite(t_s[i])) {
      t.push_back(t_s[i]);
      y.push_back(values[i]);
      rows.push_back(i);
    }
  }
  ev.samples = t.size();
  if (!IsStrictlyIncreasing(t)) {
    return Insufficient(std::move(ev), "its samples are not in time order (t_s must increase)");
  }
  if (t.size() < options.min_samples) {
    std::string reason = "only " + std::to_string(t.size()) + " samples; at least " +
                         std::to_string(options.min_samples) + " are needed";
    return Insufficient(std::move(ev), std::move(reason));
  }
  const double span_s = t.back() - t.front();

  // 2. The floor.
  ev.floor = ComputeFloor(t, y, options.floor);
  for (size_t& i : ev.floor.index) i = rows[i];
  const Floor& floor = ev.floor;
  ev.block = floor.block;
  ev.period_s = floor.period_s;
  ev.floor_window_s = floor.window_s;
  if (floor.t_s.size() < options.min_samples) {
    std::string reason =
        "only " + std::to_string(floor.t_s.size()) + " points left after taking the floor";
    return Insufficient(std::move(ev), std::move(reason));
  }

  // 3. Regimes; warm-up ends at the last change early enough in the span.
  size_t stride = 1;
  if (floor.window_s > 0 && floor.t_s.size() > 1) {
    const double spacing =
        (floor.t_s.back() - floor.t_s.front()) / static_cast<double>(floor.t_s.size() - 1);
    stride = std::max<size_t>(1, static_cast<size_t>(floor.window_s / spacing));
  }
  const Segmentation regimes =
      SegmentLinear(floor.t_s, floor.values, options.change_points, stride);
  size_t begin = 0;
  const double warmup_limit_s = t.front() + options.max_warmup_fraction * span_s;
  for (size_t start : regimes.starts) {
    if (start == 0) continue;
    ev.change_points_s.push_back(floor.t_s[start]);
    if (floor.t_s[start] <= warmup_limit_s && floor.t_s.size() - start >= options.min_samples) {
      begin = start;
    }
  }
  ev.warmup_skipped = begin > 0;
  const std::span<const double> wt(floor.t_s.data() + begin, floor.t_s.size() - begin);
  const std::span<const double> wy(floor.values.data() + begin, floor.values.size() - begin);
  ev.n = wt.size();
  ev.t_begin_s = wt.front();
  ev.t_end_s = wt.back();
  const double window_s = ev.t_end_s - ev.t_begin_s;

  // 4. Is there a monotonic trend in the floor, and how steep is it?
  const RobustTrend overall = TestTrend(wt, wy);
  ev.mk = overall.mk;
  ev.fit = overall.fit;
  ev.growth_bytes = ev.fit.slope * window_s;
  // Level, noise and peaks from the samples themselves over the window.
  const auto first_sample =
      static_cast<size_t>(std::lower_bound(t.begin(), t.end(), ev.t_begin_s) - t.begin());
  std::vector<double> level(y.begin() + static_cast<ptrdiff_t>(first_sample), y.end());
  std::vector<double> residuals;
  for (size_t i = first_sample; i < t.size(); ++i) {
    residuals.push_back(y[i] - (ev.fit.intercept + ev.fit.slope * t[i]));
  }
  ev.level_bytes = MedianOf(level);
  std::vector<double> spread = residuals;
  const double center = MedianOf(spread);
  for (double& r : spread) r = std::fabs(r - center);
  ev.noise_bytes = 1.4826 * MedianOf(spread);
  ev.peak_bytes = std::max(0.0, Quantile(residuals, 0.99));

  // 5. Significant, and large enough to matter.
  const bool significant = ev.mk.p_value < options.alpha;
  const double relative = ev.level_bytes > 0 ? std::fabs(ev.growth_bytes) / ev.level_bytes : 0;
  const bool practical = std::fabs(ev.fit.slope) >= options.min_growth_bytes_per_s &&
                         relative >= options.min_relative_growth;
  const double independent = static_cast<double>(ev.n) / ev.mk.variance_factor;
  if (!significant && practical && independent < static_cast<double>(options.small_sample)) {
    const std::string how_many =
        ev.mk.variance_factor > 1.5
            ? "its " + std::to_string(ev.n) + " points move together so much that they count as " +
                  "about " + std::to_string(static_cast<long>(std::lround(independent))) +
                  " independent ones"
            : "there are only " + std::to_string(ev.n) + " points";
    std::string reason = "a change of " + Rate(ev.fit.slope) + " would matter, but " + how_many +
                         ", too few to show it is real (Mann-Kendall p = " + PValue(ev.mk.p_value) +
                         ")";
    return Insufficient(std::move(ev), std::move(reason));
  }
  if (!significant || !practical) {
    ev.trend = Trend::kFlat;
    if (!significant) {
      ev.reason = "no steady trend (Mann-Kendall p = " + PValue(ev.mk.p_value) + ")";
    } else {
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%", 100 * relative);
      ev.reason = "changes only " + Rate(ev.fit.slope) + ", " + share +
                  " of its level over the window: too little to matter";
    }
    return ev;
  }
  if (ev.fit.slope < 0) {
    ev.trend = Trend::kFalling;
    ev.reason =
        "falls " + Rate(-ev.fit.slope) + " (Mann-Kendall p = " + PValue(ev.mk.p_value) + ")";
    return ev;
  }

  // 6. Plateau check. A leak still grows at the end of the window; a warm-up
  //    or a cache that filled up has levelled off by then.
  //  a. The last third (at least min_tail_samples points) still grows,
  //     significantly, at a good share of the overall rate. A tail too short
  //     to be significant even when it rises at every point is judged by its
  //     slope alone.
  const size_t tail_n = std::min(ev.n, std::max(ev.n / 3, options.min_tail_samples));
  const std::span<const double> tt = wt.last(tail_n), ty = wy.last(tail_n);
  bool tail_growing = false;
  if (tt.back() > tt.front()) {
    const RobustTrend tail = TestTrend(tt, ty);
    ev.tail_mk = tail.mk;
    ev.tail_slope_bytes_per_s = tail.fit.slope;
    const bool can_be_significant = MinimumPValue(tail_n) < options.plateau_alpha;
    tail_growing = (!can_be_significant || tail.mk.p_value < options.plateau_alpha) &&
                   tail.fit.slope > 0 &&
                   tail.fit.slope >= options.plateau_min_slope_share * ev.fit.slope;
  }
  //  b. A long last regime (from the last change point) has not clearly
  //     stopped: its slope's upper bound is still a good share of the rate.
  bool last_regime_stopped = false;
  if (!regimes.starts.empty() && regimes.starts.back() > begin) {
    const size_t last = regimes.starts.back();
    const std::span<const double> lt(floor.t_s.data() + last, floor.t_s.size() - last);
    const std::span<const double> ly(floor.values.data() + last, floor.values.size() - last);
    if (lt.size() >= options.min_tail_samples && lt.back() > lt.front() &&
        lt.back() - lt.front() >= options.plateau_min_last_regime * window_s) {
      const RobustTrend regime = TestTrend(lt, ly);
      ev.last_regime_begin_s = lt.front();
      ev.last_regime_slope_high_bytes_per_s = regime.fit.slope_high;
      last_regime_stopped = regime.fit.slope_high < options.plateau_min_slope_share * ev.fit.slope;
    }
  }
  if (!tail_growing || last_regime_stopped) {
    ev.trend = Trend::kPlateaued;
    ev.reason = "grew " + Rate(ev.fit.slope) + ", then levelled off: ";
    ev.reason += last_regime_stopped
                     ? "since t = " + FormatDuration(ev.last_regime_begin_s) +
                           " it grows at most " + Rate(ev.last_regime_slope_high_bytes_per_s)
                     : "the last third changes " + Rate(ev.tail_slope_bytes_per_s) +
                           " (p = " + PValue(ev.tail_mk.p_value) + ")";
    return ev;
  }
  ev.trend = Trend::kGrowing;
  ev.reason = "grows " + Rate(ev.fit.slope) + " (Mann-Kendall p = " + PValue(ev.mk.p_value) +
              ") and still grows in the last third (" + Rate(ev.tail_slope_bytes_per_s) + ")";
  return ev;
}

}  // namespace

const char* TrendName(Trend trend) {
  switch (trend) {
    case Trend::kInsufficient:
      return "insufficient";
    case Trend::kFlat:
      return "flat";
    case Trend::kFalling:
      return "falling";
    case Trend::kPlateaued:
      return "plateaued";
    case Trend::kGrowing:
      return "growing";
  }
  return "?";
}

GrowthEvidence AnalyzeGrowth(std::string signal, std::span<const double> t_s,
                             std::span<const double> values, const GrowthOptions& options) {
  try {
    return AnalyzeGrowthOrThrow(signal, t_s, values, options);
  } catch (const std::invalid_argument& e) {
    GrowthEvidence ev;
    ev.signal = std::move(signal);
    return Insufficient(std::move(ev), std::string("the values cannot be analysed: ") + e.what());
  }
}

double PredictLimitTime(const GrowthEvidence& evidence, double limit_bytes) {
  if (!(evidence.fit.slope > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (limit_bytes - evidence.peak_bytes - evidence.fit.intercept) / evidence.fit.slope;
}

}  // namespace leaklab::series
