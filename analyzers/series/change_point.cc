#include "analyzers/series/change_point.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analyzers/series/trend.h"

namespace leaklab::series {
namespace {

// Neighbourhood of the running median the points are clipped around: wide
// enough that one or two wild samples cannot move it, narrow enough to
// follow a change of regime within a few points.
constexpr size_t kMedianWidth = 7;

// Prefix sums of the centred, scaled points, for the RSS of the least-squares
// line through any run [a, b) in O(1). long double: the sums of squares of a
// few thousand points lose digits in double when a segment's RSS is a small
// difference of large sums.
class LineCost {
 public:
  LineCost(const std::vector<double>& t, const std::vector<double>& y) {
    const size_t n = t.size();
    sx_.assign(n + 1, 0);
    sy_ = sxx_ = sxy_ = syy_ = sx_;
    for (size_t i = 0; i < n; ++i) {
      const long double x = t[i], v = y[i];
      sx_[i + 1] = sx_[i] + x;
      sy_[i + 1] = sy_[i] + v;
      sxx_[i + 1] = sxx_[i] + x * x;
      sxy_[i + 1] = sxy_[i] + x * v;
      syy_[i + 1] = syy_[i] + v * v;
    }
  }

  // Residual sum of squares of the least-squares line through [a, b).
  double Rss(size_t a, size_t b) const {
    const auto m = static_cast<long double>(b - a);
    const long double sx = sx_[b] - sx_[a], sy = sy_[b] - sy_[a];
    const long double cxx = (sxx_[b] - sxx_[a]) - sx * sx / m;
    const long double cxy = (sxy_[b] - sxy_[a]) - sx * sy / m;
    const long double cyy = (syy_[b] - syy_[a]) - sy * sy / m;
    const long double rss = cxx > 0 ? cyy - cxy * cxy / cxx : cyy;
    return static_cast<double>(std::max<long double>(rss, 0));
  }

 private:
  std::vector<long double> sx_, sy_, sxx_, sxy_, syy_;
};

}  // namespace

Segmentation SegmentLinear(std::span<const double> t_s, std::span<const double> y,
                           const ChangePointOptions& options, size_t stride) {
  if (t_s.size() != y.size()) {
    throw std::invalid_argument("change points: t_s and y differ in length");
  }
  Segmentation result;
  const size_t n = y.size();
  if (n == 0) return result;
  result.starts.push_back(0);

  // 1. Decimate: every d-th point.
  const size_t d = std::max(
      {size_t{1}, stride,
       options.max_points > 0 ? (n + options.max_points - 1) / options.max_points : size_t{1}});
  std::vector<size_t> at;  // input index of each searched point
  for (size_t i = 0; i < n; i += d) at.push_back(i);
  const size_t m = at.size();
  const size_t min_len = std::max(
      options.min_segment,
      static_cast<size_t>(std::ceil(options.min_segment_fraction * static_cast<double>(m))));
  if (m < 2 * min_len || m < options.min_points) return result;

  // 2. Centre and scale, so the sums stay small whatever the units.
  std::vector<double> t(m), v(m);
  for (size_t i = 0; i < m; ++i) {
    t[i] = t_s[at[i]];
    v[i] = y[at[i]];
  }
  const double t_mid = t[m / 2], t_scale = std::max(t.back() - t.front(), 1e-300);
  std::vector<double> sorted = v;
  const double level = MedianOf(sorted);
  for (size_t i = 0; i < m; ++i) {
    t[i] = (t[i] - t_mid) / t_scale;
    v[i] -= level;
  }

  // 3. The noise, from second differences (a line has none; a change of
  //    regime makes a few large ones, which the median ignores).
  std::vector<double> d2;
  for (size_t i = 2; i < m; ++i) d2.push_back(std::fabs(v[i] - 2 * v[i - 1] + v[i - 2]));
  double sigma = 1.4826 * MedianOf(d2) / std::sqrt(6.0);
  sigma = std::max(
      {sigma, options.min_noise_fraction * std::fabs(level), std::numeric_limits<double>::min()});
  result.noise = sigma;
  // 3b. Hold each point within clip_deviations sigma of its neighbours' median.
  {
    const std::vector<double> raw = v;
    std::vector<double> around;
    for (size_t i = 0; i < m; ++i) {
      const size_t from = i >= kMedianWidth / 2 ? i - kMedianWidth / 2 : 0;
      const size_t to = std::min(m, i + kMedianWidth / 2 + 1);
      around.assign(raw.begin() + static_cast<ptrdiff_t>(from),
                    raw.begin() + static_cast<ptrdiff_t>(to));
      const double local = MedianOf(around);
      const double limit = options.clip_deviations * sigma;
      v[i] = std::clamp(raw[i], local - limit, local + limit);
    }
  }
  for (double& x : v) x /= sigma;

  // 4. Optimal partitioning: best[e] is the least cost of [0, e) cut into
  //    segments of at least min_len; last[e] where its last segment starts.
  //    Every start is tried: PELT's pruning is not safe with a minimum
  //    segment length, and at max_points the full O(m^2) search is cheap.
  const LineCost cost(t, v);
  const double penalty = options.penalty_per_log_n * std::log(static_cast<double>(m));
  const double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> best(m + 1, kInf);
  std::vector<size_t> last(m + 1, 0);
  best[0] = -penalty;
  std::vector<size_t> candidates;
  for (size_t e = min_len; e <= m; ++e) {
    // The start e - min_len becomes usable once a full segment fits after it.
    const size_t fresh = e - min_len;
    if (fresh == 0 || (fresh >= min_len && best[fresh] < kInf)) candidates.push_back(fresh);
    double best_cost = kInf;
    size_t best_start = 0;
    for (size_t s : candidates) {
      const double c = best[s] + cost.Rss(s, e) + penalty;
      if (c < best_cost) {
        best_cost = c;
        best_start = s;
      }
    }
    best[e] = best_cost;
    last[e] = best_start;
  }

  // 5. Walk the cuts back from the end, mapped to input indices.
  std::vector<size_t> cuts;
  for (size_t e = m; last[e] > 0; e = last[e]) cuts.push_back(at[last[e]]);
  std::reverse(cuts.begin(), cuts.end());
  result.starts.insert(result.starts.end(), cuts.begin(), cuts.end());
  return result;
}

}  // namespace leaklab::series
