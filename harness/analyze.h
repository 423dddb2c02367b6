#ifndef LEAKLAB_HARNESS_ANALYZE_H_
#define LEAKLAB_HARNESS_ANALYZE_H_

// `leaklab analyze PATH...`: what the paths are, which analysis each gets,
// and which files it writes (shared/DESIGN.md, "CLI").
//   - results folders: each is one run; its heap-diff.pb.gz, verdict.json and
//     report.html are brought up to date (AnalyzeFolder);
//   - files that together are one run: at most one series CSV and any number
//     of heap and worker profiles; with --out DIR they get a results folder of
//     their own, laid out as a run's, that `analyze DIR` reads again;
//   - a Prometheus query_range export (.json, alone): one verdict per series,
//     most severe first.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/verdict/verdict.h"

namespace leaklab::harness {

struct AnalyzeRequest {
  std::vector<std::string> paths;
  std::optional<std::filesystem::path> out_dir;  // --out: for files
  std::optional<std::filesystem::path> diff;     // --diff: for profiles given as files
  bool write_report = true;
  std::vector<std::string> command_line;  // recorded in an --out folder's manifest
  // Lines for the user as things are written ("report: PATH", "results: DIR"),
  // and problems that cost a file but not the analysis.
  std::function<void(const std::string&)> on_note = [](const std::string&) {};
  std::function<void(const std::string&)> on_warning = [](const std::string&) {};
};

struct Analysis {
  std::string label;  // the folder, the files, or the series
  verdict::Verdict verdict;
};

// Throws UsageError for paths that do not go together or flags that do not
// fit them (before anything is written), InputError naming the file for data
// that cannot be read, IoError when an --out folder cannot be written.
std::vector<Analysis> Analyze(const AnalyzeRequest& request);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_ANALYZE_H_
