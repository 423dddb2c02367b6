#include "analyzers/series/slope_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace leaklab::series {

// One point during a counting pass: its key y - t x and its position in
// (x, y) order.
struct slope_selection_internal::Entry {
  double key;
  uint32_t idx;
};

namespace {

using slope_selection_internal::Entry;

// How a pass orders equal keys, which decides whether a pair whose slope is
// exactly t counts: kAtMost puts the later point (larger idx) first, so the
// pair is an inversion and counts as "<= t"; kBelow keeps them in place, so it
// counts as "< t" only when strictly below.
enum class Ties { kAtMost, kBelow };

template <Ties kTies>
inline bool Before(const Entry& a, const Entry& b) {
  if constexpr (kTies == Ties::kAtMost) {
    return a.key < b.key || (a.key == b.key && a.idx > b.idx);
  } else {
    return a.key < b.key || (a.key == b.key && a.idx < b.idx);
  }
}

// Fixed, so that the running time is reproducible; the answer does not depend on it.
constexpr uint64_t kSeed = 0x51ec'7e11'5e11'1991;

// z for the sample bracket: a rank lands outside its bracket with probability
// about 0.14 % per side; a miss costs a retry with a wider bracket, not a wrong answer.
constexpr double kBracketZ = 3.0;
// Each round shrinks the bracket by about sqrt(sample)/6 (at least 10x), so a
// handful of rounds suffice for any n below 2^32; the caps only stop a loop
// that rounding (keys that cannot be ordered) would keep from converging.
constexpr int kMaxMisses = 12;
constexpr int kMaxRounds = 64;

// A bracket with at most this many slopes is listed and selected from
// directly: 8n doubles. Sampling from a bracket of K slopes leaves about
// 2 z K / sqrt(sample) in the next one, so with a sample of n the second
// bracket around one rank holds some 6n slopes; a limit below that would
// cost a third round for every rank.
uint64_t ListLimit(size_t n) {
  return std::max<uint64_t>(8 * static_cast<uint64_t>(n), uint64_t{1} << 16);
}

// Runs shorter than this are sorted by insertion before merging.
constexpr size_t kInsertionRun = 16;

struct NoVisit {
  void operator()(const Entry*, const Entry*, const Entry&) const {}
};

// Sorts `v` by Before and returns the number of pairs (a earlier than b in
// the input) with b Before a: the inversions. Every time an element moves in
// front of a contiguous block of elements it is Before, `visit(begin, end,
// element)` is called with that block, so a visitor sees every inversion
// exactly once. Insertion sort of short runs, then bottom-up merge sort
// (Knight 1966 counts Kendall's tau the same way).
template <Ties kTies, class Visit>
uint64_t SortCountingInversions(std::vector<Entry>& v, std::vector<Entry>& buffer, Visit& visit) {
  const size_t n = v.size();
  uint64_t count = 0;
  for (size_t lo = 0; lo < n; lo += kInsertionRun) {
    const size_t hi = std::min(lo + kInsertionRun, n);
    for (size_t k = lo + 1; k < hi; ++k) {
      const Entry e = v[k];
      size_t p = k;
      while (p > lo && Before<kTies>(e, v[p - 1])) --p;
      if (p < k) {
        count += k - p;
        visit(v.data() + p, v.data() + k, e);
        std::move_backward(v.begin() + static_cast<ptrdiff_t>(p),
                           v.begin() + static_cast<ptrdiff_t>(k),
                           v.begin() + static_cast<ptrdiff_t>(k + 1));
        v[p] = e;
      }
    }
  }
  buffer.resize(n);
  for (size_t width = kInsertionRun; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n);
      const size_t hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (Before<kTies>(v[j], v[i])) {
          count += mid - i;
          visit(v.data() + i, v.data() + mid, v[j]);
          buffer[k++] = v[j++];
        } else {
          buffer[k++] = v[i++];
        }
      }
      while (i < mid) buffer[k++] = v[i++];
      while (j < hi) buffer[k++] = v[j++];
    }
    v.swap(buffer);
  }
  return count;
}

