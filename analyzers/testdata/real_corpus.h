#ifndef LEAKLAB_ANALYZERS_TESTDATA_REAL_CORPUS_H_
#define LEAKLAB_ANALYZERS_TESTDATA_REAL_CORPUS_H_

// The recorded real-runtime corpus (real/README.md): results folders of real
// programs (Go, C++ under glibc, jemalloc and tcmalloc, a JVM) watched with
// `leaklab watch`, and Prometheus exports of programs scraped for an hour
// or more, each labelled by how the program was built. Loading, and the
// baselines leaklab is compared with on it.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/series/series.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::corpus {

struct RealCase {
  std::string name;
  std::filesystem::path dir;  // the results folder; empty for a Prometheus series
  // From label.json (real/README.md): what the program does, by construction.
  std::string expected;  // "leak", "no-leak", "lazy-release"
  std::string runtime;   // "go1.19", "glibc-2.36", "jemalloc-5.3", "tcmalloc-2.10", "openjdk-17-g1"
  std::string shape, regime, site, worker_group, unit;
  bool decidable = true;
  double steady_after_s = 0;           // when the program has reached its steady state
  double retained_bytes_per_unit = 0;  // what the code keeps per unit of work (0: nothing)
  double rate_per_s = 0;               // the load's rate, units of work per second
  // For a collector whose heap figure moves by cycles (a JVM's old-generation
  // collections), the independent samples in the steady part; -1 when the
  // samples are independent themselves.
  int steady_cycles = -1;
  series::Series series;                             // series.csv, or the Prometheus series
  verdict::AnalyzeOptions options;                   // as AnalyzeResultsFolder would set them
  std::vector<std::filesystem::path> heap_profiles;  // in time order
};

// The runtime family a case is reported under: "go", "glibc", "jemalloc",
// "tcmalloc", "jvm" (the runtime's name before its version).
std::string Family(const RealCase& c);

// Every case under `root` (real/): cases/*/ with a label.json, and each
// series of long/*.json that long/labels.json labels. Throws
// std::runtime_error naming the file when a label or series cannot be read.
std::vector<RealCase> LoadRealCorpus(const std::filesystem::path& root);

// The verdict leaklab gives: `leaklab analyze DIR` for a folder, one series
// of a Prometheus export for the others.
verdict::Verdict AnalyzeCase(const RealCase& c);

// The verdict on the first `n` samples (series only, as a watch cut short).
verdict::Kind AnalyzePrefix(const RealCase& c, size_t n);

// The memory series a baseline reads: RSS when there is one, else the heap
// in use. Empty when the case has neither.
struct Memory {
  std::vector<double> t_s, bytes;
};
Memory MemoryOf(const RealCase& c);

// Baselines, each a yes/no alarm on the same memory series.
//  - Coroot's memory-leak check (coroot/coroot, auditor/memory.go): the
//    least-squares line of RSS, its rise over the last hour as a share of
//    its value an hour before the end (the window's start when shorter);
//    alarm at 10 %/h and above, the check's default threshold.
//  - A fixed threshold: the least-squares slope at 10 MB/h or more (Coroot's
//    first default, release 0.11.0: "10MB per hour").
//  - A plain Mann-Kendall test at 5 %, no autocorrelation correction: alarm
//    for a significant rise.
bool CorootAlarm(const Memory& m);
bool FixedThresholdAlarm(const Memory& m);
bool MannKendallAlarm(const Memory& m);

// The function `go tool pprof -top -base FIRST LAST` puts first (the most
// flat inuse_space growth), or nullopt when it cannot be run or read.
std::optional<std::string> PprofTopBase(const std::filesystem::path& first,
                                        const std::filesystem::path& last);

}  // namespace leaklab::corpus

#endif  // LEAKLAB_ANALYZERS_TESTDATA_REAL_CORPUS_H_
