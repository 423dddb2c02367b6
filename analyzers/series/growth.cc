#include "analyzers/series/growth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace leaklab::series {
namespace {


std::string Format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

}  // namespace

namespace {
GrowthEvidence AnalyzeGrowthOrThrow(std::string signal, std::span<const double> t_s,
                                    std::span<const double> values, const GrowthOptions& options);
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
    ev.trend = Trend::kInsufficient;
    ev.reason = std::string("the values cannot be analysed: ") + e.what();
    return ev;
  }
}

namespace {

GrowthEvidence AnalyzeGrowthOrThrow(std::string signal, std::span<const double> t_s,
                                    std::span<const double> values, const GrowthOptions& options) {
  GrowthEvidence ev;
  ev.signal = std::move(signal);

  // Step 1: finite samples, then skip warm-up unless that leaves too few.
  std::vector<double> t, y;
  for (size_t i = 0; i < t_s.size() && i < values.size(); ++i) {
    if (std::isfinite(values[i])) {
      t.push_back(t_s[i]);
      y.push_back(values[i]);
    }
  }
  if (t.size() >= 2) {
    double cut = t.front() + options.warmup_fraction * (t.back() - t.front());
    size_t first = std::lower_bound(t.begin(), t.end(), cut) - t.begin();
    if (t.size() - first >= options.min_samples) {
      t.erase(t.begin(), t.begin() + first);
      y.erase(y.begin(), y.begin() + first);
    }
  }
  ev.n = t.size();
  if (ev.n < options.min_samples || t.back() <= t.front()) {
    ev.trend = Trend::kInsufficient;
    ev.reason = Format("only %.0f usable samples; at least %.0f are needed", double(ev.n),
                       double(options.min_samples));
    return ev;
  }
  ev.t_begin_s = t.front();
  ev.t_end_s = t.back();
  const double span_s = ev.t_end_s - ev.t_begin_s;

  // Step 2: is there a monotonic trend, and how steep is it?
  ev.mk = MannKendallTest(y);
  ev.fit = TheilSenEstimate(t, y);
  ev.level_bytes = MedianOf(y);
  ev.growth_bytes = ev.fit.slope * span_s;
  std::vector<double> residuals(y.size());
  for (size_t i = 0; i < y.size(); ++i) residuals[i] = y[i] - (ev.fit.intercept + ev.fit.slope * t[i]);
  double center = MedianOf(residuals);
  for (double& r : residuals) r = std::fabs(r - center);
  ev.noise_bytes = 1.4826 * MedianOf(residuals);

  // Step 3: significant and large enough to matter.
  const bool significant = ev.mk.p_value < options.alpha;
  const double relative = ev.level_bytes > 0 ? std::fabs(ev.growth_bytes) / ev.level_bytes : 0;
  const bool practical = std::fabs(ev.fit.slope) >= options.min_growth_bytes_per_s &&
                         relative >= options.min_relative_growth;
  if (!significant && practical && ev.n < options.small_sample) {
    ev.trend = Trend::kInsufficient;
    ev.reason = Format("a growth of %.0f B/s would matter, but %.0f samples cannot show it is real "
                       "(Mann-Kendall p = %.3g)",
                       ev.fit.slope, double(ev.n), ev.mk.p_value);
    return ev;
  }
  if (!significant || !practical) {
    ev.trend = Trend::kFlat;
    ev.reason = !significant
                    ? Format("no significant trend (Mann-Kendall p = %.3g)", ev.mk.p_value)
                    : Format("trend too small to matter: %.0f B/s, %.1f%% of the level",
                             ev.fit.slope, 100 * relative);
    return ev;
  }
  if (ev.fit.slope < 0) {
    ev.trend = Trend::kFalling;
    ev.reason = Format("falls %.0f B/s (Mann-Kendall p = %.3g)", -ev.fit.slope, ev.mk.p_value);
    return ev;
  }

  // Step 4: plateau check. A leak keeps growing at the end of the window; a
  // warm-up or a cache that filled up has levelled off by then.
  const size_t tail_n = std::max(ev.n / 3, std::min(options.min_tail_samples, ev.n));
  const size_t tail = ev.n - tail_n;
  std::span<const double> tt(t.data() + tail, t.size() - tail), ty(y.data() + tail, y.size() - tail);
  ev.tail_mk = MannKendallTest(ty);
  ev.tail_slope_bytes_per_s = tt.back() > tt.front() ? TheilSenEstimate(tt, ty).slope : 0;
  const bool tail_growing = ev.tail_mk.p_value < options.plateau_alpha && ev.tail_slope_bytes_per_s > 0 &&
                            ev.tail_slope_bytes_per_s >= options.plateau_min_slope_share * ev.fit.slope;
  if (!tail_growing) {
    ev.trend = Trend::kPlateaued;
    ev.reason = Format("grew %.0f B/s, then levelled off: last third %.0f B/s (p = %.3g)",
                       ev.fit.slope, ev.tail_slope_bytes_per_s, ev.tail_mk.p_value);
    return ev;
  }
  ev.trend = Trend::kGrowing;
  ev.reason = Format("grows %.0f B/s (Mann-Kendall p = %.3g) and still grows in the last third (%.0f B/s)",
                     ev.fit.slope, ev.mk.p_value, ev.tail_slope_bytes_per_s);
  return ev;
}

}  // namespace

}  // namespace leaklab::series