[[noreturn]] void ThrowPrecision() {
  throw std::invalid_argument(
      "pairwise slopes: the values are beyond what double precision can order "
      "(y - slope * x overflows)");
}

}  // namespace

// A bracket (lo, hi] around the wanted ranks, with what is known of it.
struct PairwiseSlopes::State {
  double lo = 0, hi = 0;
  bool hi_open = false;        // the bracket is (lo, hi) rather than (lo, hi]
  uint64_t c_lo = 0;           // slopes <= lo
  uint64_t k = 0;              // slopes in the bracket
  std::vector<Entry> order;    // the points sorted by Before on keys y - lo x
  std::vector<double> sample;  // random slopes from (lo, hi], sorted
  std::vector<double> all;     // every slope in (lo, hi], when `listed`
  bool listed = false;
};

namespace {

// Slopes of random inversions, collected while a pass sorts; also lists them
// all while there are at most `list_limit`. Sampling is Bernoulli with
// probability p, walked with geometric skips so it costs O(sample), not
// O(inversions); when the sample reaches `cap`, it is thinned by coin flips
// and p halved, which keeps it a Bernoulli sample (of rate p/2).
class Collector {
 public:
  // list_limit 0: no listing; p 0: no sampling.
  Collector(const std::vector<double>& x, const std::vector<double>& y, size_t list_limit, double p,
            size_t cap, uint64_t seed)
      : x_(x), y_(y), list_limit_(list_limit), p_(p), cap_(cap), random_(seed) {
    listing_ = list_limit > 0;
    skip_ = p > 0 ? Geometric() : std::numeric_limits<uint64_t>::max();
  }

  void operator()(const Entry* begin, const Entry* end, const Entry& right) {
    const auto k = static_cast<uint64_t>(end - begin);
    if (!listing_ && skip_ >= k) {
      skip_ -= k;
      return;
    }
    if (listing_) {
      if (all_.size() + k > list_limit_) {
        listing_ = false;
        std::vector<double>().swap(all_);
      } else {
        for (const Entry* e = begin; e != end; ++e) {
          if (x_[e->idx] != x_[right.idx]) all_.push_back(Slope(e->idx, right.idx));
        }
      }
    }
    while (p_ > 0 && skip_ < k) {
      if (x_[begin[skip_].idx] != x_[right.idx])
        sample_.push_back(Slope(begin[skip_].idx, right.idx));
      if (sample_.size() >= cap_) Thin();
      skip_ += 1 + Geometric();
    }
    skip_ -= k;
  }

  bool listed() const { return listing_; }
  std::vector<double>& all() { return all_; }
  std::vector<double>& sample() { return sample_; }

 private:
  double Slope(uint32_t a, uint32_t b) const { return (y_[b] - y_[a]) / (x_[b] - x_[a]); }

  // Failures before the next success of a Bernoulli(p) process.
  uint64_t Geometric() {
    if (p_ >= 1) return 0;
    // A uniform in (0, 1] from the top 53 bits: identical on every platform.
    const double u = static_cast<double>((random_() >> 11) + 1) * 0x1p-53;
    const double g = std::floor(std::log(u) / std::log1p(-p_));
    return g >= 0x1p62 ? uint64_t{1} << 62 : static_cast<uint64_t>(g);
  }

  void Thin() {
    size_t kept = 0;
    for (double s : sample_) {
      if (random_() & 1) sample_[kept++] = s;
    }
    sample_.resize(kept);
    p_ /= 2;
  }

  const std::vector<double>& x_;
  const std::vector<double>& y_;
  size_t list_limit_;
  double p_;
  size_t cap_;
  std::mt19937_64 random_;
  uint64_t skip_ = 0;
  bool listing_;
  std::vector<double> all_;
  std::vector<double> sample_;
};

}  // namespace

