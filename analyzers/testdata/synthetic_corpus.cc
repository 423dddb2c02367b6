#include "analyzers/testdata/synthetic_corpus.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <utility>

namespace leaklab::corpus {
namespace {

constexpr double kMB = 1e6;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Random numbers from mt19937_64's output (fixed by the standard) through our
// own conversions: std::normal_distribution and friends are left to each
// library, and the corpus must be the same everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in (0, 1].
  double Uniform() { return static_cast<double>((engine_() >> 11) + 1) * 0x1p-53; }
  // Standard normal, Box-Muller.
  double Normal() {
    return std::sqrt(-2 * std::log(Uniform())) * std::cos(2 * std::numbers::pi * Uniform());
  }
  // Student's t with 2 degrees of freedom: Z / sqrt(chi2_2 / 2), and
  // chi2_2 / 2 is exponential. Heavy tails: its variance is infinite.
  double StudentT2() { return Normal() / std::sqrt(-std::log(Uniform())); }
  double Exponential(double mean) { return -mean * std::log(Uniform()); }

 private:
  std::mt19937_64 engine_;
};

// Median of |t2| is sqrt(2/3): dividing by 1.4826 of it gives t2 noise whose
// robust standard deviation (1.4826 MAD) is 1, comparable with Gaussian noise.
constexpr double kT2RobustSd = 1.4826 * 0.816496580927726;

// Memory comes in pages.
double Page(double bytes) { return std::round(bytes / 4096) * 4096; }

// The column a case is recorded in: heap for some, RSS for others.
const char* Column(size_t index) { return index % 2 ? "rss_bytes" : "heap_inuse_bytes"; }

struct Builder {
  std::vector<Case> cases;
  uint64_t seed;

  // Adds a one-column case: y(t) for t = times, noise added by `noise`.
  // `independent`: how many independent points the series holds (0: one per sample).
  void Add(std::string family, std::string params, std::string expected, double snr,
           const std::vector<double>& t, const std::function<double(double)>& shape,
           const std::function<double()>& noise, double missing_share = 0, Random* random = nullptr,
           double independent = 0) {
    Case c;
    c.family = family;
    c.name = family + "/" + params;
    c.expected = std::move(expected);
    c.snr = snr;
    const double points = independent > 0 ? independent : static_cast<double>(t.size());
    c.decidable = snr == 0 || snr * std::sqrt(points / 12) >= kDecidableZ;
    c.series.source = c.name;
    c.series.t_s = t;
    c.series.columns = {Column(cases.size())};
    c.series.values.resize(1);
    for (double x : t) {
      double v = Page(shape(x) + noise());
      if (missing_share > 0 && random != nullptr && random->Uniform() < missing_share) v = kNaN;
      c.series.values[0].push_back(v);
    }
    cases.push_back(std::move(c));
  }
};

std::vector<double> Times(size_t n, double dt_s) {
  std::vector<double> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = dt_s * static_cast<double>(i);
  return t;
}

// Irregular sampling: exponential gaps around dt_s, and two outages of a
// tenth of the span each.
std::vector<double> IrregularTimes(size_t n, double dt_s, Random& random) {
  std::vector<double> t(n);
  double now = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == n / 3 || i == 2 * n / 3) now += 0.1 * dt_s * static_cast<double>(n);
    t[i] = now;
    now += 0.05 * dt_s + random.Exponential(0.95 * dt_s);
  }
  return t;
}

std::string Params(const char* format, double a, double b = 0, double c = 0, double d = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b, c, d);
  return buf;
}

}  // namespace

