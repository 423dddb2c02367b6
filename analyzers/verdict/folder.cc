#include "analyzers/verdict/folder.h"

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace leaklab::verdict {

namespace json = boost::json;

Verdict AnalyzeSeriesFile(const std::filesystem::path& csv, const AnalyzeOptions& options) {
  return AnalyzeSeries(series::ReadSeriesCsv(csv), options);
}

Verdict AnalyzeResultsFolder(const std::filesystem::path& dir, const AnalyzeOptions& options) {
  const std::filesystem::path csv = dir / "series.csv";
  if (!std::filesystem::exists(csv)) {
    throw series::InputError(dir.string() + ": not a results folder (no series.csv)");
  }
  Verdict v = AnalyzeSeriesFile(csv, options);
  v.source = dir.string();

  // A run that ended early is analyzed all the same, but says so.
  std::ifstream in(dir / "manifest.json");
  if (!in) return v;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value manifest = json::parse(text.str(), ec);
  if (ec || !manifest.is_object()) {
    throw series::InputError((dir / "manifest.json").string() + ": not valid JSON: " + ec.message());
  }
  const json::value* end = manifest.as_object().if_contains("end");
  if (end == nullptr || !end->is_object()) {
    v.explanation += " Note: the manifest does not say how the run ended; it may have been cut short.";
    return v;
  }
  const json::value* reason = end->as_object().if_contains("reason");
  const json::value* detail = end->as_object().if_contains("detail");
  if (reason != nullptr && reason->is_string() && reason->as_string() != "completed") {
    v.explanation += " Note: the run ended early (" +
                     std::string(detail && detail->is_string() ? detail->as_string().c_str() : "") + ").";
  }
  return v;
}

}  // namespace leaklab::verdict