PairwiseSlopes::PairwiseSlopes(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("pairwise slopes: x has " + std::to_string(x.size()) +
                                " points but y has " + std::to_string(y.size()));
  }
  const size_t n = x.size();
  if (n >= std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument("pairwise slopes: more than 2^32 - 1 points");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      throw std::invalid_argument("pairwise slopes: point " + std::to_string(i) + " is not finite");
    }
  }
  // 1. Points in (x, y) order.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]); });
  x_.resize(n);
  y_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    x_[i] = x[order[i]];
    y_[i] = y[order[i]];
  }
  // 2. Pairs with distinct x, and duplicate points (equal x and y), by runs.
  pairs_ = n < 2 ? 0 : static_cast<uint64_t>(n) * (n - 1) / 2;
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && x_[end] == x_[start]) ++end;
    const uint64_t t = end - start;
    pairs_ -= t * (t - 1) / 2;
    for (size_t run = start; run < end;) {
      size_t run_end = run + 1;
      while (run_end < end && y_[run_end] == y_[run]) ++run_end;
      const uint64_t d = run_end - run;
      duplicate_pairs_ += d * (d - 1) / 2;
      run = run_end;
    }
    start = end;
  }
  // 3. The extreme slopes are those of neighbouring x values: a slope across
  //    several x steps is a weighted mean of the steps' slopes.
  min_slope_ = std::numeric_limits<double>::infinity();
  max_slope_ = -std::numeric_limits<double>::infinity();
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && x_[end] == x_[start]) ++end;
    if (end == n) break;
    size_t next_end = end + 1;
    while (next_end < n && x_[next_end] == x_[end]) ++next_end;
    const double dx = x_[end] - x_[start];
    // Within a group y ascends: first is the least, last the greatest.
    min_slope_ = std::min(min_slope_, (y_[end] - y_[end - 1]) / dx);
    max_slope_ = std::max(max_slope_, (y_[next_end - 1] - y_[start]) / dx);
    start = end;
  }
  // 4. Centred copies for the keys.
  if (n > 0) {
    const double x_mid = x_[n / 2];
    std::vector<double> ys(y_);
    std::nth_element(ys.begin(), ys.begin() + static_cast<ptrdiff_t>(n / 2), ys.end());
    const double y_mid = ys[n / 2];
    xc_.resize(n);
    yc_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      xc_[i] = x_[i] - x_mid;
      yc_[i] = y_[i] - y_mid;
    }
  }
}

std::vector<double> PairwiseSlopes::AllSlopes() const {
  std::vector<double> slopes;
  slopes.reserve(pairs_);
  const size_t n = x_.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (x_[i] != x_[j]) slopes.push_back((y_[j] - y_[i]) / (x_[j] - x_[i]));
    }
  }
  return slopes;
}

namespace {

// Keys y - t x for points in the given order (identity when `order` is empty).
void FillKeys(const std::vector<double>& xc, const std::vector<double>& yc, double t,
              std::vector<Entry>& v) {
  for (Entry& e : v) {
    e.key = yc[e.idx] - t * xc[e.idx];
    if (!std::isfinite(e.key)) ThrowPrecision();
  }
}

}  // namespace

uint64_t PairwiseSlopes::CountPass(double t, bool below, std::vector<Entry>* order) const {
  // In (x, y) order, a pair i < j is an inversion when u[j] < u[i], or, with
  // Ties::kAtMost, when u[j] == u[i]: slope <= t (or < t) for x[i] < x[j].
  // With equal x, y ascends, so only duplicate points can be inversions, and
  // only under kAtMost; they are taken off.
  std::vector<Entry> v(x_.size());
  for (uint32_t i = 0; i < v.size(); ++i) v[i].idx = i;
  FillKeys(xc_, yc_, t, v);
  std::vector<Entry> buffer;
  NoVisit none;
  const uint64_t count =
      below ? SortCountingInversions<Ties::kBelow>(v, buffer, none)
            : SortCountingInversions<Ties::kAtMost>(v, buffer, none) - duplicate_pairs_;
  if (order != nullptr) *order = std::move(v);
  return count;
}

uint64_t PairwiseSlopes::CountAtMost(double t) const {
  if (pairs_ == 0 || t < min_slope_) return 0;
  if (t >= max_slope_) return pairs_;
  return CountPass(t, false, nullptr);
}

