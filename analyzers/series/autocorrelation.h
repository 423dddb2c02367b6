#ifndef LEAKLAB_ANALYZERS_SERIES_AUTOCORRELATION_H_
#define LEAKLAB_ANALYZERS_SERIES_AUTOCORRELATION_H_

// Sample autocorrelation of a sequence at every lag, in O(n log n) by FFT.
// Used by the Hamed-Rao variance correction of the Mann-Kendall test and by
// the sawtooth period estimate of the memory floor. Pure, no I/O.

#include <cstddef>
#include <span>
#include <vector>

namespace leaklab::series {

// r[k] for k = 0 .. min(max_lag, n - 1), with (Box & Jenkins, "Time Series
// Analysis", 1976, eq. 2.1.12)
//   c(k) = (1/n) sum_{i=0}^{n-1-k} (v[i] - mean) (v[i+k] - mean),  r(k) = c(k) / c(0).
// A constant sequence has no defined correlation; it gives r[0] = 1 and 0
// elsewhere ("no evidence of correlation"). Empty input gives an empty result.
// Values must be finite (std::invalid_argument otherwise).
std::vector<double> Autocorrelation(std::span<const double> values, size_t max_lag);

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_AUTOCORRELATION_H_
