#include "analyzers/series/trend.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/series/autocorrelation.h"
#include "analyzers/series/slope_selection.h"

namespace leaklab::series {
namespace {

// Two-sided 95%: the 0.975 quantile of the standard normal distribution.
constexpr double kZ975 = 1.959963984540054;

void RequireAtLeastTwo(size_t n, const char* what) {
  if (n < 2) {
    throw std::invalid_argument(std::string(what) + " needs at least 2 points, got " +
                                std::to_string(n));
  }
}

void RequireFinite(std::span<const double> values, const char* what, const char* name) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw std::invalid_argument(std::string(what) + ": " + name + "[" + std::to_string(i) +
                                  "] is " + (std::isnan(values[i]) ? "NaN" : "infinite") +
                                  "; drop missing samples before the call");
    }
  }
}

void RequireSameSize(std::span<const double> x, std::span<const double> y, const char* what) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(std::string(what) + ": x has " + std::to_string(x.size()) +
                                " points but y has " + std::to_string(y.size()));
  }
}

void RequireSpreadX(std::span<const double> x, const char* what) {
  const auto [low, high] = std::minmax_element(x.begin(), x.end());
  if (*low == *high) {
    throw std::invalid_argument(std::string(what) + ": all x are equal (" + std::to_string(*low) +
                                "), so no slope is defined");
  }
}

// Sorts `values` ascending and returns the number of inversions, the pairs
// i < j with values[i] > values[j] (equal values are not inversions).
// Bottom-up merge sort, merging between two buffers to avoid copying back.
uint64_t SortCountingInversions(std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<double> merged(n);
  uint64_t inversions = 0;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n);
      const size_t hi = std::min(lo + 2 * width, n);
      size_t i = lo;
      size_t j = mid;
      size_t k = lo;
      while (i < mid && j < hi) {
        // On a tie the left (earlier) element goes first: ties are not inversions.
        if (values[j] < values[i]) {
          // values[j] is smaller than every element still waiting on the left.
          inversions += mid - i;
          merged[k++] = values[j++];
        } else {
          merged[k++] = values[i++];
        }
      }
      k = std::copy(values.begin() + i, values.begin() + mid, merged.begin() + k) - merged.begin();
      std::copy(values.begin() + j, values.begin() + hi, merged.begin() + k);
    }
    values.swap(merged);
  }
  return inversions;
}

// t(t-1)(2t+5), the term of Var(S) for a group of t equal values (Kendall 1975).
// long double: for a million points the terms reach 2e18, beyond the 2^53 that
// a double holds exactly, and Var(S) is a difference of such terms.
long double VarianceTerm(size_t t) {
  const auto lt = static_cast<long double>(t);
  return lt * (lt - 1) * (2 * lt + 5);
}

struct TieSummary {
  uint64_t tied_pairs = 0;  // sum over groups of t(t-1)/2
  long double var_s = 0;    // tie-corrected Var(S)
};

// Walks the runs of equal values in an ascending sequence to get the tied pairs
// and the tie-corrected variance of S:
//   Var(S) = [n(n-1)(2n+5) - sum_groups t(t-1)(2t+5)] / 18.
TieSummary SummarizeTies(const std::vector<double>& sorted) {
  const size_t n = sorted.size();
  TieSummary summary;
  long double tie_terms = 0;
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && sorted[end] == sorted[start]) ++end;
    const size_t t = end - start;
    if (t > 1) {
      summary.tied_pairs += static_cast<uint64_t>(t) * (t - 1) / 2;
      tie_terms += VarianceTerm(t);
    }
    start = end;
  }
  // Exact integers in long double, so a constant series gives exactly 0.
  summary.var_s = std::max<long double>(0, (VarianceTerm(n) - tie_terms) / 18);
  return summary;
}

// The value of 1-based fractional rank `rank` among `values`, interpolating
// linearly between neighbouring order statistics. Reorders `values`; O(size).
double ValueAtRank(std::vector<double>& values, double rank) {
  const double floor_rank = std::floor(rank);
  const auto k = static_cast<size_t>(floor_rank) - 1;
  std::nth_element(values.begin(), values.begin() + k, values.end());
  const double low = values[k];
  const double fraction = rank - floor_rank;
  if (fraction == 0 || k + 1 >= values.size()) return low;
  // After nth_element every element past k is >= values[k]; the least of them
  // is the next order statistic.
  const double high = *std::min_element(values.begin() + k + 1, values.end());
  return low + fraction * (high - low);
}

