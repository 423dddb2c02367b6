#include "analyzers/series/autocorrelation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <string>

namespace leaklab::series {
namespace {

// Below this many multiply-adds the direct sum is faster than two FFTs and
// exact to the last bit, which keeps small cases easy to check by hand.
constexpr size_t kMaxDirectTerms = size_t{1} << 16;

// In-place iterative radix-2 FFT (Cooley & Tukey 1965, "An algorithm for the
// machine calculation of complex Fourier series", Math. Comp. 19(90)), the
// decimation-in-time form with a bit-reversal permutation first.
// `inverse` computes the unnormalised inverse (the caller divides by size).
// Twiddle factors come from a table of cos/sin, not from repeated
// multiplication, so rounding does not grow with the size.
void Fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  // 1. Bit-reversal permutation.
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  // 2. The table: w[k] = exp(-+2 pi i k / n), k < n/2.
  std::vector<std::complex<double>> w(n / 2);
  const double sign = inverse ? 1.0 : -1.0;
  for (size_t k = 0; k < n / 2; ++k) {
    const double angle =
        sign * 2 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
    w[k] = {std::cos(angle), std::sin(angle)};
  }
  // 3. Butterflies, doubling the transform length each stage.
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t stride = n / len;
    for (size_t start = 0; start < n; start += len) {
      for (size_t k = 0; k < len / 2; ++k) {
        // The product written out: std::complex's operator* checks for
        // infinities and NaN on every call, which costs more than the FFT.
        const std::complex<double> even = a[start + k];
        const std::complex<double> b = a[start + k + len / 2];
        const std::complex<double> t = w[k * stride];
        const std::complex<double> odd(b.real() * t.real() - b.imag() * t.imag(),
                                       b.real() * t.imag() + b.imag() * t.real());
        a[start + k] = even + odd;
        a[start + k + len / 2] = even - odd;
      }
    }
  }
}

}  // namespace

std::vector<double> Autocorrelation(std::span<const double> values, size_t max_lag) {
  const size_t n = values.size();
  if (n == 0) return {};
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      throw std::invalid_argument("autocorrelation: value[" + std::to_string(i) +
                                  "] is not finite");
    }
  }
  const size_t lags = std::min(max_lag, n - 1) + 1;
  std::vector<double> r(lags, 0.0);
  r[0] = 1;
  // A constant sequence: checked exactly, as rounding in the mean would
  // otherwise leave a tiny variance and correlations made of rounding noise.
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  if (*low == *high) return r;
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  std::vector<double> c(lags, 0.0);

  if (n * lags <= kMaxDirectTerms) {
    for (size_t k = 0; k < lags; ++k) {
      double sum = 0;
      for (size_t i = 0; i + k < n; ++i) sum += (values[i] - mean) * (values[i + k] - mean);
      c[k] = sum;
    }
  } else {
    // Wiener-Khinchin: the autocovariance is the inverse transform of the
    // power spectrum. Zero padding to at least n + max_lag points keeps the
    // circular correlation from wrapping lags up to max_lag around.
    const size_t size = std::bit_ceil(n + lags);
    std::vector<std::complex<double>> a(size);
    for (size_t i = 0; i < n; ++i) a[i] = values[i] - mean;
    Fft(a, false);
    for (auto& z : a) z = z.real() * z.real() + z.imag() * z.imag();
    Fft(a, true);
    for (size_t k = 0; k < lags; ++k) c[k] = a[k].real() / static_cast<double>(size);
  }

  if (!(c[0] > 0)) return r;
  for (size_t k = 1; k < lags; ++k) r[k] = std::clamp(c[k] / c[0], -1.0, 1.0);
  return r;
}

}  // namespace leaklab::series
