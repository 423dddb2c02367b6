#ifndef LEAKLAB_HARNESS_ANALYSIS_FOLDER_H_
#define LEAKLAB_HARNESS_ANALYSIS_FOLDER_H_

// `leaklab analyze FILES... --out DIR`: data from elsewhere (a Go program's
// profiles, a CSV exported from a dashboard) gets a results folder of its
// own, laid out as a run's (results/README.md), so that it has a report and
// can be analyzed again from the folder alone.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/pprof/profile_kind.h"
#include "analyzers/verdict/verdict.h"

namespace leaklab::harness {

// Steps 1-3 of making DIR: 1. checks that DIR is new, empty, or an earlier
// analysis folder (never a run: UsageError); 2. copies the CSV to
// DIR/series.csv, or writes there the series the profiles make when there is
// no CSV; 3. copies the profiles to DIR/profiles/heap-NNNN.pb.gz and
// workers-NNNN.pb.gz in time order, and renames each profile to its copy, so
// that the verdict's evidence names files inside DIR.
void PrepareAnalysisFolder(const std::filesystem::path& dir,
                           const std::optional<std::filesystem::path>& csv,
                           std::vector<pprof::NamedProfile>& profiles, const std::string& label);

// Step 4: writes DIR/manifest.json (what was analyzed, and how) and
// DIR/verdict.json. The report is the caller's to write.
void FinishAnalysisFolder(const std::filesystem::path& dir, const verdict::Verdict& v,
                          const std::vector<std::string>& inputs,
                          const std::vector<std::string>& command_line);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_ANALYSIS_FOLDER_H_