double Median(std::vector<double>& values) {
  return ValueAtRank(values, (static_cast<double>(values.size()) + 1) / 2);
}

}  // namespace

MannKendall MannKendallTest(std::span<const double> y) {
  const size_t n = y.size();
  RequireAtLeastTwo(n, "Mann-Kendall test");
  RequireFinite(y, "Mann-Kendall test", "y");

  // Knight (1966), "A computer method for calculating Kendall's tau with
  // ungrouped data", JASA 61(314), specialised to x = time index.
  // 1. Sort the pairs (x, y) by x. Time is already in order and has no ties,
  //    so there are no ties in x and no joint ties in (x, y).
  // 2. Merge-sort y, counting the swaps: each is a discordant pair, i < j with
  //    y[i] > y[j]. Equal values are never swapped, so ties are not counted.
  std::vector<double> sorted(y.begin(), y.end());
  const uint64_t discordant = SortCountingInversions(sorted);
  // 3. In the sorted y, count the tied pairs and the tie terms of Var(S).
  const TieSummary ties = SummarizeTies(sorted);
  // 4. Every pair is concordant, discordant or tied:
  //    concordant = n(n-1)/2 - tied - discordant, and S = concordant - discordant.
  const uint64_t all_pairs = static_cast<uint64_t>(n) * (n - 1) / 2;
  const uint64_t concordant = all_pairs - ties.tied_pairs - discordant;
  const auto s = static_cast<int64_t>(concordant) - static_cast<int64_t>(discordant);

  MannKendall result{};
  result.s = static_cast<double>(s);
  result.var_s = static_cast<double>(ties.var_s);
  result.n = n;
  // 5. z with the continuity correction of 1 towards zero (Kendall 1975), as S
  //    is an integer approximated by a continuous distribution. A constant
  //    series has Var(S) = 0 and S = 0: "no evidence of a trend", not 0/0.
  if (ties.var_s > 0) {
    const double corrected = s > 0 ? result.s - 1 : s < 0 ? result.s + 1 : 0.0;
    result.z = corrected / std::sqrt(result.var_s);
  } else {
    result.z = 0;
  }
  // 6. Two-sided p from the standard normal: P(|Z| >= |z|) = erfc(|z| / sqrt 2).
  result.p_value = std::erfc(std::abs(result.z) / std::sqrt(2.0));
  return result;
}

MannKendall MannKendallTestHamedRao(std::span<const double> x, std::span<const double> y,
                                    double slope) {
  constexpr const char* kWhat = "Hamed-Rao Mann-Kendall test";
  RequireSameSize(x, y, kWhat);
  RequireFinite(x, kWhat, "x");
  if (!std::isfinite(slope))
    throw std::invalid_argument(std::string(kWhat) + ": slope is not finite");
  MannKendall result = MannKendallTest(y);
  const size_t n = y.size();
  if (n < 3 || !(result.var_s > 0)) return result;

  // Hamed & Rao (1998), "A modified Mann-Kendall trend test for
  // autocorrelated data", J. Hydrology 204(1-4):182-196, eq. 18-19.
  // 1. Remove the trend (Sen's slope, as they do) so that the trend itself
  //    does not show up as correlation.
  std::vector<double> residuals(n);
  for (size_t i = 0; i < n; ++i) residuals[i] = y[i] - slope * x[i];
  // 2. Ranks of the residuals, tied values sharing their mean rank.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return residuals[a] < residuals[b]; });
  std::vector<double> ranks(n);
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && residuals[order[end]] == residuals[order[start]]) ++end;
    const double mean_rank = (static_cast<double>(start + end) + 1) / 2;
    for (size_t i = start; i < end; ++i) ranks[order[i]] = mean_rank;
    start = end;
  }
  // 3. Their autocorrelation at every lag (FFT, O(n log n)).
  const std::vector<double> rho = Autocorrelation(ranks, n - 1);
  // 4. Only the lags whose correlation is significant at 5 % count, judged by
  //    Anderson's (1941) bounds for white noise, (-1 +- 1.96 sqrt(n-k-1)) / (n-k).
  // 5. n / n* = 1 + 2 / (n(n-1)(n-2)) sum_k (n-k)(n-k-1)(n-k-2) rho(k).
  const auto nd = static_cast<double>(n);
  double sum = 0;
  size_t significant = 0;
  for (size_t k = 1; k < rho.size(); ++k) {
    const double m = nd - static_cast<double>(k);
    const double half_width = kZ975 * std::sqrt(std::max(m - 1, 0.0));
    if (rho[k] > (-1 - half_width) / m && rho[k] < (-1 + half_width) / m) continue;
    sum += m * (m - 1) * (m - 2) * rho[k];
    ++significant;
  }
  // Bounded to [1, n]: negative correlation would make the test more liberal
  // than the plain one on the strength of noisy correlation estimates, which
  // is the wrong direction for a leak detector; and n* cannot fall below one
  // sample.
  const double factor = std::clamp(1 + 2 * sum / (nd * (nd - 1) * (nd - 2)), 1.0, nd);
  // 6. The corrected variance V*(S) = Var(S) n / n*, then z and p as before.
  result.variance_factor = factor;
  result.significant_lags = significant;
  result.var_s *= factor;
  const double corrected = result.s > 0 ? result.s - 1 : result.s < 0 ? result.s + 1 : 0.0;
  result.z = corrected / std::sqrt(result.var_s);
  result.p_value = std::erfc(std::abs(result.z) / std::sqrt(2.0));
  return result;
}

