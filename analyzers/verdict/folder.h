#ifndef LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_
#define LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {

// Analyzes a results folder from its files alone (series.csv, and
// manifest.json for how the run ended), so that `leaklab run` and a later
// `leaklab analyze DIR` give the same verdict. Throws series::InputError
// naming the file when series.csv is missing or malformed.
Verdict AnalyzeResultsFolder(const std::filesystem::path& dir, const AnalyzeOptions& options);

// What a results folder's manifest.json says that its verdict depends on.
struct ManifestFacts {
  std::optional<double> limit_bytes;  // flags.mem_limit_bytes: the run's memory limit
  bool generational_heap = false;     // a watch that read a JVM's heap metrics
  bool heap_from_profiles = false;    // heap_inuse_bytes are heap profiles' totals
  bool analysis = false;              // `origin`: an analysis of files, not a run
  bool has_end = false;               // `end`: how the run or watch ended
  std::optional<std::string> end_reason;
  std::string end_detail;
  std::optional<double> end_t_s;
};

// Reads manifest.json text; fields that are missing or of another type are
// left at their defaults. Throws series::InputError naming `source` when it
// is not a JSON object.
ManifestFacts ParseManifestFacts(std::string_view text, const std::string& source);

// Qualifies `v` by how the run ended (`facts` nullptr: there was no
// manifest): a run that did not complete, or whose end is not on record, is
// not evidence of no leak; an out-of-memory kill dates the exhaustion.
void JudgeRunEnd(const ManifestFacts* facts, Verdict& v);

// Analyzes one series CSV file.
Verdict AnalyzeSeriesFile(const std::filesystem::path& csv, const AnalyzeOptions& options);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_
