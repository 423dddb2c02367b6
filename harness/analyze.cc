#include "harness/analyze.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

#include "analyzers/pprof/profile.h"
#include "analyzers/series/prometheus.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "analyzers/verdict/profile_evidence.h"
#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/input_limits.h"
#include "common/read_file.h"
#include "common/utc_time.h"
#include "harness/build_info.h"
#include "harness/heap_diff_file.h"
#include "harness/results_folder.h"

namespace leaklab::harness {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// PATHs sorted by what they are.
struct Inputs {
  std::vector<fs::path> folders, csvs, profiles;
  std::vector<fs::path> prometheus;  // query_range exports: one verdict per series
};

// --diff writes a new file, or replaces a diff leaklab wrote; never an input,
// a folder, or any other file of the user's.
void CheckDiffTarget(const fs::path& diff, const std::vector<std::string>& inputs) {
  std::error_code ec;
  if (!fs::exists(diff, ec)) return;
  const std::string flag = "--diff " + diff.string();
  if (fs::is_directory(diff, ec)) throw UsageError(flag + ": is a folder; give a file name");
  for (const std::string& input : inputs) {
    if (fs::equivalent(diff, input, ec))
      throw UsageError(flag + ": is one of the inputs, which leaklab never writes over");
  }
  if (!IsLeaklabHeapDiff(diff)) {
    throw UsageError(flag + ": exists and is not a heap diff leaklab wrote; give a new file name");
  }
}

Inputs SortInputs(const AnalyzeRequest& r) {
  if (r.paths.empty()) throw UsageError("give a results folder, a series CSV or profiles");
  Inputs in;
  for (const std::string& path : r.paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      in.folders.push_back(path);
    } else if (!fs::exists(path, ec)) {
      throw UsageError(path + ": no such file or folder");
    } else if (fs::path(path).extension() == ".csv") {
      in.csvs.push_back(path);
    } else if (fs::path(path).extension() == ".json") {
      in.prometheus.push_back(path);
    } else {
      in.profiles.push_back(path);
    }
  }
  if (!in.folders.empty() && in.folders.size() != r.paths.size())
    throw UsageError("a results folder is a run of its own; give folders alone, or files alone");
  if (!in.prometheus.empty() && in.prometheus.size() != r.paths.size()) {
    throw UsageError("a Prometheus export (" + in.prometheus[0].string() +
                     ") is analyzed on its own: each of its series gets its own verdict");
  }
  if (!in.prometheus.empty() && (r.out_dir || r.diff))
    throw UsageError("--out and --diff are not for Prometheus exports");
  if (in.csvs.size() > 1) {
    throw UsageError("one run has one series, got " + std::to_string(in.csvs.size()) +
                     " CSV files (" + in.csvs[0].string() + ", " + in.csvs[1].string() +
                     "); analyze them in separate calls");
  }
  if (r.diff && !in.folders.empty()) {
    throw UsageError(
        "--diff is for profiles given as files; a results folder gets DIR/heap-diff.pb.gz");
  }
  if (r.out_dir && !in.folders.empty())
    throw UsageError("--out is for files; a results folder gets its report in the folder itself");
  if (r.diff) CheckDiffTarget(*r.diff, r.paths);
  return in;
}

// Tells the user what the folder's last steps wrote, and what they could not.
void ReportWrites(const AnalyzeRequest& r, const fs::path& dir, const FolderAnalysis& a) {
  if (!a.write_error.empty())
    r.on_warning(dir.string() + ": verdict.json and report not written: " + a.write_error);
  if (!a.report.empty()) r.on_note("report: " + a.report.string());
  if (!a.report_error.empty()) r.on_warning("no report written: " + a.report_error);
}

// The series a folder made from profiles alone holds: the profiles' totals.
std::string ProfileSeriesCsv(const std::vector<pprof::NamedProfile>& profiles,
                             const std::string& label) {
  const series::Series s = verdict::SeriesFromProfiles(profiles, label);
  std::vector<std::string> header = {"t_s"};
  header.insert(header.end(), s.columns.begin(), s.columns.end());
  std::string text = series::FormatCsvHeader(header);
  std::vector<double> row(header.size());
  for (size_t i = 0; i < s.size(); ++i) {
    row[0] = s.t_s[i];
    for (size_t c = 0; c < s.columns.size(); ++c) row[c + 1] = s.values[c][i];
    series::AppendCsvRow(text, row);
  }
  return text;
}

// Copies the profiles into profiles/heap-NNNN.pb.gz and workers-NNNN.pb.gz,
// numbered per kind in time order as a run numbers them (the rule the
// analysis uses: times, else names), and renames each to its copy, so that
// the verdict's evidence names files inside the folder.
void CopyProfiles(ResultsFolder& folder, std::vector<pprof::NamedProfile>& profiles,
                  std::vector<std::string>& bytes) {
  for (pprof::ProfileKind kind : {pprof::ProfileKind::kHeap, pprof::ProfileKind::kWorkers}) {
    std::vector<pprof::NamedProfile> timed;
    for (const pprof::NamedProfile& p : profiles) {
      if (pprof::KindOf(p.profile) != kind) continue;
      pprof::NamedProfile stub{p.name, {}};
      stub.profile.time_nanos = p.profile.time_nanos;
      timed.push_back(std::move(stub));
    }
    pprof::OrderByTime(timed);
    for (const pprof::NamedProfile& t : timed) {
      for (size_t i = 0; i < profiles.size(); ++i) {
        pprof::NamedProfile& p = profiles[i];
        if (p.name != t.name || pprof::KindOf(p.profile) != kind) continue;
        const fs::path copy =
            folder.NextProfilePath(kind == pprof::ProfileKind::kHeap ? "heap" : "workers");
        // Copied as it was when it is gzip (as Go and leaklab write them),
        // else encoded so, as the name promises.
        std::string& b = bytes[i];
        if (b.size() < 2 || b[0] != '\x1f' || b[1] != '\x8b') b = pprof::EncodeProfile(p.profile);
        WriteFileAtomically(copy, b);
        p.name = copy.string();
        break;
      }
    }
  }
}