TheilSen TheilSenEstimate(std::span<const double> x, std::span<const double> y) {
  RequireFinite(y, "Theil-Sen estimate", "y");
  std::vector<double> sorted(y.begin(), y.end());
  std::sort(sorted.begin(), sorted.end());
  return TheilSenEstimate(x, y, static_cast<double>(SummarizeTies(sorted).var_s));
}

namespace {

// Values at fractional 1-based ranks among the pairwise slopes, each
// interpolated between its two neighbouring order statistics; NaN for a
// rank outside 1..N. One selection for all of them.
std::vector<double> SlopesAtRanks(const PairwiseSlopes& slopes, const std::vector<double>& wanted) {
  const auto n_pairs = static_cast<double>(slopes.size());
  std::vector<uint64_t> ranks;
  for (double rank : wanted) {
    if (rank < 1 || rank > n_pairs) continue;
    ranks.push_back(static_cast<uint64_t>(std::floor(rank)));
    ranks.push_back(std::min(static_cast<uint64_t>(std::ceil(rank)), slopes.size()));
  }
  const std::vector<double> values = slopes.Select(ranks);
  std::vector<double> out;
  size_t next = 0;
  for (double rank : wanted) {
    if (rank < 1 || rank > n_pairs) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const double low = values[next], high = values[next + 1];
    next += 2;
    out.push_back(low + (rank - std::floor(rank)) * (high - low));
  }
  return out;
}

void RequireFittable(std::span<const double> x, std::span<const double> y, const char* what) {
  RequireSameSize(x, y, what);
  RequireAtLeastTwo(x.size(), what);
  RequireFinite(x, what, "x");
  RequireFinite(y, what, "y");
  RequireSpreadX(x, what);
}

// Theil (1950), Sen (1968) "Estimates of the regression coefficient based on
// Kendall's tau", JASA 63(324); the interval as in Gilbert (1987),
// "Statistical Methods for Environmental Pollution Monitoring", sec. 16.4.
//  1. The N slopes (y[j] - y[i]) / (x[j] - x[i]) of the pairs with
//     x[i] != x[j] are never listed: PairwiseSlopes selects their order
//     statistics exactly in expected O(n log n) (slope_selection.h).
//  2. The estimate is their median, rank (N + 1)/2 (given when known).
//  3. C = z_0.975 * sqrt(Var(S)); the bounds are the slopes of rank
//     (N - C)/2 and (N + C)/2 + 1 (1-based, interpolated between neighbours).
//     When a rank falls outside 1..N there are too few pairs for a 95% bound
//     on that side, and it is infinite.
//  4. The intercept is the median of the residuals y - slope * x.
TheilSen FitFromSlopes(const PairwiseSlopes& slopes, std::span<const double> x,
                       std::span<const double> y, double var_s, const double* known_slope,
                       double z = kZ975) {
  constexpr const char* kWhat = "Theil-Sen estimate";
  if (!(var_s >= 0) || !std::isfinite(var_s)) {
    throw std::invalid_argument(std::string(kWhat) + ": Var(S) must be finite and >= 0");
  }
  const auto n_pairs = static_cast<double>(slopes.size());
  const double c = z * std::sqrt(var_s);
  const double low_rank = (n_pairs - c) / 2;
  const double high_rank = (n_pairs + c) / 2 + 1;
  std::vector<double> wanted = {low_rank, high_rank};
  if (known_slope == nullptr) wanted.push_back((n_pairs + 1) / 2);
  const std::vector<double> at = SlopesAtRanks(slopes, wanted);

  TheilSen result{};
  result.n = x.size();
  result.slope = known_slope != nullptr ? *known_slope : at[2];
  if (!std::isfinite(result.slope)) {
    throw std::invalid_argument(std::string(kWhat) +
                                ": the median slope overflows; x values are too close "
                                "together for the scale of y");
  }
  result.slope_low = low_rank < 1 ? -std::numeric_limits<double>::infinity() : at[0];
  result.slope_high = high_rank > n_pairs ? std::numeric_limits<double>::infinity() : at[1];
  std::vector<double> residuals(x.size());
  for (size_t i = 0; i < x.size(); ++i) residuals[i] = y[i] - result.slope * x[i];
  result.intercept = Median(residuals);
  return result;
}

}  // namespace

