#include "analyzers/series/growth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "analyzers/series/series.h"
#include "common/bytes.h"
#include "common/duration.h"

namespace leaklab::series {
namespace {

std::string PValue(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", p);
  return buf;
}

// Amounts and rates in the signal's unit: "4.1 MB", "4.1 MB/s"; "12 workers", "1.5 workers/s".
struct Units {
  bool bytes = true;
  std::string unit;
  std::string Amount(double x) const {
    if (bytes) return FormatBytes(x);
    char buf[48];
    const double r = std::fabs(x) >= 10 ? std::round(x) : std::round(x * 10) / 10;
    std::snprintf(buf, sizeof buf, std::fabs(r) >= 10 ? "%.0f" : "%.1f", r);
    return std::string(buf) + " " + unit + (r == 1 ? "" : "s");
  }
  std::string Rate(double per_s) const { return Amount(per_s) + "/s"; }
  // From the upper bound of a slope's interval, when that bound does not
  // matter: "it grows at most 4.3 KB/s, too little to matter" or "it does not grow".
  std::string AtMost(double slope_high) const {
    return slope_high > 0 ? "it grows at most " + Rate(slope_high) + ", too little to matter"
                          : "it does not grow";
  }
};

// The q-quantile (0..1) of `values`, by nearest rank; reorders them.
double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const auto k =
      static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(k), values.end());
  return values[k];
}

// The descriptive figures (level, noise, peaks) use at most about this many samples.
constexpr size_t kMaxDescriptiveSamples = 1'000'000;

GrowthEvidence Insufficient(GrowthEvidence ev, std::string reason) {
  ev.trend = Trend::kInsufficient;
  ev.reason = std::move(reason);
  return ev;
}

// See step 3 of AnalyzeGrowthOrThrow: the leading points of a short floor
// that sit clearly below the line of the rest; 0 when there are none.
size_t ShortWarmup(const Floor& floor, double warmup_limit_s, const GrowthOptions& options) {
  const size_t n = floor.t_s.size();
  size_t begin = 0;
  for (size_t k = 1; k < n && floor.t_s[k] <= warmup_limit_s && n - k >= options.min_samples; ++k) {
    const std::span<const double> rt(floor.t_s.data() + k, n - k),
        ry(floor.values.data() + k, n - k);
    if (rt.back() <= rt.front()) break;
    const TheilSen line = TheilSenEstimate(rt, ry);
    std::vector<double> residuals(ry.size());
    for (size_t i = 0; i < ry.size(); ++i)
      residuals[i] = ry[i] - (line.intercept + line.slope * rt[i]);
    const double center = MedianOf(residuals);
    for (double& r : residuals) r = std::fabs(r - center);
    std::vector<double> level(ry.begin(), ry.end());
    const double noise =
        std::max(1.4826 * MedianOf(residuals),
                 options.change_points.min_noise_fraction * std::fabs(MedianOf(level)));
    bool below = true;
    for (size_t i = 0; i < k && below; ++i) {
      below = floor.values[i] < line.intercept + line.slope * floor.t_s[i] - 3 * noise;
    }
    // The fill is all the growth there is: the rest does not add the
    // practical growth over its span. Otherwise the cut would only move the
    // window into the middle of a longer fill, or of a leak.
    const double practical =
        std::max(options.min_growth, options.min_relative_growth * std::fabs(MedianOf(level)));
    if (below && line.slope * (rt.back() - rt.front()) < practical) begin = k;
  }
  return begin;
}

// One-sided z for "slowed down": 2.58, a 0.5 % chance that a steady rise
// is taken for one that slows (the check runs on every growing series).
constexpr double kSlowedZ = 2.58;

