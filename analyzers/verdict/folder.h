#ifndef LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_
#define LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_

#include <filesystem>

#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {

// Analyzes a results folder from its files alone (series.csv, and
// manifest.json for how the run ended), so that `leaklab run` and a later
// `leaklab analyze DIR` give the same verdict. Throws series::InputError
// naming the file when series.csv is missing or malformed.
Verdict AnalyzeResultsFolder(const std::filesystem::path& dir, const AnalyzeOptions& options);

// Analyzes one series CSV file.
Verdict AnalyzeSeriesFile(const std::filesystem::path& csv, const AnalyzeOptions& options);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_FOLDER_H_