std::vector<Case> SyntheticCorpus(uint64_t seed, bool long_series) {
  Builder b{{}, seed};
  Random random(seed);
  const double level = 64 * kMB;
  const double growth = 16 * kMB;  // a leak adds a quarter of the level over the series
  auto gauss = [&](double sd) { return [&random, sd] { return sd * random.Normal(); }; };

  // Leaks: straight lines, from a total growth of 1x the noise to 30x.
  for (size_t n : {100, 300, 1000, 3000}) {
    for (double snr : {1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0}) {
      for (int s = 0; s < 2; ++s) {
        const auto t = Times(n, 0.1);
        const double span = t.back();
        b.Add(
            "linear", Params("n%.0f/snr%g/s%.0f", double(n), snr, s), "leak", snr, t,
            [=](double x) { return level + growth * x / span; }, gauss(growth / snr));
      }
    }
  }
  // Leaks in steps (a reload that keeps its workers, a batch that is never freed).
  for (size_t n : {200, 1000}) {
    for (double steps : {8.0, 20.0}) {
      for (double snr : {2.0, 5.0, 20.0}) {
        const auto t = Times(n, 0.1);
        const double span = t.back() + 0.1;
        b.Add(
            "staircase", Params("n%.0f/steps%.0f/snr%g", double(n), steps, snr), "leak", snr, t,
            [=](double x) { return level + growth * std::floor(steps * x / span) / steps; },
            gauss(growth / snr));
      }
    }
  }
  // Leaks under a sawtooth (garbage collection, caches flushed): the
  // sawtooth as large as the growth or three times it, 25 cycles, any phase.
  for (size_t n : {500, 2000}) {
    for (double amplitude : {1.0, 3.0}) {
      for (double snr : {2.0, 5.0, 20.0}) {
        const auto t = Times(n, 0.1);
        const double span = t.back(), period = span / 25, phase = random.Uniform();
        b.Add(
            "sawtooth+trend", Params("n%.0f/amp%gx/snr%g", double(n), amplitude, snr), "leak", snr,
            t,
            [=](double x) {
              return level + growth * x / span +
                     amplitude * growth * std::fmod(x / period + phase, 1.0);
            },
            gauss(growth / snr), 0, nullptr, /*independent=*/25);
      }
    }
  }
  // Warm-up (pools filling fast to twice the later growth), then a leak.
  for (size_t n : {300, 1500}) {
    for (double warm : {0.15, 0.3}) {
      for (double snr : {2.0, 5.0, 20.0}) {
        const auto t = Times(n, 0.1);
        const double span = t.back(), w = warm * span;
        b.Add(
            "warmup+leak", Params("n%.0f/warm%g/snr%g", double(n), warm, snr), "leak", snr, t,
            [=](double x) {
              return level + 2 * growth * (1 - std::exp(-5 * x / w)) +
                     growth * std::max(x - w, 0.0) / (span - w);
            },
            gauss(growth / snr));
      }
    }
  }
  // Heavy-tailed noise (Student t, 2 degrees of freedom) on a leak.
  for (size_t n : {300, 1500}) {
    for (double snr : {2.0, 5.0, 20.0}) {
      for (int s = 0; s < 2; ++s) {
        const auto t = Times(n, 0.1);
        const double span = t.back(), sd = growth / snr;
        b.Add(
            "heavy-tailed+leak", Params("n%.0f/snr%g/s%.0f", double(n), snr, s), "leak", snr, t,
            [=](double x) { return level + growth * x / span; },
            [&random, sd] { return sd * random.StudentT2() / kT2RobustSd; });
      }
    }
  }
  // Irregular sampling with outages and missing values, on a leak.
  for (size_t n : {300, 1500}) {
    for (double snr : {2.0, 5.0, 20.0}) {
      for (int s = 0; s < 2; ++s) {
        const auto t = IrregularTimes(n, 1.0, random);
        const double span = t.back();
        b.Add(
            "irregular+leak", Params("n%.0f/snr%g/s%.0f", double(n), snr, s), "leak", snr, t,
            [=](double x) { return level + 4 * growth * x / span; }, gauss(4 * growth / snr), 0.1,
            &random);
      }
    }
  }
  // Snapshots taken by hand, about a minute apart.
  for (size_t n : {10, 15, 20}) {
    for (double snr : {2.0, 5.0, 10.0, 30.0}) {
      for (int s = 0; s < 2; ++s) {
        std::vector<double> t(n);
        for (size_t i = 0; i < n; ++i) t[i] = 60.0 * static_cast<double>(i) + 20 * random.Uniform();
        const double span = t.back();
        b.Add(
            "snapshots+leak", Params("n%.0f/snr%g/s%.0f", double(n), snr, s), "leak", snr, t,
            [=](double x) { return level + growth * x / span; }, gauss(growth / snr));
      }
    }
  }

  // Not leaks. Noise only, independent and strongly autocorrelated.
  for (size_t n : {50, 300, 2000}) {
    for (double sd : {0.2 * kMB, 2 * kMB}) {
      for (int s = 0; s < 2; ++s) {
        b.Add(
            "noise", Params("n%.0f/sd%gMB/s%.0f", double(n), sd / kMB, s), "no-leak", 0,
            Times(n, 0.1), [=](double) { return level; }, gauss(sd));
      }
      double ar = 0;
      b.Add(
          "noise-ar1", Params("n%.0f/sd%gMB", double(n), sd / kMB), "no-leak", 0, Times(n, 0.1),
          [=](double) { return level; },
          [&random, &ar, sd] { return ar = 0.95 * ar + sd * random.Normal(); });
    }
  }
  // A sawtooth alone, ending at any phase, with few or many cycles.
  for (size_t n : {400, 2000}) {
    for (double cycles : {8.0, 25.0}) {
      for (int s = 0; s < 3; ++s) {
        const auto t = Times(n, 0.1);
        const double period = t.back() / cycles, phase = random.Uniform();
        b.Add(
            "sawtooth", Params("n%.0f/cycles%.0f/s%.0f", double(n), cycles, s), "no-leak", 0, t,
            [=](double x) { return level + 20 * kMB * std::fmod(x / period + phase, 1.0); },
            gauss(0.3 * kMB));
      }
    }
  }
  // Warm-up, then a plateau: fast or slow, early or late in the run.
  for (size_t n : {200, 1000}) {
    for (double warm : {0.1, 0.3, 0.45, 0.65}) {
      for (bool exponential : {false, true}) {
        const auto t = Times(n, 0.1);
        const double w = warm * t.back();
        b.Add(
            "warmup+plateau",
            Params("n%.0f/warm%g/", double(n), warm) + (exponential ? "exp" : "linear"), "no-leak",
            0, t,
            [=](double x) {
              return level +
                     20 * kMB * (exponential ? 1 - std::exp(-5 * x / w) : std::min(x / w, 1.0));
            },
            gauss(0.5 * kMB));
      }
    }
  }
  // One step up (a cache filled at once), then flat.
  for (size_t n : {200, 1000}) {
    for (double at : {0.2, 0.4}) {
      const auto t = Times(n, 0.1);
      const double when = at * t.back();
      b.Add(
          "step", Params("n%.0f/at%g", double(n), at), "no-leak", 0, t,
          [=](double x) { return level + (x >= when ? 30 * kMB : 0); }, gauss(0.5 * kMB));
    }
  }
  // Heavy-tailed noise alone.
  for (size_t n : {300, 1500}) {
    for (int s = 0; s < 3; ++s) {
      b.Add(
          "heavy-tailed", Params("n%.0f/s%.0f", double(n), s), "no-leak", 0, Times(n, 0.1),
          [=](double) { return level; },
          [&random] { return 1 * kMB * random.StudentT2() / kT2RobustSd; });
    }
  }
  // Irregular sampling with outages, flat.
  for (size_t n : {300, 1500}) {
    for (int s = 0; s < 3; ++s) {
      b.Add(
          "irregular", Params("n%.0f/s%.0f", double(n), s), "no-leak", 0,
          IrregularTimes(n, 1.0, random), [=](double) { return level; }, gauss(1 * kMB), 0.1,
          &random);
    }
  }
  // Snapshots by hand of a process that is fine.
  for (size_t n : {10, 15, 20}) {
    for (int s = 0; s < 2; ++s) {
      b.Add(
          "snapshots", Params("n%.0f/s%.0f", double(n), s), "no-leak", 0, Times(n, 60),
          [=](double) { return level; }, gauss(1 * kMB));
    }
  }
  // Memory given back, and memory that does not move at all.
  for (size_t n : {200, 1000}) {
    const auto t = Times(n, 0.1);
    const double span = t.back();
    b.Add(
        "falling", Params("n%.0f", double(n)), "no-leak", 0, t,
        [=](double x) { return level + growth * (1 - x / span); }, gauss(0.5 * kMB));
    b.Add(
        "constant", Params("n%.0f", double(n)), "no-leak", 0, t, [=](double) { return level; },
        [] { return 0.0; });
  }

  // Lazy release: a burst of 256 MB comes and goes in the heap; RSS keeps it,
  // shown as LazyFree (MADV_FREE) or as the allocator's free bytes; or RSS
  // gives it back too (not a leak, not lazy either).
  for (const char* kind : {"lazyfree", "allocator", "returned"}) {
    for (size_t n : {120, 600}) {
      for (double at : {0.15, 0.4}) {
        Case c;
        c.family = "lazy-release";
        c.name = "lazy-release/" + std::string(kind) + Params("/n%.0f/at%g", double(n), at);
        c.expected = std::string(kind) == "returned" ? "no-leak" : "lazy-release";
        c.series.source = c.name;
        c.series.t_s = Times(n, 0.1);
        c.series.columns = {"rss_bytes", "heap_inuse_bytes", "lazyfree_bytes", "heap_free_bytes"};
        c.series.values.resize(4);
        const double span = c.series.t_s.back(), from = at * span, to = from + 0.1 * span;
        const double burst = 256 * kMB;
        for (double x : c.series.t_s) {
          const bool during = x >= from && x < to, after = x >= to;
          const bool kept = std::string(kind) != "returned";
          const double heap = 2 * kMB + (during ? burst : 0) + 0.05 * kMB * random.Normal();
          const double rss =
              10 * kMB + (during || (after && kept) ? burst : 0) + 0.05 * kMB * random.Normal();
          c.series.values[0].push_back(Page(rss));
          c.series.values[1].push_back(Page(heap));
          c.series.values[2].push_back(after && std::string(kind) == "lazyfree" ? burst : 0);
          c.series.values[3].push_back(
              Page((after && std::string(kind) == "allocator" ? burst : 0) +
                   0.2 * kMB * random.Uniform()));
        }
        b.cases.push_back(std::move(c));
      }
    }
  }

  // A day at 100 ms: a slow leak (4 KB/s under noise of 80 MB, SNR 5), and
  // a sawtooth of 20 s cycles that does not leak.
  if (long_series) {
    const size_t n = 1'000'000;
    const auto t = Times(n, 0.1);
    const double span = t.back();
    b.Add(
        "long+leak", "n1000000/snr5", "leak", 5, t,
        [=](double x) { return 1000 * kMB + 400 * kMB * x / span; }, gauss(80 * kMB));
    b.Add(
        "long-sawtooth", "n1000000/period20s", "no-leak", 0, t,
        [=](double x) { return 1000 * kMB + 100 * kMB * std::fmod(x / 20, 1.0); }, gauss(2 * kMB));
  }
  return b.cases;
}

}  // namespace leaklab::corpus
