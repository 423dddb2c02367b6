#include "harness/results_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "common/atomic_file.h"
#include "common/bytes.h"
#include "common/duration.h"
#include "common/errors.h"
#include "common/input_limits.h"
#include "common/read_file.h"
#include "common/utc_time.h"
#include "harness/heap_diff_file.h"
#include "report/report.h"

namespace leaklab::harness {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// How many same-second default names are tried before giving up.
constexpr int kMaxDefaultNameTries = 1000;

// Whether `dir` is a folder an earlier `leaklab analyze --out` made.
bool IsAnalysisFolder(const fs::path& dir) {
  std::string text;
  try {
    text = ReadWholeFile(dir / "manifest.json", limits::kResultsJsonBytes, "a manifest");
  } catch (const ReadFileError&) {
    return false;
  }
  boost::system::error_code ec;
  const json::value m = json::parse(text, ec);
  const json::value* origin = !ec && m.is_object() ? m.as_object().if_contains("origin") : nullptr;
  return origin != nullptr && origin->is_string() && origin->as_string() == kAnalysisOrigin;
}

// Creates `dir/claim_file` exclusively: false when it exists already.
bool CreateExclusively(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  if (errno == EEXIST) return false;
  throw UsageError("--out " + file.parent_path().string() +
                   ": cannot write there: " + std::strerror(errno));
}

fs::path ClaimDefaultFolder(std::string_view stem, std::string_view claim_file) {
  std::error_code ec;
  fs::create_directories("results", ec);
  if (ec) throw IoError("results: cannot create the folder: " + ec.message());
  const std::string base = std::string(stem) + "-" + UtcFolderStamp();
  // Two runs started in the same second get distinct folders; creating the
  // folder is the test, so no other writer can take it between check and use.
  for (int i = 1; i <= kMaxDefaultNameTries; ++i) {
    const fs::path dir = fs::path("results") / (i == 1 ? base : base + "-" + std::to_string(i));
    if (fs::create_directory(dir, ec) && CreateExclusively(dir / claim_file)) return dir;
    if (ec) throw IoError(dir.string() + ": cannot create the folder: " + ec.message());
  }
  throw IoError("results/" + base + ": " + std::to_string(kMaxDefaultNameTries) +
                " folders of that name exist already");
}

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string NotOurs(const fs::path& path) {
  return path.string() + ": exists and was not written by leaklab; it is left as it is";
}

// verdict.json as VerdictToJson writes it begins with its schema version.
bool IsLeaklabVerdict(const fs::path& path) {
  constexpr std::string_view kStart = "{\"schema_version\":";
  return ReadFileHead(path, kStart.size()) == kStart;
}

}  // namespace

fs::path ClaimFolder(const fs::path& requested, std::string_view stem, std::string_view claim_file,
                     bool replace_analysis) {
  if (requested.empty()) return ClaimDefaultFolder(stem, claim_file);
  const std::string flag = "--out " + requested.string();
  std::error_code ec;
  if (fs::exists(requested, ec) && !fs::is_directory(requested, ec))
    throw UsageError(flag + ": exists and is not a folder");
  fs::create_directories(requested, ec);
  if (ec) throw UsageError(flag + ": cannot create: " + ec.message());
  fs::directory_iterator it(requested, ec);
  if (ec) throw UsageError(flag + ": cannot list: " + ec.message());
  if (it != fs::directory_iterator()) {
    if (replace_analysis && IsAnalysisFolder(requested)) return requested;
    const bool has_manifest = fs::exists(requested / "manifest.json", ec);
    const std::string example = has_manifest ? "manifest.json: it already holds a run, a watch "
                                               "or an analysis"
                                             : it->path().filename().string();
    throw UsageError(flag + " holds other files (" + example +
                     "); results are never written among them: give a new or empty folder" +
                     (replace_analysis ? ", or one an earlier 'leaklab analyze --out' wrote" : ""));
  }
  if (!CreateExclusively(requested / claim_file))
    throw UsageError(flag + ": another leaklab has just claimed this folder");
  return requested;
}

FolderAnalysis AnalyzeFolder(const fs::path& dir, bool write_report,
                             std::optional<verdict::Verdict> analyzed) {
  FolderAnalysis out;
  out.verdict = analyzed ? std::move(*analyzed) : verdict::AnalyzeResultsFolder(dir, {});
  // Each file is written only when it is new or leaklab's own (issue 13): a
  // folder `leaklab analyze DIR` is pointed at may hold files of the user's.
  const fs::path diff = dir / "heap-diff.pb.gz";
  try {
    if (Exists(diff) && !IsLeaklabHeapDiff(diff)) throw IoError(NotOurs(diff));
    WriteHeapDiffProfile(out.verdict, diff);
  } catch (const std::exception& e) {
    out.verdict.explanation +=
        std::string(" Note: no heap diff profile was written: ") + e.what() + ".";
  }
  // The report shows verdict.json: it is brought up to date first.
  const fs::path verdict_json = dir / "verdict.json";
  try {
    if (Exists(verdict_json) && !IsLeaklabVerdict(verdict_json))
      throw IoError(NotOurs(verdict_json));
    WriteFileAtomically(verdict_json, verdict::VerdictToJson(out.verdict));
  } catch (const std::exception& e) {
    out.write_error = e.what();
    return out;
  }
  if (!write_report) return out;
  // The report comes last: everything is written by now, so a report that
  // fails costs the report only.
  try {
    out.report = report::WriteReport(dir);
  } catch (const std::exception& e) {
    out.report_error = e.what();
  }
  return out;
}