void PairwiseSlopes::BracketPass(State& state, bool k_exact, size_t sample_target,
                                 uint64_t seed) const {
  // The points in order of y - lo x (state.order), sorted again by y - hi x:
  // a pair is an inversion exactly when its slope is in (lo, hi] (Ties::kAtMost
  // on hi) or (lo, hi) (kBelow). In the second case duplicate points are
  // inversions too; they are taken off here and skipped by the collector.
  const size_t n = x_.size();
  const uint64_t list_limit = ListLimit(n);
  // Listing and sampling are both paid per slope: list when the expected
  // count says the bracket will fit (a quarter of slack for the estimate),
  // sample only otherwise. A wrong guess costs one more pass, never a wrong answer.
  const double expected = std::max(1.0, static_cast<double>(state.k));
  const bool list = expected <= (k_exact ? 1.0 : 1.25) * static_cast<double>(list_limit);
  Collector collect(x_, y_, list ? list_limit : 0,
                    list ? 0.0 : std::min(1.0, static_cast<double>(sample_target) / expected),
                    4 * sample_target, seed);
  std::vector<Entry> v = state.order;
  FillKeys(xc_, yc_, state.hi, v);
  std::vector<Entry> buffer;
  state.k = state.hi_open
                ? SortCountingInversions<Ties::kBelow>(v, buffer, collect) - duplicate_pairs_
                : SortCountingInversions<Ties::kAtMost>(v, buffer, collect);
  state.listed = collect.listed();
  state.all = state.listed ? std::move(collect.all()) : std::vector<double>();
  state.sample = std::move(collect.sample());
  std::sort(state.sample.begin(), state.sample.end());
}

