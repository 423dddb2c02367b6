#include "harness/analysis_folder.h"

#include <boost/json.hpp>

#include "analyzers/pprof/profile.h"
#include "analyzers/verdict/profile_evidence.h"
#include "common/atomic_file.h"
#include "common/read_file.h"
#include "common/utc_time.h"
#include "harness/build_info.h"
#include "harness/experiment.h"

namespace leaklab::harness {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kManifestSchemaVersion = 1;
// What manifest.json's `origin` says for a folder made from files, so that a
// later --out to the same folder knows it may replace it.
constexpr const char* kOrigin = "leaklab analyze --out";
// The files copied in were read under these limits already (the series
// reader's and the profile decoder's); a manifest is a few KB.
constexpr std::uintmax_t kMaxManifestBytes = std::uintmax_t{1} << 20;
constexpr std::uintmax_t kMaxSeriesBytes = std::uintmax_t{1} << 30;

void CheckFolder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec))
    throw UsageError("--out " + dir.string() + ": exists and is not a folder");
  if (fs::is_empty(dir, ec)) return;
  const fs::path manifest = dir / "manifest.json";
  boost::system::error_code jec;
  json::value m = fs::exists(manifest, ec)
                      ? json::parse(ReadWholeFile(manifest, kMaxManifestBytes, "a manifest"), jec)
                      : json::value();
  const json::value* origin = m.is_object() ? m.as_object().if_contains("origin") : nullptr;
  if (jec || origin == nullptr || !origin->is_string() || origin->as_string() != kOrigin) {
    throw UsageError(
        "--out " + dir.string() +
        ": holds other files (a run's results?); give a new or empty folder, or one an "
        "earlier 'leaklab analyze --out' wrote");
  }
}

}  // namespace

void PrepareAnalysisFolder(const fs::path& dir, const std::optional<fs::path>& csv,
                           std::vector<pprof::NamedProfile>& profiles, const std::string& label) {
  // Step 1: a run is never overwritten. The inputs are read first: they may
  // be the files of an earlier analysis in DIR, which is about to be replaced.
  CheckFolder(dir);
  const std::optional<std::string> csv_text =
      csv ? std::optional(ReadWholeFile(*csv, kMaxSeriesBytes, "a series file")) : std::nullopt;
  std::vector<std::string> profile_bytes;
  for (const pprof::NamedProfile& p : profiles)
    profile_bytes.push_back(
        ReadWholeFile(p.name, pprof::DecodeLimits{}.max_input_bytes, "a profile"));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UsageError("--out " + dir.string() + ": cannot create: " + ec.message());
  // The folder says what it is from the start, so that a later --out may
  // replace it even if this analysis stops half-way.
  WriteFileAtomically(dir / "manifest.json",
                      json::serialize(json::object{{"schema_version", kManifestSchemaVersion},
                                                   {"origin", kOrigin},
                                                   {"status", "incomplete"}}) +
                          "\n");
  // An earlier analysis's profiles would mix with these ones.
  fs::remove_all(dir / "profiles", ec);
  fs::remove(dir / "heap-diff.pb.gz", ec);

  // Step 2: the series, as the file was (unknown columns kept), or from the profiles.
  if (csv_text) {
    WriteFileAtomically(dir / "series.csv", *csv_text);
  } else {
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
    WriteFileAtomically(dir / "series.csv", text);
  }

  // Step 3: the profiles, numbered per kind in time order as a run numbers them.
  if (profiles.empty()) return;
  fs::create_directories(dir / "profiles");
  for (pprof::ProfileKind kind : {pprof::ProfileKind::kHeap, pprof::ProfileKind::kWorkers}) {
    // Order by time with the same rule the analysis uses: times, else names.
    std::vector<pprof::NamedProfile> timed;
    for (pprof::NamedProfile& p : profiles) {
      if (pprof::KindOf(p.profile) == kind) {
        pprof::NamedProfile stub{p.name, {}};
        stub.profile.time_nanos = p.profile.time_nanos;
        timed.push_back(std::move(stub));
      }
    }
    pprof::OrderByTime(timed);
    int n = 0;
    for (const pprof::NamedProfile& t : timed) {
      for (size_t i = 0; i < profiles.size(); ++i) {
        pprof::NamedProfile& p = profiles[i];
        if (p.name != t.name || pprof::KindOf(p.profile) != kind) continue;
        char name[64];
        std::snprintf(name, sizeof name, "%s-%04d.pb.gz",
                      kind == pprof::ProfileKind::kHeap ? "heap" : "workers", ++n);
        const fs::path copy = dir / "profiles" / name;
        // Copied as it was when it is gzip (as Go and leaklab write them),
        // else encoded so, as the name promises.
        std::string bytes = std::move(profile_bytes[i]);
        if (bytes.size() < 2 || bytes[0] != '\x1f' || bytes[1] != '\x8b')
          bytes = pprof::EncodeProfile(p.profile);
        WriteFileAtomically(copy, bytes);
        p.name = copy.string();
        break;
      }
    }
  }
}

void FinishAnalysisFolder(const fs::path& dir, const verdict::Verdict& v,
                          const std::vector<std::string>& inputs,
                          const std::vector<std::string>& command_line) {
  json::array in, argv;
  for (const std::string& i : inputs)
    in.push_back(json::string(fs::absolute(i).lexically_normal().string()));
  for (const std::string& a : command_line) argv.push_back(json::string(a));
  json::object manifest{
      {"schema_version", kManifestSchemaVersion},
      {"origin", kOrigin},
      {"description", "analysis of files from elsewhere: " + v.source},
      {"inputs", std::move(in)},
      {"command_line", std::move(argv)},
      {"analyzed_at", UtcIsoTime()},
      {"git_revision", GitRevision()},
      {"status", "finished"},
  };
  WriteFileAtomically(dir / "manifest.json", json::serialize(manifest) + "\n");
  WriteFileAtomically(dir / "verdict.json", verdict::VerdictToJson(v));
}

}  // namespace leaklab::harness