// Files given with --out DIR: a results folder of their own. The inputs are
// read whole first, since they may be the files of an earlier analysis in
// DIR, which is about to be replaced; a run's folder is never replaced.
std::unique_ptr<ResultsFolder> MakeAnalysisFolder(const AnalyzeRequest& r, const Inputs& in,
                                                  std::vector<pprof::NamedProfile>& profiles,
                                                  const std::string& label) {
  const std::optional<std::string> csv_text =
      in.csvs.empty()
          ? std::nullopt
          : std::optional(ReadWholeFile(in.csvs[0], limits::kSeriesCsvBytes, "a series file"));
  std::vector<std::string> bytes;
  for (const pprof::NamedProfile& p : profiles)
    bytes.push_back(ReadWholeFile(p.name, pprof::DecodeLimits{}.max_input_bytes, "a profile"));
  json::array inputs, argv;
  for (const std::string& i : r.paths)
    inputs.push_back(json::string(fs::absolute(i).lexically_normal().string()));
  for (const std::string& a : r.command_line) argv.push_back(json::string(a));
  auto folder = std::make_unique<ResultsFolder>(
      *r.out_dir, "analysis",
      json::object{{"origin", kAnalysisOrigin},
                   {"description", "analysis of files from elsewhere: " + label},
                   {"inputs", std::move(inputs)},
                   {"command_line", std::move(argv)},
                   {"analyzed_at", UtcIsoTime()},
                   {"git_revision", GitRevision()}},
      /*replace_analysis=*/true);
  // An earlier analysis's profiles would mix with these ones.
  std::error_code ec;
  fs::remove_all(folder->dir() / "profiles", ec);
  fs::remove(folder->dir() / "heap-diff.pb.gz", ec);
  // The series as the file was (unknown columns kept), or from the profiles.
  folder->WriteFile("series.csv", csv_text ? *csv_text : ProfileSeriesCsv(profiles, label));
  CopyProfiles(*folder, profiles, bytes);
  return folder;
}

// Files that together are one run: a CSV and/or profiles.
Analysis AnalyzeFiles(const AnalyzeRequest& r, const Inputs& in) {
  std::vector<pprof::NamedProfile> profiles = verdict::ReadProfiles(in.profiles);
  std::string label = in.csvs.empty() ? "" : in.csvs[0].string();
  if (!profiles.empty())
    label += (label.empty() ? "" : " + ") + std::to_string(profiles.size()) + " profiles";
  std::unique_ptr<ResultsFolder> folder;
  if (r.out_dir) {
    // Bad input is found before anything is written.
    if (!in.csvs.empty()) series::ReadSeriesCsv(in.csvs[0]);
    folder = MakeAnalysisFolder(r, in, profiles, label);
  }
  verdict::AnalyzeOptions options;
  options.heap_as_of_collection = verdict::HeapAsOfCollection(profiles);
  // Without a CSV, the heap series is the profiles' sampled totals.
  if (in.csvs.empty()) options.heap_sampling_bytes = verdict::HeapSamplingBytes(profiles);
  verdict::Verdict v = in.csvs.empty() ? verdict::AnalyzeSeries(
                                             verdict::SeriesFromProfiles(profiles, label), options)
                                       : verdict::AnalyzeSeriesFile(in.csvs[0], options);
  v.source = label;
  if (!profiles.empty()) verdict::AddProfileEvidence(v, verdict::AnalyzeProfiles(profiles));
  if (r.diff && !WriteHeapDiffProfile(v, *r.diff))
    throw UsageError("--diff needs two or more heap profiles");
  if (folder) {
    r.on_note("results: " + folder->dir().string());
    FolderAnalysis a = folder->Finish(r.write_report, std::move(v));
    ReportWrites(r, folder->dir(), a);
    if (!a.write_error.empty()) throw IoError(a.write_error);
    v = std::move(a.verdict);
  }
  return {label, std::move(v)};
}

}  // namespace

std::vector<Analysis> Analyze(const AnalyzeRequest& r) {
  const Inputs in = SortInputs(r);
  std::vector<Analysis> analyses;
  for (const fs::path& dir : in.folders) {
    // A folder that cannot be written is still analyzed.
    FolderAnalysis a = AnalyzeFolder(dir, r.write_report);
    ReportWrites(r, dir, a);
    analyses.push_back({dir.string(), std::move(a.verdict)});
  }
  // A fleet's series, most severe first: leaks by how soon they add their
  // level again, however slow.
  std::vector<Analysis> series_analyses;
  for (const fs::path& file : in.prometheus) {
    for (const series::Series& s : series::ReadPrometheusQueryRange(file)) {
      verdict::Verdict v = verdict::AnalyzeSeries(s, {});
      v.source = s.source;
      series_analyses.push_back({s.source, std::move(v)});
    }
  }
  std::stable_sort(series_analyses.begin(), series_analyses.end(),
                   [](const Analysis& a, const Analysis& b) {
                     return verdict::MoreSevere(a.verdict, b.verdict);
                   });
  for (Analysis& a : series_analyses) analyses.push_back(std::move(a));
  if (in.folders.empty() && in.prometheus.empty()) analyses.push_back(AnalyzeFiles(r, in));
  return analyses;
}

}  // namespace leaklab::harness