std::vector<double> PairwiseSlopes::Select(std::span<const uint64_t> ranks) const {
  for (uint64_t r : ranks) {
    if (r < 1 || r > pairs_) {
      throw std::invalid_argument("pairwise slopes: rank " + std::to_string(r) + " is outside 1.." +
                                  std::to_string(pairs_));
    }
  }
  std::vector<double> values(ranks.size());
  if (ranks.empty()) return values;
  if (min_slope_ == max_slope_) {
    std::fill(values.begin(), values.end(), min_slope_);
    return values;
  }
  std::vector<uint64_t> sorted(ranks.begin(), ranks.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<double> by_sorted(sorted.size());

  const size_t n = x_.size();
  const uint64_t list_limit = ListLimit(n);

  State state;
  state.c_lo = 0;
  state.k = pairs_;
  // Below every slope, so the order by y - lo x is the (x, y) order itself,
  // except that duplicates come larger idx first (Ties::kAtMost).
  state.lo = std::nextafter(min_slope_, -std::numeric_limits<double>::infinity());
  // Above every slope by a margin, so that rounding in the keys y - hi x
  // cannot put the steepest pairs outside the first bracket.
  state.hi = max_slope_ + (max_slope_ - min_slope_) * 0x1p-20;
  if (pairs_ <= list_limit) {
    state.all = AllSlopes();
    state.listed = true;
  } else {
    state.order.resize(n);
    for (uint32_t i = 0; i < n; ++i) state.order[i] = {0, i};
    for (size_t start = 0; start < n;) {
      size_t end = start + 1;
      while (end < n && x_[end] == x_[start] && y_[end] == y_[start]) ++end;
      std::reverse(state.order.begin() + static_cast<ptrdiff_t>(start),
                   state.order.begin() + static_cast<ptrdiff_t>(end));
      start = end;
    }
    // The first sample: random pairs, the first point uniform, the second
    // uniform among the points with another x (uniform over pairs when x has
    // no ties; close to it otherwise, which only affects speed).
    std::vector<size_t> group_begin(n), group_end(n);
    for (size_t start = 0; start < n;) {
      size_t end = start + 1;
      while (end < n && x_[end] == x_[start]) ++end;
      for (size_t i = start; i < end; ++i) {
        group_begin[i] = start;
        group_end[i] = end;
      }
      start = end;
    }
    std::mt19937_64 random(kSeed);
    const size_t draws = std::max<size_t>(n, 4096);
    state.sample.reserve(draws);
    for (size_t d = 0; d < draws; ++d) {
      const size_t a = random() % n;
      const size_t others = n - (group_end[a] - group_begin[a]);
      size_t b = random() % others;
      if (b >= group_begin[a]) b += group_end[a] - group_begin[a];
      state.sample.push_back((y_[b] - y_[a]) / (x_[b] - x_[a]));
    }
    std::sort(state.sample.begin(), state.sample.end());
  }
  Solve(std::move(state), sorted, by_sorted, sorted);
  for (size_t i = 0; i < ranks.size(); ++i) {
    values[i] =
        by_sorted[std::lower_bound(sorted.begin(), sorted.end(), ranks[i]) - sorted.begin()];
  }
  return values;
}

// Narrows `state` until its bracket can be listed, then reads off the ranks.
// `ranks` is a sorted run of `all_ranks`; results go to values_by_rank at the
// same positions as in all_ranks.
void PairwiseSlopes::Solve(State state, std::span<const uint64_t> ranks,
                           std::vector<double>& values_by_rank,
                           std::span<const uint64_t> all_ranks) const {
  if (ranks.empty()) return;
  const size_t n = x_.size();
  const uint64_t list_limit = ListLimit(n);
  const size_t sample_target = std::max<size_t>(n, 4096);
  uint64_t seed = kSeed ^ (ranks.front() * 0x9e37'79b9'7f4a'7c15ULL);
  auto put = [&](uint64_t q, double value) {
    values_by_rank[std::lower_bound(all_ranks.begin(), all_ranks.end(), q) - all_ranks.begin()] =
        value;
  };
  double z = kBracketZ;
  int misses = 0;
  int rounds = 0;

  while (true) {
    if (++rounds > kMaxRounds) ThrowPrecision();
    // 1. Few enough slopes in the bracket: select among them directly.
    if (state.listed) {
      for (uint64_t q : ranks) {
        const uint64_t local = q - state.c_lo;  // 1-based rank inside the bracket
        if (q <= state.c_lo || local > state.all.size()) ThrowPrecision();
        auto nth = state.all.begin() + static_cast<ptrdiff_t>(local - 1);
        std::nth_element(state.all.begin(), nth, state.all.end());
        put(q, *nth);
      }
      return;
    }
    const uint64_t q_min = ranks.front(), q_max = ranks.back();
    // 2. Ranks too far apart to share a bracket: each cluster goes on alone.
    if (ranks.size() > 1 && (q_max - q_min) * 8 > state.k) {
      std::vector<size_t> cuts = {0};
      for (size_t i = 1; i < ranks.size(); ++i) {
        if (ranks[i] - ranks[cuts.back()] > list_limit / 4) cuts.push_back(i);
      }
      if (cuts.size() > 1) {
        cuts.push_back(ranks.size());
        for (size_t c = 0; c + 1 < cuts.size(); ++c) {
          Solve(state, ranks.subspan(cuts[c], cuts[c + 1] - cuts[c]), values_by_rank, all_ranks);
        }
        return;
      }
    }
    const std::vector<double>& sample = state.sample;
    if (sample.empty()) {
      BracketPass(state, true, 4 * sample_target, seed++);
      continue;
    }
    // 3. Where the wanted ranks fall in the sample, and z standard deviations out.
    const auto s = static_cast<double>(sample.size());
    const auto k = static_cast<double>(state.k);
    const auto a_min = static_cast<double>(q_min - state.c_lo);
    const auto a_max = static_cast<double>(q_max - state.c_lo);
    auto margin = [&](double a) {
      const double f = std::clamp(a / k, 0.0, 1.0);
      return z * std::sqrt(s * f * (1 - f)) + 1;
    };
    auto at = [&](double pos) { return sample[static_cast<size_t>(std::clamp(pos, 0.0, s - 1))]; };
    const double lo_pos = std::floor(a_min * s / k - margin(a_min)) - 1;
    const double hi_pos = std::ceil(a_max * s / k + margin(a_max));

    // 4. A tied value covers a wanted rank's position in the sample and the
    //    margin beside it: no sample value can separate that rank from the
    //    tie, so no bracket would hold it. Count below and at the value
    //    instead; the ranks in between are that value, the others go on in
    //    (lo, value) and (value, hi].
    const double v_min = at(a_min * s / k), v_max = at(a_max * s / k);
    const bool tie_low = at(lo_pos) == v_min, tie_high = at(hi_pos) == v_max;
    if (tie_low || tie_high) {
      const double v = tie_low ? v_min : v_max;
      std::vector<Entry> order_v;
      const uint64_t c_lt = CountPass(v, true, nullptr);
      const uint64_t c_le = CountPass(v, false, &order_v);
      if (c_lt < c_le && c_lt >= state.c_lo && c_le <= state.c_lo + state.k) {
        const auto first_above = std::upper_bound(ranks.begin(), ranks.end(), c_lt);
        const auto first_beyond = std::upper_bound(ranks.begin(), ranks.end(), c_le);
        for (auto r = first_above; r != first_beyond; ++r) put(*r, v);
        if (first_above != ranks.begin()) {
          State below;
          below.lo = state.lo;
          below.hi = v;
          below.hi_open = true;
          below.c_lo = state.c_lo;
          below.k = c_lt - state.c_lo;
          below.order = state.order;
          BracketPass(below, true, sample_target, seed++);
          Solve(std::move(below), ranks.first(first_above - ranks.begin()), values_by_rank,
                all_ranks);
        }
        if (first_beyond != ranks.end()) {
          State above;
          above.lo = v;
          above.hi = state.hi;
          above.hi_open = state.hi_open;
          above.c_lo = c_le;
          above.k = state.c_lo + state.k - c_le;
          above.order = std::move(order_v);
          BracketPass(above, true, sample_target, seed++);
          Solve(std::move(above), ranks.subspan(first_beyond - ranks.begin()), values_by_rank,
                all_ranks);
        }
        return;
      }
    }

    // 5. A narrower bracket from the sample order statistics.
    double lo = state.lo, hi = state.hi;
    bool hi_open = state.hi_open;
    if (hi_pos < s) {
      hi = sample[static_cast<size_t>(hi_pos)];
      hi_open = false;
    }
    if (lo_pos >= 0) {
      auto i = static_cast<size_t>(lo_pos);
      // With tied slopes, step down to a value below hi so the bracket is not empty.
      while (sample[i] >= hi && i > 0) --i;
      if (sample[i] < hi && sample[i] > state.lo) lo = sample[i];
    }
    if (lo == state.lo && hi == state.hi) {
      // The sample is too thin to narrow the bracket: draw a denser one.
      BracketPass(state, true, 4 * state.sample.size() + sample_target, seed++);
      continue;
    }
    // 6. Count what lies at or below the new lo (one sorting pass, which also
    //    gives the order by y - lo x), then sample or list the new bracket.
    State next;
    next.lo = lo;
    next.hi = hi;
    next.hi_open = hi_open;
    if (lo == state.lo) {
      next.c_lo = state.c_lo;
      next.order = state.order;
    } else {
      next.c_lo = CountPass(lo, false, &next.order);
    }
    const auto inside = std::upper_bound(sample.begin(), sample.end(), hi) -
                        std::upper_bound(sample.begin(), sample.end(), lo);
    next.k = static_cast<uint64_t>(std::max(1.0, k * static_cast<double>(inside) / s));
    BracketPass(next, false, sample_target, seed++);
    // 7. Keep the new bracket only if it holds every wanted rank.
    if (next.c_lo < q_min && next.c_lo + next.k >= q_max) {
      state = std::move(next);
      z = kBracketZ;
    } else {
      z *= 2;
      if (++misses > kMaxMisses) ThrowPrecision();
    }
  }
}

}  // namespace leaklab::series