TheilSen TheilSenEstimate(std::span<const double> x, std::span<const double> y, double var_s) {
  RequireFittable(x, y, "Theil-Sen estimate");
  return FitFromSlopes(PairwiseSlopes(x, y), x, y, var_s, nullptr);
}

double TwoSidedZ(double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument("confidence must be between 0 and 1");
  }
  // Bisection on P(|Z| > z) = erfc(z / sqrt 2), which falls from 1 at z = 0:
  // 64 halvings of [0, 40] reach the last bit of a double.
  double low = 0, high = 40;
  for (int i = 0; i < 64; ++i) {
    const double mid = (low + high) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > 1 - confidence ? low : high) = mid;
  }
  return (low + high) / 2;
}

RobustTrend TestTrend(std::span<const double> x, std::span<const double> y, double confidence) {
  RequireFittable(x, y, "trend test");
  const double z = TwoSidedZ(confidence);
  // 1. Sen's slope alone (median rank), 2. the Hamed-Rao test on the
  // residuals from it, 3. Sen's interval from the corrected variance.
  const PairwiseSlopes slopes(x, y);
  const double n_pairs = static_cast<double>(slopes.size());
  const double slope = SlopesAtRanks(slopes, {(n_pairs + 1) / 2})[0];
  if (!std::isfinite(slope)) {
    throw std::invalid_argument("trend test: the median slope overflows");
  }
  RobustTrend result;
  result.mk = MannKendallTestHamedRao(x, y, slope);
  result.fit = FitFromSlopes(slopes, x, y, result.mk.var_s, &slope, z);
  return result;
}

LinearFit LeastSquares(std::span<const double> x, std::span<const double> y) {
  constexpr const char* kWhat = "least squares";
  RequireSameSize(x, y, kWhat);
  const size_t n = x.size();
  RequireAtLeastTwo(n, kWhat);
  RequireFinite(x, kWhat, "x");
  RequireFinite(y, kWhat, "y");
  RequireSpreadX(x, kWhat);

  // Two passes, sums of centred products: the one-pass sum(x^2) - n*mean^2
  // loses every digit when x is, say, Unix time in seconds.
  const double count = static_cast<double>(n);
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / count;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / count;
  double sxx = 0;
  double sxy = 0;
  double syy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mean_x;
    const double dy = y[i] - mean_y;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !std::isfinite(sxx) || !std::isfinite(sxy) || !std::isfinite(syy)) {
    throw std::invalid_argument(std::string(kWhat) +
                                ": the spread of x or y is beyond double precision");
  }
  LinearFit fit{};
  fit.n = n;
  fit.slope = sxy / sxx;
  fit.intercept = mean_y - fit.slope * mean_x;
  // A constant y is fitted exactly by the flat line: nothing is left unexplained.
  fit.r_squared = syy > 0 ? std::clamp(sxy / sxx * (sxy / syy), 0.0, 1.0) : 1.0;
  return fit;
}

double MedianOf(std::span<const double> values) {
  if (values.empty()) return 0;
  std::vector<double> copy(values.begin(), values.end());
  return Median(copy);
}

}  // namespace leaklab::series
