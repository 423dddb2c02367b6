#ifndef LEAKLAB_REPORT_REPORT_H_
#define LEAKLAB_REPORT_REPORT_H_

// The report of a results folder: one self-contained HTML file (inline CSS
// and SVG, no script, nothing fetched from anywhere) that shows memory over
// time with the fitted trend, the verdict and its causes, and the run's
// facts. It is a pure function of the folder's files (results/README.md).
// Also the index page of a workshop run (`leaklab run --all`).

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/errors.h"

namespace leaklab::report {

// A folder a report cannot be made from. what() names the file, and the line
// or field at fault.
class ReportError : public InputError {
 public:
  using InputError::InputError;
};

inline constexpr const char* kReportFile = "report.html";
inline constexpr const char* kIndexFile = "index.html";
// In the head of every page leaklab writes: how it knows a report.html it
// may replace from one it must leave alone.
inline constexpr const char* kGeneratorMark = "<meta name=\"generator\" content=\"leaklab\">";

struct RunData;

// The report's HTML for the results folder `dir`. Throws ReportError.
std::string RenderReport(const std::filesystem::path& dir);
// The report's HTML for what was read of a folder (run_data.h).
std::string RenderReport(const RunData& d);

// Writes dir/report.html whole (temporary file, then rename) and returns its
// path. Throws ReportError, or std::runtime_error when it cannot be written;
// nothing else in the folder is touched either way. A report.html leaklab
// did not write (IsLeaklabReport) is never replaced: ReportError naming it.
std::filesystem::path WriteReport(const std::filesystem::path& dir);
// Whether the file at `path` is a report leaklab wrote.
bool IsLeaklabReport(const std::filesystem::path& path);

// Where a workshop's run stands.
enum class RunStatus { kPending, kRunning, kDone, kFailed, kNotRun };

// As index.json and the index page write it: "pending", "running", "done",
// "failed: <detail>", "not run (<detail>)".
std::string RunStatusText(RunStatus status, const std::string& detail);

// One row of a workshop's index: a scenario variant, what it should show,
// and its results folder (a sub-folder of the index's folder).
struct IndexEntry {
  std::string scenario, variant, description;
  std::string expected;  // the verdict the catalog expects; empty: none
  std::string folder;    // the run's folder, relative to the index
  RunStatus status = RunStatus::kPending;
  std::string status_detail;  // why it failed or was not run
};

// The index page for `parent`: a table of expected and actual verdicts with
// a link to each report, a small curve, and the main cause. Each run's
// verdict and curve are read from parent/<folder>/ (verdict.json,
// series.csv); a run without them shows its status instead.
std::string RenderIndex(const std::filesystem::path& parent, const std::string& title,
                        const std::vector<IndexEntry>& entries);

// The verdict in parent/<folder>/verdict.json, or "" when there is none or
// it cannot be read.
std::string ActualVerdict(const std::filesystem::path& run_dir);

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_REPORT_H_
