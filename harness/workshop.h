#ifndef LEAKLAB_HARNESS_WORKSHOP_H_
#define LEAKLAB_HARNESS_WORKSHOP_H_

// `leaklab run --all`: every scenario and variant of the catalog, one after
// the other, into one folder with an index page (index.html) that links each
// run's report and compares each verdict with the one the catalog expects.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "harness/catalog_client.h"
#include "harness/experiment.h"
#include "report/report.h"

namespace leaklab::harness {

struct WorkshopRun {
  std::string scenario, variant, description;
  std::string expected;  // the catalog's expected verdict
  std::string actual;    // empty when the run did not reach a verdict
  std::string folder;    // relative to the workshop folder: "<scenario>-<variant>"
  report::RunStatus status = report::RunStatus::kPending;
  std::string status_detail;  // why it failed or was not run
  double seconds = 0;
};

struct WorkshopOptions {
  // Applied to every run; its variant and out_dir are set per run.
  RunOptions run;
  std::filesystem::path out_dir;  // empty: results/workshop-<time>
  // Called when a run starts and when it ends (progress lines).
  std::function<void(const WorkshopRun&, size_t index, size_t total)> on_progress;
};

struct WorkshopOutcome {
  std::filesystem::path out_dir, index;
  std::vector<WorkshopRun> runs;
  size_t failed = 0;      // runs that could not be carried out
  size_t unexpected = 0;  // runs whose verdict differs from the catalog's
  bool interrupted = false;
};

// Runs the catalog in its order (the course's learning order), rewriting
// index.html and index.json after every run so that the page can be opened
// while the rest run. A run that fails is recorded and the next one starts.
// Throws UsageError for an output folder that holds an earlier workshop or
// run, or for options every run would reject.
WorkshopOutcome RunWorkshop(const std::vector<ScenarioEntry>& catalog,
                            const WorkshopOptions& options);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_WORKSHOP_H_
