#ifndef LEAKLAB_HARNESS_EXPERIMENT_H_
#define LEAKLAB_HARNESS_EXPERIMENT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzers/verdict/verdict.h"
#include "common/end_reason.h"
#include "harness/catalog_client.h"
#include "loadgen/loadgen.h"

namespace leaklab::harness {

struct RunOptions {
  std::string variant;  // empty: the scenario's default
  std::optional<std::chrono::milliseconds> duration;
  std::optional<int> connections;
  // Replaces the schedule's phases with one steady phase at this rate (0 =
  // closed loop); the scenario's events (reloads, bursts) stay.
  std::optional<double> rate_per_s;
  // Replaces the scenario's whole schedule, phases and events.
  std::optional<loadgen::Schedule> schedule;
  loadgen::KeySpec keys;  // what "{key}" becomes in the scenario's requests
  std::chrono::milliseconds sample_interval{100};
  // Heap and worker profiles are fetched this often into profiles/; 0 = never.
  // The server builds them so as to leave its memory as it was (see
  // scenarios/runtime/scratch_arena.h), so this default does not disturb the
  // series it records.
  std::chrono::milliseconds profile_every{2000};
  std::filesystem::path out_dir;  // empty: results/<scenario>-<variant>-<timestamp>
  uint64_t seed = 1;              // the load generator's key choice
  std::filesystem::path scenario_binary;
  // How long the server may take to print its port and answer /healthz.
  std::chrono::milliseconds startup_timeout{10'000};
  // When set, the server runs in a cgroup v1 memory group with this limit,
  // so that a leak ends as it did in production: killed by the OOM killer.
  std::optional<int64_t> mem_limit_bytes;
  // Memory pressure inside that cgroup: from `at` (unset: half the run) to
  // the end, a second process in the group allocates and holds `bytes`, so
  // the kernel must reclaim what it can from the server: LazyFree pages go
  // without a fight, memory the server still holds does not.
  struct Pressure {
    int64_t bytes = 0;
    std::optional<std::chrono::milliseconds> at;
  };
  std::optional<Pressure> pressure;
  bool progress = false;  // live progress line on stderr
  // Write report.html (report/report.h) once the folder is complete.
  bool write_report = true;
  std::vector<std::string> command_line;
  // Set by a signal handler: end the run early, keeping what was sampled.
  const std::atomic<bool>* interrupted = nullptr;
  // Told, before the run starts, of flags that will have no effect (they are
  // also kept in manifest.json's "warnings").
  std::function<void(const std::string&)> on_warning = [](const std::string&) {};
};

struct RunOutcome {
  std::filesystem::path out_dir;
  verdict::Verdict verdict;
  EndReason end_reason = EndReason::kCompleted;
  std::string end_detail;
  size_t samples = 0;
  std::filesystem::path report;  // report.html, when it was written
  std::string report_error;      // why it was not, when it was asked for
};

// Runs one experiment (see shared/DESIGN.md, "Results folder"): starts the
// scenario server as a child, drives the load, samples procfs and
// /debug/memstats, writes the results folder, stops the server, analyzes, and
// writes the report (a report that fails is recorded in the outcome; the
// folder's data is complete before it is attempted).
// Throws UsageError (common/errors.h) for a bad variant or output folder,
// before anything is started or written; ExperimentError when the server
// cannot be started (the manifest still records why); IoError when the
// folder cannot be written.
RunOutcome RunExperiment(const ScenarioEntry& scenario, const RunOptions& options);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_EXPERIMENT_H_