// Whether (tt, ty) rises surely slower than (ht, hy), and at most half as
// fast: the difference of their Theil-Sen slopes against its standard error,
// from the pooled robust noise around each part's line (1.4826 MAD) and the
// spread of each part's times, as a least-squares slope's error is
// (sigma / sqrt(sum (t - mean t)^2)), widened by the Hamed-Rao variance
// factor of the whole window for correlated points.
bool SlowedDown(std::span<const double> ht, std::span<const double> hy, std::span<const double> tt,
                std::span<const double> ty, double variance_factor) {
  const TheilSen head = TheilSenEstimate(ht, hy), tail = TheilSenEstimate(tt, ty);
  if (!(head.slope > 0) || tail.slope > 0.5 * head.slope) return false;
  std::vector<double> residuals;
  double sxx_head = 0, sxx_tail = 0;
  auto add = [&](std::span<const double> t, std::span<const double> y, const TheilSen& fit,
                 double& sxx) {
    double mean = 0;
    for (double x : t) mean += x / static_cast<double>(t.size());
    std::vector<double> r(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      r[i] = y[i] - (fit.intercept + fit.slope * t[i]);
      sxx += (t[i] - mean) * (t[i] - mean);
    }
    const double center = MedianOf(r);
    for (double x : r) residuals.push_back(std::fabs(x - center));
  };
  add(ht, hy, head, sxx_head);
  add(tt, ty, tail, sxx_tail);
  if (!(sxx_head > 0 && sxx_tail > 0)) return false;
  const double sigma = 1.4826 * MedianOf(residuals) * std::sqrt(std::max(variance_factor, 1.0));
  const double error = sigma * std::sqrt(1 / sxx_head + 1 / sxx_tail);
  return head.slope - tail.slope > kSlowedZ * error;
}

