#include "analyzers/verdict/folder.h"

#include <boost/json.hpp>
#include <optional>

#include "analyzers/verdict/profile_evidence.h"
#include "common/duration.h"
#include "common/end_reason.h"
#include "common/read_file.h"

namespace leaklab::verdict {

namespace json = boost::json;

namespace {

// A results folder's JSON files (manifest, loadgen summary) are a few KB;
// the report reads them under the same limit.
constexpr std::uintmax_t kMaxJsonBytes = std::uintmax_t{64} << 20;

// The file's JSON, nullopt when it does not exist; InputError naming the file
// when it cannot be read or is not JSON.
std::optional<json::value> ReadJson(const std::filesystem::path& path) {
  std::string text;
  try {
    text = ReadWholeFile(path, kMaxJsonBytes, "a results folder's JSON file");
  } catch (const ReadFileError& e) {
    if (e.reason() == ReadFileError::Reason::kMissing) return std::nullopt;
    throw series::InputError(e.what());
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw series::InputError(path.string() + ": not valid JSON: " + ec.message());
  return v;
}

int64_t Int(const json::value* object, const char* key) {
  if (object == nullptr || !object->is_object()) return -1;
  const json::value* v = object->as_object().if_contains(key);
  if (v == nullptr || !v->is_number()) return -1;
  return static_cast<int64_t>(v->to_number<double>());
}

}  // namespace

Verdict AnalyzeSeriesFile(const std::filesystem::path& csv, const AnalyzeOptions& options) {
  return AnalyzeSeries(series::ReadSeriesCsv(csv), options);
}

namespace {

// Whether the folder's heap_inuse_bytes is the totals of its heap profiles:
// a watch that fetched a heap profile, or an analysis of profiles without a
// CSV beside them (`leaklab analyze heap-*.pb.gz --out DIR`).
bool HeapFromProfiles(const json::object& manifest) {
  const json::value* kind = manifest.if_contains("kind");
  const json::value* target = manifest.if_contains("target");
  if (kind != nullptr && kind->is_string() && kind->as_string() == "watch" && target != nullptr &&
      target->is_object()) {
    const json::value* pprof = target->as_object().if_contains("pprof");
    if (pprof == nullptr || !pprof->is_array()) return false;
    for (const json::value& p : pprof->as_array()) {
      const json::value* k = p.is_object() ? p.as_object().if_contains("kind") : nullptr;
      if (k != nullptr && k->is_string() && k->as_string() == "heap") return true;
    }
    return false;
  }
  const json::value* inputs = manifest.if_contains("inputs");
  if (manifest.if_contains("origin") == nullptr || inputs == nullptr || !inputs->is_array())
    return false;
  for (const json::value& i : inputs->as_array()) {
    if (i.is_string() && i.as_string().ends_with(".csv")) return false;
  }
  return true;
}

// A load that did no work proves nothing: a flat curve then says only that
// nothing happened, so "no-leak" would pass for the wrong reason.
void JudgeLoad(const std::filesystem::path& dir, Verdict& v) {
  if (std::optional<json::value> load = ReadJson(dir / "loadgen.json")) {
    const json::object* o = load->if_object();
    const json::value* error = o ? o->if_contains("error") : nullptr;
    const json::value* options_json = o ? o->if_contains("options") : nullptr;
    const json::value* result = o ? o->if_contains("result") : nullptr;
    int64_t connections = Int(options_json, "connections");
    int64_t requests = Int(result, "requests");
    std::string problem;
    if (error != nullptr && error->is_string()) {
      problem = "the load generator failed: " + std::string(error->as_string());
    } else if (connections > 0 && requests == 0) {
      problem = "the load generator completed no request";
    }
    if (!problem.empty() && v.kind == Kind::kNoLeak) {
      v.kind = Kind::kInconclusive;
      v.missing.push_back("a run under load: " + problem);
      v.explanation = "Memory did not grow, but " + problem + ", so nothing was tested.";
    }
  }
}

Verdict AnalyzeFolderSeries(const std::filesystem::path& dir, const AnalyzeOptions& options,
                            double heap_sampling_bytes) {
  const std::filesystem::path csv = dir / "series.csv";
  if (!std::filesystem::exists(csv)) {
    throw series::InputError(dir.string() + ": not a results folder (no series.csv)");
  }
  // The run's own memory limit, if it had one, is the one to predict against.
  std::optional<json::value> manifest = ReadJson(dir / "manifest.json");
  const json::object* m = manifest ? manifest->if_object() : nullptr;
  AnalyzeOptions effective = options;
  if (m != nullptr && !effective.limit_bytes) {
    const json::value* flags = m->if_contains("flags");
    if (int64_t limit = Int(flags, "mem_limit_bytes"); limit > 0)
      effective.limit_bytes = static_cast<double>(limit);
  }
  // A watch that read the heap from a JVM's metrics (jvm_...) watched a
  // generational collector.
  if (m != nullptr) {
    const json::value* target = m->if_contains("target");
    const json::value* metrics = target != nullptr && target->is_object()
                                     ? target->as_object().if_contains("metrics")
                                     : nullptr;
    if (metrics != nullptr && metrics->is_object()) {
      for (const auto& kv : metrics->as_object()) {
        if (kv.value().is_string() && kv.value().as_string().starts_with("jvm_"))
          effective.generational_heap = true;
      }
    }
  }
  if (m != nullptr && HeapFromProfiles(*m)) effective.heap_sampling_bytes = heap_sampling_bytes;
  Verdict v = AnalyzeSeriesFile(csv, effective);
  v.source = dir.string();

  JudgeLoad(dir, v);

  // A run that ended early is analyzed all the same, but says so; the absence
  // of a leak cannot be confirmed from half a run.
  const json::value* end = m ? m->if_contains("end") : nullptr;
  if (end == nullptr || !end->is_object()) {
    v.explanation +=
        " Note: the manifest does not say how the run ended; it may have been cut short.";
    // A run's or a watch's manifest always gets its end, unless the harness
    // itself was killed: the absence of a leak cannot be confirmed then.
    // (An analysis of files, `origin`, is not a run and has no end.)
    if (m != nullptr && m->if_contains("origin") == nullptr && v.kind == Kind::kNoLeak) {
      v.kind = Kind::kInconclusive;
      v.missing.push_back(
          "a run that completes (the manifest has no end: the harness was stopped before it could "
          "record one)");
    }
    return v;
  }
  const json::value* reason = end->as_object().if_contains("reason");
  const json::value* detail = end->as_object().if_contains("detail");
  const std::optional<EndReason> ended =
      reason != nullptr && reason->is_string() ? ParseEndReason(reason->as_string()) : std::nullopt;
  if (reason != nullptr && reason->is_string() && ended != EndReason::kCompleted) {
    std::string how = detail && detail->is_string() ? std::string(detail->as_string()) : "";
    if (v.kind == Kind::kNoLeak) {
      v.kind = Kind::kInconclusive;
      v.missing.push_back("a run that completes (this one ended early: " + how + ")");
    }
    if (ended == EndReason::kOomKilled && v.exhaustion) {
      const json::value* t = end->as_object().if_contains("t_s");
      if (t != nullptr && t->is_number()) {
        v.exhaustion->observed_t_s = t->to_number<double>();
        how += "; it died at t = " + FormatSeconds(*v.exhaustion->observed_t_s) +
               ", the slope predicted " + FormatSeconds(v.exhaustion->predicted_t_s);
      }
    }
    v.explanation += " Note: the run ended early (" + how + ").";
  }
  return v;
}

}  // namespace

Verdict AnalyzeResultsFolder(const std::filesystem::path& dir, const AnalyzeOptions& options) {
  // The profiles say where the growth is, and whether the heap column is
  // reported as of the last collection (Go). A profile that cannot be read
  // costs that part only: the verdict from the series stands.
  std::optional<ProfileEvidence> evidence;
  std::string profile_problem;
  AnalyzeOptions effective = options;
  double sampling = 0;
  try {
    const std::vector<std::filesystem::path> files = ResultsFolderProfiles(dir);
    if (!files.empty()) {
      std::vector<pprof::NamedProfile> profiles = ReadProfiles(files);
      effective.heap_as_of_collection =
          effective.heap_as_of_collection || HeapAsOfCollection(profiles);
      sampling = HeapSamplingBytes(profiles);
      evidence = AnalyzeProfiles(std::move(profiles));
    }
  } catch (const pprof::ProfileError& e) {
    profile_problem = e.what();
  }
  Verdict v = AnalyzeFolderSeries(dir, effective, sampling);
  if (evidence) AddProfileEvidence(v, std::move(*evidence));
  if (!profile_problem.empty())
    v.explanation += " Note: the profiles were left out: " + profile_problem + ".";
  return v;
}

}  // namespace leaklab::verdict
