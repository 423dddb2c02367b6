#include "analyzers/verdict/folder.h"

#include <boost/json.hpp>
#include <cmath>
#include <optional>
#include <string_view>

#include "analyzers/verdict/profile_evidence.h"
#include "common/duration.h"
#include "common/end_reason.h"
#include "common/input_limits.h"
#include "common/read_file.h"

namespace leaklab::verdict {

namespace json = boost::json;

namespace {

// The file's JSON, nullopt when it does not exist; InputError naming the file
// when it cannot be read or is not JSON.
std::optional<json::value> ReadJson(const std::filesystem::path& path) {
  std::string text;
  try {
    text = ReadWholeFile(path, limits::kResultsJsonBytes, "a results folder's JSON file");
  } catch (const ReadFileError& e) {
    if (e.reason() == ReadFileError::Reason::kMissing) return std::nullopt;
    throw series::InputError(e.what());
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw series::InputError(path.string() + ": not valid JSON: " + ec.message());
  return v;
}

// A whole number field of `object`, or -1 when it is missing, not a number,
// or outside the int64 range (converting such a double is undefined; found
// by manifest_fuzz with a memory limit of 1e300).
int64_t Int(const json::value* object, const char* key) {
  if (object == nullptr || !object->is_object()) return -1;
  const json::value* v = object->as_object().if_contains(key);
  if (v == nullptr || !v->is_number()) return -1;
  if (v->is_int64()) return v->as_int64();
  const double x = v->to_number<double>();
  // 2^63 is the first double past INT64_MAX.
  if (!(x >= -0x1p63 && x < 0x1p63)) return -1;
  return static_cast<int64_t>(x);
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
  std::optional<ManifestFacts> facts;
  try {
    std::string text = ReadWholeFile(dir / "manifest.json", limits::kResultsJsonBytes,
                                     "a results folder's JSON file");
    facts = ParseManifestFacts(text, (dir / "manifest.json").string());
  } catch (const ReadFileError& e) {
    if (e.reason() != ReadFileError::Reason::kMissing) throw series::InputError(e.what());
  }
  AnalyzeOptions effective = options;
  if (facts) {
    // The run's own memory limit, if it had one, is the one to predict against.
    if (!effective.limit_bytes) effective.limit_bytes = facts->limit_bytes;
    effective.generational_heap = effective.generational_heap || facts->generational_heap;
    if (facts->heap_from_profiles) effective.heap_sampling_bytes = heap_sampling_bytes;
  }
  Verdict v = AnalyzeSeriesFile(csv, effective);
  v.source = dir.string();
  JudgeLoad(dir, v);
  JudgeRunEnd(facts ? &*facts : nullptr, v);
  return v;
}

// A no-leak the data cannot confirm becomes inconclusive, and its
// explanation says so first instead of opening with "No leak".
void NotNoLeak(Verdict& v, const std::string& why) {
  v.kind = Kind::kInconclusive;
  constexpr std::string_view kNoLeak = "No leak: ";
  if (v.explanation.starts_with(kNoLeak)) v.explanation.erase(0, kNoLeak.size());
  v.explanation = "Inconclusive, as " + why + ": up to then, no sign of a leak: " + v.explanation;
}

}  // namespace

ManifestFacts ParseManifestFacts(std::string_view text, const std::string& source) {
  boost::system::error_code ec;
  json::parse_options limits;
  limits.max_depth = 64;
  const json::value doc = json::parse(text, ec, {}, limits);
  if (ec) throw series::InputError(source + ": not valid JSON: " + ec.message());
  const json::object* m = doc.if_object();
  if (m == nullptr) throw series::InputError(source + ": not a JSON object");
  ManifestFacts f;
  if (int64_t limit = Int(m->if_contains("flags"), "mem_limit_bytes"); limit > 0)
    f.limit_bytes = static_cast<double>(limit);
  // A watch that read the heap from a JVM's metrics (jvm_...) watched a
  // generational collector.
  const json::value* target = m->if_contains("target");
  const json::value* metrics = target != nullptr && target->is_object()
                                   ? target->as_object().if_contains("metrics")
                                   : nullptr;
  if (metrics != nullptr && metrics->is_object()) {
    for (const auto& kv : metrics->as_object()) {
      if (kv.value().is_string() && kv.value().as_string().starts_with("jvm_"))
        f.generational_heap = true;
    }
  }
  f.heap_from_profiles = HeapFromProfiles(*m);
  f.analysis = m->if_contains("origin") != nullptr;
  const json::value* end = m->if_contains("end");
  if (end == nullptr || !end->is_object()) return f;
  f.has_end = true;
  const json::object& e = end->as_object();
  if (const json::value* reason = e.if_contains("reason"); reason && reason->is_string())
    f.end_reason = std::string(reason->as_string());
  if (const json::value* detail = e.if_contains("detail"); detail && detail->is_string())
    f.end_detail = std::string(detail->as_string());
  if (const json::value* t = e.if_contains("t_s"); t && t->is_number()) {
    const double t_s = t->to_number<double>();
    if (std::isfinite(t_s)) f.end_t_s = t_s;
  }
  return f;
}

void JudgeRunEnd(const ManifestFacts* facts, Verdict& v) {
  // A run that ended early is analyzed all the same, but says so; the absence
  // of a leak cannot be confirmed from half a run.
  if (facts == nullptr || !facts->has_end) {
    v.explanation +=
        " Note: the manifest does not say how the run ended; it may have been cut short.";
    // A run's or a watch's manifest always gets its end, unless the harness
    // itself was killed: the absence of a leak cannot be confirmed then.
    // (An analysis of files, `origin`, is not a run and has no end.)
    if (facts != nullptr && !facts->analysis && v.kind == Kind::kNoLeak) {
      NotNoLeak(v, "the run never recorded its end");
      v.missing.push_back(
          "a run that completes (the manifest has no end: the harness was stopped before it could "
          "record one)");
    }
    return;
  }
  if (!facts->end_reason) return;
  const std::optional<EndReason> ended = ParseEndReason(*facts->end_reason);
  if (ended == EndReason::kCompleted) return;
  std::string how = facts->end_detail;
  if (v.kind == Kind::kNoLeak) {
    NotNoLeak(v, "the run ended early");
    v.missing.push_back("a run that completes (this one ended early: " + how + ")");
  }
  if (ended == EndReason::kOomKilled && v.exhaustion && facts->end_t_s) {
    v.exhaustion->observed_t_s = *facts->end_t_s;
    how += "; it died at t = " + FormatSeconds(*v.exhaustion->observed_t_s) +
           ", the slope predicted " + FormatSeconds(v.exhaustion->predicted_t_s);
  }
  v.explanation += " Note: the run ended early (" + how + ").";
}

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