GrowthEvidence AnalyzeGrowthOrThrow(std::string signal, std::span<const double> t_s,
                                    std::span<const double> values, const GrowthOptions& options) {
  GrowthEvidence ev;
  ev.signal = std::move(signal);
  const Units u{options.bytes, options.unit};

  // 1. The samples present (a NaN is a missing sample).
  std::vector<double> t, y;
  std::vector<size_t> rows;  // each sample's position in the input
  const size_t given = std::min(t_s.size(), values.size());
  t.reserve(given);
  y.reserve(given);
  rows.reserve(given);
  for (size_t i = 0; i < given; ++i) {
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
    if (t.size() >= 2) {
      const double spacing = (t.back() - t.front()) / static_cast<double>(t.size() - 1);
      ev.decide_window_s = spacing * static_cast<double>(options.min_samples - 1);
    }
    return Insufficient(std::move(ev), std::move(reason));
  }
  const double span_s = t.back() - t.front();

  // 2. The floor. A cycle too long for this span to floor it (a sliding
  //    minimum that would leave fewer than min_samples points) is read
  //    through the samples themselves: their spread widens the interval,
  //    where a handful of minima would decide nothing.
  ev.floor = ComputeFloor(t, y, options.floor);
  if (ev.floor.t_s.size() < options.min_samples && ev.floor.window_s > 0 &&
      t.size() >= options.min_samples) {
    FloorOptions samples_only = options.floor;
    samples_only.min_peak_correlation = 2;  // no autocorrelation reaches it: no cycle
    ev.floor = ComputeFloor(t, y, samples_only);
  }
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
  //    With a window, every points_per_window-th floor point: those whose
  //    windows do not overlap, so that no trough is counted twice.
  const size_t stride =
      floor.window_s > 0 ? static_cast<size_t>(std::max(options.floor.points_per_window, 1.0)) : 1;
  const Segmentation regimes =
      SegmentLinear(floor.t_s, floor.values, options.change_points, stride);
  //    A change is the end of warm-up only if memory was filling up before
  //    it: the regime before starts lower than the regime after, carried
  //    back to that start, by more than chance (2.5 standard errors of two
  //    line ends, noise * sqrt(4/m1 + 4/m2)). A change in noise, or a fall,
  //    is not warm-up, and skipping data before it would only pick a window
  //    that happens to trend.
  size_t begin = 0;
  const double warmup_limit_s = t.front() + options.max_warmup_fraction * span_s;
  const std::vector<size_t>& starts = regimes.starts;
  for (size_t r = 1; r < starts.size(); ++r) {
    const size_t cut = starts[r];
    ev.change_points_s.push_back(floor.t_s[cut]);
    if (floor.t_s[cut] > warmup_limit_s || floor.t_s.size() - cut < options.min_samples) continue;
    const size_t before = starts[r - 1];
    const size_t after_end = r + 1 < starts.size() ? starts[r + 1] : floor.t_s.size();
    const std::span<const double> bt(floor.t_s.data() + before, cut - before);
    const std::span<const double> by(floor.values.data() + before, cut - before);
    const std::span<const double> at(floor.t_s.data() + cut, after_end - cut);
    const std::span<const double> ay(floor.values.data() + cut, after_end - cut);
    if (bt.size() < 2 || at.size() < 2 || bt.back() <= bt.front() || at.back() <= at.front()) {
      continue;
    }
    const TheilSen pre = TheilSenEstimate(bt, by), post = TheilSenEstimate(at, ay);
    const double filled =
        (post.intercept + post.slope * bt.front()) - (pre.intercept + pre.slope * bt.front());
    const double chance =
        2.5 * regimes.noise *
        std::sqrt(4.0 / static_cast<double>(bt.size()) + 4.0 / static_cast<double>(at.size()));
    if (filled > chance) begin = cut;
  }
  //  Series too short to segment (a watch of 15 samples) still start with a
  //  fill now and then: the first samples of a process warming up. The
  //  warm-up is then the longest run of leading points, at most
  //  max_warmup_fraction of the span and leaving min_samples, that all lie
  //  below the rest's line, carried back, by more than chance (3 robust
  //  noise deviations of the rest around its line, at least
  //  min_noise_fraction of its level), where the rest itself does not grow
  //  by a practical amount. A leak's early points lie on its line.
  if (begin == 0 && floor.t_s.size() < options.change_points.min_points) {
    begin = ShortWarmup(floor, warmup_limit_s, options);
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
  // Level, noise and peaks from the samples themselves over the window; from
  // every k-th sample beyond kMaxDescriptiveSamples, which moves a median or
  // a percentile by far less than the noise and saves a second on a week of data.
  const auto first_sample =
      static_cast<size_t>(std::lower_bound(t.begin(), t.end(), ev.t_begin_s) - t.begin());
  const size_t step = (t.size() - first_sample) / kMaxDescriptiveSamples + 1;
  std::vector<double> level, residuals;
  level.reserve((t.size() - first_sample) / step + 1);
  residuals.reserve(level.capacity());
  for (size_t i = first_sample; i < t.size(); i += step) {
    level.push_back(y[i]);
    residuals.push_back(y[i] - (ev.fit.intercept + ev.fit.slope * t[i]));
  }
  ev.level_bytes = MedianOf(level);
  std::vector<double> spread = residuals;
  const double center = MedianOf(spread);
  for (double& r : spread) r = std::fabs(r - center);
  ev.noise_bytes = 1.4826 * MedianOf(spread);
  ev.peak_bytes = std::max(0.0, Quantile(residuals, 0.99));

  // 5. A trend that matters: significant, and adding at least the practical
  //    growth (min_growth, and min_relative_growth of the level) over the
  //    window.
  ev.practical_growth =
      std::max(options.min_growth, options.min_relative_growth * std::fabs(ev.level_bytes));
  auto matters = [&](double rate) { return rate * window_s >= ev.practical_growth; };
  //    The last regime, when it covers a good part of the window: its slope's
  //    upper bound (at plateau_confidence) says whether growth has stopped.
  const bool one_regime = regimes.starts.empty() || regimes.starts.back() <= begin;
  bool has_last_regime = false;
  if (!one_regime) {
    const size_t last = regimes.starts.back();
    const std::span<const double> lt(floor.t_s.data() + last, floor.t_s.size() - last);
    const std::span<const double> ly(floor.values.data() + last, floor.values.size() - last);
    if (lt.size() >= options.min_tail_samples && lt.back() > lt.front() &&
        lt.back() - lt.front() >= options.plateau_min_last_regime * window_s) {
      const RobustTrend regime = TestTrend(lt, ly, options.plateau_confidence);
      has_last_regime = true;
      ev.last_regime_begin_s = lt.front();
      ev.last_regime_slope_high_bytes_per_s = regime.fit.slope_high;
    }
  }
  const bool significant = ev.mk.p_value < options.alpha;
  if (!significant || !matters(std::fabs(ev.fit.slope))) {
    //  Not one. "Flat" needs the data to rule growth that matters out: the
    //  upper end of the slope's 95 % interval (which the Hamed-Rao variance
    //  widens for correlated data) must not matter either. Otherwise the data
    //  cannot tell a small leak from none, and says so.
    if (!matters(ev.fit.slope_high)) {
      ev.trend = Trend::kFlat;
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%",
                    ev.level_bytes > 0 ? 100 * std::fabs(ev.growth_bytes) / ev.level_bytes : 0.0);
      ev.reason = significant ? "changes only " + u.Rate(ev.fit.slope) + ", " + share +
                                    " of its level over the window: too little to matter"
                              : "no steady trend (Mann-Kendall p = " + PValue(ev.mk.p_value) +
                                    "); " + u.AtMost(ev.fit.slope_high);
      return ev;
    }
    //  It may have grown and then stopped: a step (a cache filled at once)
    //  inflates the interval of the whole window, but the regime after it
    //  can be surely flat.
    if (has_last_regime && !matters(ev.last_regime_slope_high_bytes_per_s)) {
      ev.trend = Trend::kPlateaued;
      ev.reason = "rose, then levelled off: since t = " + FormatSeconds(ev.last_regime_begin_s) +
                  " " + u.AtMost(ev.last_regime_slope_high_bytes_per_s);
      return ev;
    }
    //  How long a window would decide, at this sampling rate: the growth's
    //  interval over the window narrows as its square root, so the window
    //  that brings the half-width h down to the practical growth M is
    //  W (h / M)^2 (with a fifth more for the estimate's own error). Beyond
    //  a hundred times the window, no promise is made.
    const double half_width = (ev.fit.slope_high - ev.fit.slope) * window_s;
    if (half_width > 0 && ev.practical_growth > 0) {
      const double needed = 1.2 * window_s * std::pow(half_width / ev.practical_growth, 2);
      if (needed <= 100 * window_s) ev.decide_window_s = std::max(needed, window_s);
    }
    const double independent = static_cast<double>(ev.n) / ev.mk.variance_factor;
    std::string reason =
        (significant ? "it changes " + u.Rate(ev.fit.slope) +
                           " (Mann-Kendall p = " + PValue(ev.mk.p_value) + "), less than matters"
                     : "no steady trend shows (Mann-Kendall p = " + PValue(ev.mk.p_value) + ")") +
        ", but growth of up to " + u.Rate(ev.fit.slope_high) + " (" +
        u.Amount(ev.fit.slope_high * window_s) + " over the window, where " +
        u.Amount(ev.practical_growth) + " would matter) cannot be ruled out";
    reason += ev.mk.variance_factor > 1.5
                  ? ": its " + std::to_string(ev.n) + " points move together and count as about " +
                        std::to_string(std::lround(independent)) + " independent ones"
                  : ": " + std::to_string(ev.n) + " points are too few or too noisy for that";
    return Insufficient(std::move(ev), std::move(reason));
  }
  if (ev.fit.slope < 0) {
    ev.trend = Trend::kFalling;
    ev.reason =
        "falls " + u.Rate(-ev.fit.slope) + " (Mann-Kendall p = " + PValue(ev.mk.p_value) + ")";
    return ev;
  }

  // 6. Plateau check. A leak still grows at the end of the window; a warm-up
  //    or a cache that filled up has levelled off by then. Both are asked of
  //    the data, because a short or noisy tail can show neither:
  //  a. growth: the last third (at least min_tail_samples points) still
  //     grows, significantly, at a good share of the overall rate;
  //  b. levelling off: the last third's slope, or that of a last regime
  //     covering a good part of the window, is surely (upper bound at
  //     plateau_confidence) below that share.
  //  With neither, the regimes decide: one regime from the end of warm-up to
  //  the end is one sustained growth; otherwise the data cannot tell.
  //  0. A leak's floor does not fall. A regime in the window that falls by
  //     more than a quarter of what the window grew overall, and by more than
  //     chance allows (3.5 standard errors of a line's change over its m
  //     points, noise * sqrt(12 / m)), means the rise is a wander (memory
  //     that drifts up and down in turns), not a growth. The regime's slope is
  //     Theil-Sen, so one wild sample cannot make a fall.
  if (!regimes.starts.empty()) {
    for (size_t r = 0; r < regimes.starts.size(); ++r) {
      const size_t from = regimes.starts[r];
      const size_t to = r + 1 < regimes.starts.size() ? regimes.starts[r + 1] : floor.t_s.size();
      if (from < begin || to - from < 3) continue;
      const std::span<const double> rt(floor.t_s.data() + from, to - from);
      const std::span<const double> ry(floor.values.data() + from, to - from);
      const double fall = -TheilSenEstimate(rt, ry).slope * (rt.back() - rt.front());
      const double chance = 3.5 * regimes.noise * std::sqrt(12.0 / static_cast<double>(to - from));
      if (fall > 0.25 * ev.growth_bytes && fall > chance) {
        std::string reason = "rose " + u.Amount(ev.growth_bytes) + " overall but fell " +
                             u.Amount(fall) + " between t = " + FormatSeconds(rt.front()) +
                             " and " + FormatSeconds(rt.back()) +
                             ": it drifts up and down in turns rather than grows steadily";
        return Insufficient(std::move(ev), std::move(reason));
      }
    }
  }
  const double share = options.plateau_min_slope_share * ev.fit.slope;
  const size_t tail_n = std::min(ev.n, std::max(ev.n / 3, options.min_tail_samples));
  const std::span<const double> tt = wt.last(tail_n), ty = wy.last(tail_n);
  bool tail_growing = false, tail_stopped = false, slowed = false;
  if (tt.back() > tt.front()) {
    const RobustTrend tail = TestTrend(tt, ty, options.plateau_confidence);
    ev.tail_mk = tail.mk;
    ev.tail_slope_bytes_per_s = tail.fit.slope;
    ev.tail_slope_high_bytes_per_s = tail.fit.slope_high;
    ev.tail_begin_s = tt.front();
    tail_growing = tail.mk.p_value < options.plateau_alpha && tail.fit.slope >= share;
    tail_stopped = tail.fit.slope_high < share;
    //  c. growth in steps: a leak that grows at events (a reload every few
    //     seconds, or every hour in a day of data) is a staircase, whose last
    //     third may hold one step near its end. The Theil-Sen slope of such a
    //     tail is 0 (most pairs of points lie on one tread), which would read
    //     as levelled off. The tail's net rise says otherwise: the median of
    //     its last points over that of its first, against the same share of
    //     the overall rate over the tail's span, and beyond what noise moves
    //     a median of that many points (3.5 standard errors of a difference).
    //     Asked only of a tail that would otherwise be called levelled off.
    const size_t m = std::max<size_t>(3, tail_n / 10);
    const double net_rise = MedianOf(ty.last(m)) - MedianOf(ty.first(m));
    const double tail_span = tt.back() - tt.front();
    if (tail_stopped && net_rise >= share * tail_span &&
        net_rise > 3.5 * regimes.noise * std::sqrt(2.0 / static_cast<double>(m))) {
      tail_growing = true;
      tail_stopped = false;
      ev.tail_net_rise_bytes = net_rise;
    }
    ev.tail_growing = tail_growing;
    //  Slowed down: the last third rises at most half as fast as the first,
    //  and surely slower (SlowedDown), as a cache filling up and a heap
    //  nearing its collector's goal do; a steady leak's two ends rise alike.
    const std::span<const double> ht = wt.first(tail_n), hy = wy.first(tail_n);
    if (ht.back() > ht.front() && tail_n < ev.n) {
      if (ev.tail_net_rise_bytes > 0) {
        // Steps: their slopes say nothing; compare the thirds' net rates.
        const double head_rate =
            (MedianOf(hy.last(m)) - MedianOf(hy.first(m))) / (ht.back() - ht.front());
        slowed = ev.tail_net_rise_bytes / tail_span < 0.5 * head_rate;
      } else {
        slowed = SlowedDown(ht, hy, tt, ty, ev.mk.variance_factor);
      }
    }
  }
  // A long last regime that is level outweighs a step in the last third: one
  // late rise followed by a quarter of the window at rest (a cache resized
  // once) is not shown to go on.
  const bool regime_stopped = has_last_regime && ev.last_regime_slope_high_bytes_per_s < share;
  if (tail_stopped || regime_stopped) {
    ev.trend = Trend::kPlateaued;
    ev.reason = "grew " + u.Rate(ev.fit.slope) + ", then levelled off: ";
    ev.reason += regime_stopped
                     ? "since t = " + FormatSeconds(ev.last_regime_begin_s) + " it grows at most " +
                           u.Rate(ev.last_regime_slope_high_bytes_per_s)
                     : "the last third grows at most " + u.Rate(share) + " (its slope " +
                           u.Rate(ev.tail_slope_bytes_per_s) + ")";
    return ev;
  }
  //  One regime is one sustained growth only when it has not surely slowed
  //  down: a rise that did is not yet known to go on.
  //  A last third that still grows, but surely slower than the first, is
  //  no proof of a leak either.
  const bool tail_keeps_pace = !slowed;
  if ((!tail_growing && !one_regime) || !tail_keeps_pace) {
    ev.decide_window_s = 1.5 * window_s;
    std::string reason =
        tail_keeps_pace
            ? "grew " + u.Rate(ev.fit.slope) +
                  ", but whether it still grows at the end cannot be told: the last third "
                  "changes " +
                  u.Rate(ev.tail_slope_bytes_per_s) + " (p = " + PValue(ev.tail_mk.p_value) +
                  "), too uncertain either way"
            : "grew " + u.Rate(ev.fit.slope) + ", but slows down: the last third grows only " +
                  u.Rate(ev.tail_slope_bytes_per_s) +
                  ", and whether it levels off cannot be told yet";
    return Insufficient(std::move(ev), std::move(reason));
  }
  ev.trend = Trend::kGrowing;
  ev.reason = "grows " + u.Rate(ev.fit.slope) + " (Mann-Kendall p = " + PValue(ev.mk.p_value) + ")";
  if (ev.tail_net_rise_bytes > 0) {
    ev.reason += " and still grows in the last third, in steps (" +
                 u.Amount(ev.tail_net_rise_bytes) + " since t = " + FormatSeconds(ev.tail_begin_s) +
                 ")";
  } else {
    ev.reason += tail_growing ? " and still grows in the last third (" +
                                    u.Rate(ev.tail_slope_bytes_per_s) + ")"
                              : ", steadily from start to end, with no sign of levelling off";
  }
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

bool SlowsDown(std::span<const double> t, std::span<const double> y, double variance_factor) {
  const size_t n = std::min(t.size(), y.size()), third = n / 3;
  if (third < 2) return false;
  try {
    return SlowedDown(t.first(third), y.first(third), t.subspan(n - third, third),
                      y.subspan(n - third, third), variance_factor);
  } catch (const std::invalid_argument&) {
    return false;
  }
}

std::vector<double> DropStaleRepeats(std::span<const double> values,
                                     const StaleWitnesses& witnesses, size_t& dropped) {
  std::vector<double> out(values.begin(), values.end());
  dropped = 0;
  // Is a repeat at sample `i` of sample `j` (the finite one before) stale?
  auto stale = [&](size_t j, size_t i) {
    const std::span<const double> c = witnesses.moves_at_collection;
    if (i < c.size() && std::isfinite(c[i]) && std::isfinite(c[j])) return c[i] == c[j];
    if (witnesses.moves_when_busy.empty()) return true;
    for (std::span<const double> w : witnesses.moves_when_busy) {
      if (i < w.size() && std::isfinite(w[i]) && std::isfinite(w[j]) && w[i] != w[j]) return true;
    }
    return false;
  };
  std::vector<size_t> repeats;
  std::optional<size_t> previous;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    if (previous && values[i] == values[*previous] && stale(*previous, i)) repeats.push_back(i);
    previous = i;
  }
  for (size_t i : repeats) out[i] = std::numeric_limits<double>::quiet_NaN();
  dropped = repeats.size();
  return out;
}

double PredictLimitTime(const GrowthEvidence& evidence, double limit_bytes) {
  if (!(evidence.fit.slope > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (limit_bytes - evidence.peak_bytes - evidence.fit.intercept) / evidence.fit.slope;
}

}  // namespace leaklab::series