ResultsFolder::ResultsFolder(const fs::path& requested, std::string_view stem,
                             json::object manifest, bool replace_analysis)
    : dir_(ClaimFolder(requested, stem, "manifest.json", replace_analysis)),
      last_flush_(Clock::now()) {
  // A folder of a default name is leaklab's own; one the user named stays.
  MakeReserve(/*remove_folder_on_failure=*/requested.empty());
  manifest_["schema_version"] = kManifestSchemaVersion;
  for (auto& field : manifest) manifest_[field.key()] = std::move(field.value());
  manifest_["status"] = "running";
  WriteManifest();
}

void ResultsFolder::MakeReserve(bool remove_folder_on_failure) {
  const fs::path path = dir_ / kReserveFile;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // posix_fallocate takes real blocks (a sparse file would reserve nothing).
  const int rc = fd < 0 ? errno : ::posix_fallocate(fd, 0, static_cast<off_t>(kReserveBytes));
  if (fd >= 0) ::close(fd);
  if (rc == 0) {
    reserved_ = true;
    return;
  }
  // Nothing of this run stays behind: the reserve, the claim, and a folder
  // leaklab named and made (it is empty again now).
  std::error_code ec;
  fs::remove(path, ec);
  fs::remove(dir_ / "manifest.json", ec);
  if (remove_folder_on_failure) fs::remove(dir_, ec);
  throw IoError("--out " + dir_.string() + ": cannot keep " + FormatBytes(kReserveBytes) +
                " in reserve there (" + std::strerror(rc) +
                "); leaklab needs that much free to finish a folder if the disk fills");
}

void ResultsFolder::ReleaseReserve() {
  if (!reserved_) return;
  std::error_code ec;
  fs::remove(dir_ / kReserveFile, ec);
  reserved_ = false;
}

void ResultsFolder::SetColumns(const std::vector<std::string>& columns) {
  csv_ = series::FormatCsvHeader(columns);
  has_columns_ = true;
}

void ResultsFolder::AddSample(std::span<const double> row) {
  if (!has_columns_) throw std::logic_error("ResultsFolder: a sample before the columns");
  series::AppendCsvRow(csv_, row);
  ++samples_;
}

void ResultsFolder::AddEvent(double t_s, std::string_view event, std::string_view detail) {
  char t[32];
  std::snprintf(t, sizeof t, "%.3f", t_s);
  std::string clean(detail);
  for (char& c : clean) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') c = ' ';
  }
  events_.append(t).append(",").append(event).append(",").append(clean).append("\n");
}

void ResultsFolder::Flush() {
  if (has_columns_) {
    WriteFileAtomically(dir_ / "series.csv", csv_);
    WriteFileAtomically(dir_ / "events.csv", events_);
  }
  WriteManifest();
  last_flush_ = Clock::now();
}

void ResultsFolder::FlushIfDue() {
  if (Clock::now() - last_flush_ >= kFolderFlushInterval) Flush();
}

void ResultsFolder::WriteManifest() {
  WriteFileAtomically(dir_ / "manifest.json", json::serialize(manifest_) + "\n");
}

void ResultsFolder::WriteFile(std::string_view name, std::string_view contents) {
  WriteFileAtomically(dir_ / name, contents);
}

fs::path ResultsFolder::NextProfilePath(std::string_view kind) {
  auto it = profile_counts_.find(kind);
  if (it == profile_counts_.end()) {
    fs::create_directories(dir_ / "profiles");
    it = profile_counts_.emplace(std::string(kind), 0).first;
  }
  char name[64];
  std::snprintf(name, sizeof name, "%.24s-%04d.pb.gz", std::string(kind).c_str(), ++it->second);
  return dir_ / "profiles" / name;
}

int ResultsFolder::profiles(std::string_view kind) const {
  auto it = profile_counts_.find(kind);
  return it == profile_counts_.end() ? 0 : it->second;
}

void ResultsFolder::RecordEnd(EndReason reason, const std::string& detail, double t_s) {
  manifest_["end"] = json::object{
      {"reason", EndReasonName(reason)}, {"detail", detail}, {"t_s", t_s}, {"samples", samples_}};
}

FolderAnalysis ResultsFolder::Finish(bool write_report, std::optional<verdict::Verdict> analyzed) {
  ReleaseReserve();
  manifest_["status"] = "finished";
  if (has_columns_) {
    try {
      WriteFileAtomically(dir_ / "series.csv", csv_);
      WriteFileAtomically(dir_ / "events.csv", events_);
    } catch (const IoError& e) {
      // The last flush stays (writes replace files whole); the analysis
      // below reads it, and the manifest says what is missing.
      manifest_["write_error"] = std::string(e.what()) + " (the last " +
                                 FormatDuration(kFolderFlushInterval) +
                                 " of samples or events may be missing)";
    }
  }
  WriteManifest();
  last_flush_ = Clock::now();
  return AnalyzeFolder(dir_, write_report, std::move(analyzed));
}

}  // namespace leaklab::harness
