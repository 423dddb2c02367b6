#ifndef LEAKLAB_HARNESS_RESULTS_FOLDER_H_
#define LEAKLAB_HARNESS_RESULTS_FOLDER_H_

// The one writer of a results folder (shared/DESIGN.md, "Results folder";
// results/README.md): `leaklab run`, `run --all`, `watch` and
// `analyze --out` all make theirs through it, so that every folder is
// claimed by the same rule, carries one manifest schema, is flushed as it
// fills, and ends with the same last steps.

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/verdict/verdict.h"
#include "common/end_reason.h"

namespace leaklab::harness {

// manifest.json's schema_version, for every kind of folder.
inline constexpr int kManifestSchemaVersion = 1;
// series.csv, events.csv and manifest.json are rewritten whole at least this
// often while a folder fills, so a harness that is killed loses at most this
// much.
inline constexpr std::chrono::milliseconds kFolderFlushInterval{2'000};
// Room kept on the folder's file system while it is written: a hidden
// `.leaklab-reserve` file, made when the folder is claimed and deleted when
// the run or watch ends, so that one whose disk fills can still finish its
// folder (the manifest's end, the last flush of series.csv, verdict.json and
// the report: a few hundred KB for an hour of samples). A folder on a file
// system with less free is refused at the start.
inline constexpr std::uintmax_t kReserveBytes = std::uintmax_t{1} << 20;
inline constexpr const char* kReserveFile = ".leaklab-reserve";

// What manifest.json's `origin` says in a folder `leaklab analyze --out`
// made: such a folder may be replaced by a later analysis.
inline constexpr std::string_view kAnalysisOrigin = "leaklab analyze --out";

// Claims a folder for new results, atomically, and returns it.
// `requested` empty: results/<stem>-<UTC time>, with -2, -3... when that is
// taken. Otherwise the folder may be new or empty; with
// `replace_analysis`, also one an earlier `analyze --out` made. Anything
// else (a run, a watch, a workshop, files of the user's) is refused with a
// UsageError naming --out, and never touched. The claim is `claim_file`
// (manifest.json; a workshop's index.json), created empty and exclusively,
// so two writers never share a folder; its owner writes it next.
std::filesystem::path ClaimFolder(const std::filesystem::path& requested, std::string_view stem,
                                  std::string_view claim_file, bool replace_analysis = false);

// What a folder's last steps produced.
struct FolderAnalysis {
  verdict::Verdict verdict;
  std::filesystem::path report;  // report.html, when it was written
  std::string report_error;      // why it was not, when it was asked for
  std::string write_error;       // verdict.json could not be written
};

// The last steps of every results folder, in this order: the heap diff
// (heap-diff.pb.gz; a failure becomes a note in the explanation),
// verdict.json, and report.html when `write_report`, which reads the folder's
// files alone. A verdict.json or report that cannot be written is recorded in
// the result; what was already in the folder stays. The verdict is
// `analyzed`, else the folder's own analysis (verdict::AnalyzeResultsFolder).
FolderAnalysis AnalyzeFolder(const std::filesystem::path& dir, bool write_report,
                             std::optional<verdict::Verdict> analyzed = std::nullopt);

class ResultsFolder {
 public:
  // Claims the folder (ClaimFolder) and writes its manifest at once:
  // `manifest`'s fields, with schema_version and status "running".
  ResultsFolder(const std::filesystem::path& requested, std::string_view stem,
                boost::json::object manifest, bool replace_analysis = false);

  const std::filesystem::path& dir() const { return dir_; }
  boost::json::object& manifest() { return manifest_; }

  // series.csv's header; rows added before it are refused.
  void SetColumns(const std::vector<std::string>& columns);
  void AddSample(std::span<const double> row);
  size_t samples() const { return samples_; }
  // One row of events.csv; commas, quotes and line ends in `detail` become
  // spaces (the file has no quoting).
  void AddEvent(double t_s, std::string_view event, std::string_view detail);

  // Writes manifest.json, and series.csv and events.csv once SetColumns was
  // called, whole.
  void Flush();
  // Flush() when kFolderFlushInterval has passed since the last one.
  void FlushIfDue();
  void WriteManifest();
  // Writes `name` in the folder whole (loadgen.json, a copied series.csv).
  void WriteFile(std::string_view name, std::string_view contents);
  // The next file of a kind in profiles/: profiles/<kind>-0001.pb.gz, -0002...
  // creating profiles/ the first time; counted per kind.
  std::filesystem::path NextProfilePath(std::string_view kind);
  int profiles(std::string_view kind) const;

  // Deletes the reserve (kReserveBytes), making its room available for the
  // last writes; Finish() does too. Safe to call more than once.
  void ReleaseReserve();

  // Records how the run or watch ended (manifest `end`), with the number of
  // samples taken.
  void RecordEnd(EndReason reason, const std::string& detail, double t_s);
  // Releases the reserve, marks the manifest finished, flushes everything,
  // then AnalyzeFolder. When series.csv or events.csv cannot be written
  // (the disk is full), their last flush stays, the manifest says so
  // (`write_error`), and the analysis reads what is on disk.
  FolderAnalysis Finish(bool write_report, std::optional<verdict::Verdict> analyzed = std::nullopt);

 private:
  void MakeReserve(bool remove_folder_on_failure);

  std::filesystem::path dir_;
  boost::json::object manifest_;
  std::string csv_;
  std::string events_ = "t_s,event,detail\n";
  bool has_columns_ = false;
  size_t samples_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
  std::map<std::string, int, std::less<>> profile_counts_;
  bool reserved_ = false;
};

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_RESULTS_FOLDER_H_
