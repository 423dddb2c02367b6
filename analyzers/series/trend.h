#ifndef LEAKLAB_ANALYZERS_SERIES_TREND_H_
#define LEAKLAB_ANALYZERS_SERIES_TREND_H_

// Trend statistics over one signal: a rank test for a monotonic trend
// (Mann-Kendall), a robust slope with its confidence interval (Theil-Sen), and
// ordinary least squares for "bytes per request"-style regressions.
//
// All functions are pure. They throw std::invalid_argument, with a message
// saying what is wrong, for input they cannot give a meaningful answer for:
// fewer than 2 points, x and y of different lengths, a NaN or infinite value
// (missing samples must be dropped by the caller), or all x equal. They never
// divide by zero and never return NaN.

#include <cstddef>
#include <span>

namespace leaklab::series {

struct MannKendall {
  double s;        // Kendall's S: pairs (i < j) with y[j] > y[i], minus those with y[j] < y[i]
  double var_s;    // variance of S under "no trend", tie-corrected; 0 for a constant series
  double z;        // normal score with continuity correction; 0 when var_s is 0
  double p_value;  // two-sided; 1 when var_s is 0
  size_t n;        // number of points
  // Hamed-Rao only: n / n*, the factor Var(S) was multiplied by for the
  // autocorrelation of the data (1 when uncorrected), and how many lags were
  // significantly correlated.
  double variance_factor = 1;
  size_t significant_lags = 0;
};

// Mann-Kendall trend test (Mann 1945; Kendall 1975) with the tie correction of
// the variance, on y in time order. S is computed in O(n log n) with Knight's
// (1966) merge-sort algorithm. The normal approximation behind z and p is
// rough below about 10 points; deciding how many points are enough is the
// caller's business. Throws std::invalid_argument for n < 2 or a non-finite value.
MannKendall MannKendallTest(std::span<const double> y);

// The same test with the variance of S corrected for autocorrelation (Hamed &
// Rao 1998): the ranks of y - slope * x are autocorrelated at every lag
// (FFT, O(n log n)), the significant correlations inflate Var(S) by n / n*
// (bounded to [1, n]), and z and p follow from the inflated variance. Memory
// series are strongly autocorrelated (a sliding minimum more so), and the
// plain test then finds trends in noise. `slope` is the trend to remove
// first, normally the Theil-Sen slope of y on x. Throws like MannKendallTest,
// and for x of another length or a non-finite x or slope.
MannKendall MannKendallTestHamedRao(std::span<const double> x, std::span<const double> y,
                                    double slope);

struct TheilSen {
  double slope;       // median of the pairwise slopes
  double intercept;   // median of y - slope * x
  double slope_low;   // ~95% confidence interval of the slope (Sen 1968);
  double slope_high;  //   -inf / +inf when there are too few points to bound it
  size_t n;           // number of points
};

// Theil (1950) - Sen (1968) slope estimator and Sen's rank-based confidence
// interval. Pairs with equal x have no slope and are left out. Exact, in
// expected O(n log n) time and O(n) memory (randomized slope selection, see
// slope_selection.h); no pairwise list beyond about 360 points. The interval
// uses the tie-corrected Mann-Kendall Var(S) of y. Throws
// std::invalid_argument for n < 2, size mismatch, non-finite values or all x equal.
TheilSen TheilSenEstimate(std::span<const double> x, std::span<const double> y);

// The same with the interval from a given Var(S), e.g. the Hamed-Rao
// corrected one, so that an autocorrelated series gets an honestly wider interval.
TheilSen TheilSenEstimate(std::span<const double> x, std::span<const double> y, double var_s);

struct RobustTrend {
  MannKendall mk;  // Hamed-Rao corrected
  TheilSen fit;    // interval from the corrected Var(S), at the confidence asked
};

// The trend test the growth analysis uses on a memory floor, from one set of
// pairwise slopes: Sen's slope; the Mann-Kendall test with the Hamed-Rao
// variance of the residuals from that slope; Sen's interval from the
// corrected variance, two-sided at `confidence`. Throws like TheilSenEstimate.
RobustTrend TestTrend(std::span<const double> x, std::span<const double> y,
                      double confidence = 0.95);

// z such that P(|Z| > z) = 1 - confidence for a standard normal Z (1.96 for
// 0.95). Throws std::invalid_argument outside (0, 1).
double TwoSidedZ(double confidence);

struct LinearFit {
  double slope;
  double intercept;
  double r_squared;  // fraction of the variance of y explained; 1 when y is constant
  size_t n;
};

// Ordinary least squares y = intercept + slope * x, with the coefficient of
// determination. Throws std::invalid_argument for n < 2, size mismatch,
// non-finite values or all x equal.
LinearFit LeastSquares(std::span<const double> x, std::span<const double> y);

// The median (mean of the two middle values for an even count); 0 for an
// empty input. Values must be finite.
double MedianOf(std::span<const double> values);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_TREND_H_
