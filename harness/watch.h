#ifndef LEAKLAB_HARNESS_WATCH_H_
#define LEAKLAB_HARNESS_WATCH_H_

// `leaklab watch`: samples a live process that leaklab did not start — any
// PID's /proc, any pprof heap or goroutine endpoint (Go's /debug/pprof/heap,
// a leaklab server's) — into a results folder, then analyzes it like a run.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/verdict/verdict.h"
#include "common/end_reason.h"

namespace leaklab::harness {

struct WatchOptions {
  std::optional<pid_t> pid;  // sample /proc/PID
  // Fetch these profiles (http://host:port/path): at most one heap and one
  // goroutine/worker profile, e.g. a Go service's /debug/pprof/heap and
  // /debug/pprof/goroutine.
  std::vector<std::string> pprof_urls;
  // Scrape this Prometheus text endpoint (a service's /metrics) at every
  // sample: the columns of DefaultMetricColumns() that no other source fills,
  // and `metrics` below.
  std::optional<std::string> metrics_url;
  // "COLUMN=SELECTOR" (--metric): COLUMN takes the sum of the samples
  // SELECTOR (name or name{label="value",...}) matches.
  std::vector<std::string> metrics;
  std::chrono::milliseconds every{1000};
  std::chrono::milliseconds duration{60'000};
  std::filesystem::path out_dir;  // empty: results/watch-<target>-<timestamp>
  std::vector<std::string> command_line;
  const std::atomic<bool>* interrupted = nullptr;  // set by Ctrl-C: stop, keep what was recorded
  bool progress = false;                           // a live line on stderr
  bool write_report = true;                        // report.html once the folder is complete
};

struct WatchOutcome {
  std::filesystem::path out_dir;
  EndReason end_reason = EndReason::kCompleted;
  std::string end_detail;
  size_t samples = 0;
  size_t profiles = 0;
  verdict::Verdict verdict;
  std::filesystem::path report;  // report.html, when it was written
  std::string report_error;      // why it was not, when it was asked for
};

// Limits, with their reasons: a profile fetch may take this long (a large
// heap profile from a busy service), and a watch this long at most (days at
// 1 s is 10^5 rows, far within what the analyzers handle).
inline constexpr std::chrono::milliseconds kProfileFetchTimeout{10'000};
// A scrape of /metrics is small and quick; one slower than this is a service
// in trouble, and the sample records a gap rather than wait.
inline constexpr std::chrono::milliseconds kMetricsFetchTimeout{5'000};
inline constexpr std::chrono::hours kMaxWatchDuration{24 * 7};
inline constexpr std::chrono::milliseconds kMinWatchInterval{10};
// A watch of endpoints (no --pid) ends as `target_unreachable` when none of
// them has answered for kMinSilentTicks samples in a row and either this
// long (a restart of a service takes a few seconds; one that takes longer is
// gone) or until the watch's end.
inline constexpr std::chrono::duration<double> kMaxSilence{10.0};
inline constexpr int64_t kMinSilentTicks = 3;

// Throws UsageError (common/errors.h) naming the flag at fault (no such
// process, malformed URL, an endpoint that does not answer with a heap or
// goroutine profile, two profiles of one kind, a metrics endpoint that does
// not answer or lacks a metric a --metric names, a folder that is taken)
// before anything is written; IoError when the folder cannot be written.
WatchOutcome Watch(const WatchOptions& options);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_WATCH_H_
