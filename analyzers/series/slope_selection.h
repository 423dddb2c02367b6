#ifndef LEAKLAB_ANALYZERS_SERIES_SLOPE_SELECTION_H_
#define LEAKLAB_ANALYZERS_SERIES_SLOPE_SELECTION_H_

// Order statistics of the pairwise slopes of n points without listing the
// n(n-1)/2 slopes: the engine behind the Theil-Sen estimate and Sen's
// confidence interval (trend.h). Pure, no I/O.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace leaklab::series {

namespace slope_selection_internal {
struct Entry;  // a point's key and position during a counting pass (slope_selection.cc)
}  // namespace slope_selection_internal

// The slopes (y[j] - y[i]) / (x[j] - x[i]) of the N pairs of points with
// x[i] != x[j]; pairs with equal x have no slope and are not counted.
//
// Counting: for a slope t, a pair (i, j) with x[i] < x[j] has slope <= t
// exactly when u[j] <= u[i] for u = y - t x, so the number of slopes <= t is
// the number of inversions of u in x order, counted by merge sort in
// O(n log n) (Cole, Salowe, Steiger & Szemeredi 1989, "An optimal-time
// algorithm for slope selection", SIAM J. Comput. 18(4), section 2).
//
// Selection is the randomized interval contraction of Matousek (1991,
// "Randomized optimal algorithm for slope selection", Inf. Process. Lett.
// 39(4)) and Dillencourt, Mount & Netanyahu (1992, "A randomized algorithm for
// slope selection", Int. J. Comput. Geom. Appl. 2(1)): a random sample of the
// slopes brackets the wanted rank; the bracket is checked by counting, and a
// new sample is drawn from inside it (random inversions, found during the same
// merge sort) until it holds few enough slopes to list them, O(n) of them.
// Expected O(n log n) time, O(n) memory; the answer is exact (the sampling
// only decides how fast it is found). The random source has a fixed seed, so
// the running time, like the answer, is the same on every run.
//
// Exactness is up to rounding: the keys u are computed in double precision,
// so slopes within a few units in the last place of a bracket end may be
// counted on either side of it, which can move a result by as much.
class PairwiseSlopes {
 public:
  // Throws std::invalid_argument when x and y differ in length, a value is
  // not finite, or there are 2^32 points or more.
  PairwiseSlopes(std::span<const double> x, std::span<const double> y);

  // N, the number of pairs with distinct x.
  uint64_t size() const { return pairs_; }

  // The number of slopes <= t. O(n log n).
  uint64_t CountAtMost(double t) const;

  // The slopes at 1-based ranks `ranks` (the k-th smallest for k), in the
  // order asked. Throws std::invalid_argument for a rank outside 1..N (so
  // always when N is 0), and when the values are beyond what double
  // precision can order (the keys y - t x overflow).
  std::vector<double> Select(std::span<const uint64_t> ranks) const;

  // Every slope, unordered: the reference for tests and the path for small n.
  std::vector<double> AllSlopes() const;

 private:
  struct State;
  // One counting pass at t: slopes <= t, or < t when `below`; `order` (if
  // given) receives the points sorted by y - t x.
  uint64_t CountPass(double t, bool below,
                     std::vector<slope_selection_internal::Entry>* order) const;
  // Counts, and samples or (when few) lists, the slopes in state's bracket;
  // k is the count on entry (exact or an estimate) and exact on return.
  void BracketPass(State& state, bool k_exact, size_t sample_target, uint64_t seed) const;
  void Solve(State state, std::span<const uint64_t> ranks, std::vector<double>& values_by_rank,
             std::span<const uint64_t> all_ranks) const;

  // Points in (x, y) order; the original values, for the reported slopes.
  std::vector<double> x_, y_;
  // The same, less their medians: the keys y - t x are computed from these,
  // to keep large offsets (e.g. Unix time) from eating the precision.
  std::vector<double> xc_, yc_;
  uint64_t pairs_ = 0;
  uint64_t duplicate_pairs_ = 0;  // pairs with equal x and equal y
  double min_slope_ = 0, max_slope_ = 0;
};

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_SLOPE_SELECTION_H_
