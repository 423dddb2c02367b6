#include "report/run_data.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <sstream>

#include "common/bytes.h"
#include "common/duration.h"
#include "common/input_limits.h"
#include "common/read_file.h"
#include "report/html.h"
#include "report/report.h"

namespace leaklab::report {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// A manifest value longer than this is cut, so one odd field cannot fill the page.
constexpr size_t kMaxManifestValueChars = 300;

// The file's contents, or nullopt when it does not exist.
std::optional<std::string> ReadOptional(const fs::path& path, uintmax_t max_bytes) {
  try {
    return ReadWholeFile(path, max_bytes);
  } catch (const ReadFileError& e) {
    if (e.reason() == ReadFileError::Reason::kMissing) return std::nullopt;
    throw ReportError(e.what());
  }
}

json::value ParseJson(const std::string& text, const std::string& source) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) throw ReportError(source + ": not valid JSON: " + ec.message());
  return v;
}

const json::value* Field(const json::value* v, std::string_view key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  return v->as_object().if_contains(key);
}

std::optional<double> Num(const json::value* v) {
  if (v == nullptr || !v->is_number()) return std::nullopt;
  const double x = v->to_number<double>();
  if (!std::isfinite(x)) return std::nullopt;
  return x;
}

std::string Str(const json::value* v) {
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->as_string());
}

std::vector<std::string> Strings(const json::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const json::value& e : v->as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

// The first number among `keys` (the profile figures are named per unit:
// growth_bytes, growth_workers, slope_bytes_per_s, ...).
std::optional<double> FirstNum(const json::value* v, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (auto x = Num(Field(v, k))) return x;
  }
  return std::nullopt;
}

void ReadFloor(const json::value* floor, SignalView& s) {
  if (floor == nullptr) return;
  if (floor->is_object()) {
    const json::value* t = Field(floor, "t_s");
    const json::value* b = Field(floor, "bytes");
    if (b == nullptr) b = Field(floor, "values");
    if (t == nullptr || b == nullptr || !t->is_array() || !b->is_array()) return;
    const size_t n = std::min(t->as_array().size(), b->as_array().size());
    for (size_t i = 0; i < n; ++i) {
      auto ti = Num(&t->as_array()[i]);
      auto bi = Num(&b->as_array()[i]);
      if (ti && bi) {
        s.floor_t.push_back(*ti);
        s.floor_v.push_back(*bi);
      }
    }
  } else if (floor->is_array()) {
    for (const json::value& p : floor->as_array()) {
      std::optional<double> ti, bi;
      if (p.is_array() && p.as_array().size() >= 2) {
        ti = Num(&p.as_array()[0]);
        bi = Num(&p.as_array()[1]);
      } else if (p.is_object()) {
        ti = Num(Field(&p, "t_s"));
        bi = FirstNum(&p, {"bytes", "value"});
      }
      if (ti && bi) {
        s.floor_t.push_back(*ti);
        s.floor_v.push_back(*bi);
      }
    }
  }
}

SignalView ReadSignal(const json::value& o) {
  SignalView s;
  s.signal = Str(Field(&o, "signal"));
  s.trend = Str(Field(&o, "trend"));
  s.reason = Str(Field(&o, "reason"));
  if (const json::value* w = Field(&o, "window_s");
      w != nullptr && w->is_array() && w->as_array().size() == 2) {
    s.t_begin_s = Num(&w->as_array()[0]);
    s.t_end_s = Num(&w->as_array()[1]);
  }
  s.slope = Num(Field(&o, "slope_bytes_per_s"));
  if (const json::value* ci = Field(&o, "slope_ci95_bytes_per_s");
      ci != nullptr && ci->is_array() && ci->as_array().size() == 2) {
    s.slope_low = Num(&ci->as_array()[0]);
    s.slope_high = Num(&ci->as_array()[1]);
  }
  s.level_bytes = Num(Field(&o, "level_bytes"));
  s.intercept_bytes = Num(Field(&o, "intercept_bytes"));
  s.growth_bytes = Num(Field(&o, "growth_bytes"));
  s.p_value = Num(Field(Field(&o, "mann_kendall"), "p_value"));
  ReadFloor(Field(&o, "floor"), s);
  s.level_shift_t_s = Num(Field(&o, "level_shift_t_s"));
  if (!s.level_shift_t_s) s.level_shift_t_s = Num(Field(Field(&o, "level_shift"), "t_s"));
  return s;
}

std::string ReleaseValue(const json::value& v, std::string_view key) {
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (auto x = Num(&v)) return key.ends_with("_bytes") ? FormatBytes(*x) : FormatNumber(*x);
  if (v.is_string()) return std::string(v.as_string());
  return "";
}

std::string ProfilesNote(const json::value* p, const char* what) {
  auto n = Num(Field(p, "profiles"));
  if (!n) return "";
  std::string note = FormatNumber(*n) + " " + what;
  auto span = Num(Field(p, "span"));
  const json::value* timed = Field(p, "timed");
  if (span && timed != nullptr && timed->is_bool() && timed->as_bool())
    note += " over " + FormatSeconds(*span);
  return note;
}

// Manifest keys shown first, in this order; the rest follow as they come.
const char* const kManifestOrder[] = {
    "scenario",
    "variant",
    "status",
    "end.reason",
    "end.detail",
    "start_time",
    "elapsed_s",
    "end.samples",
    "flags.duration_ms",
    "flags.sample_interval_ms",
    "flags.connections",
    "flags.rate_per_s",
    "flags.path_template",
    "flags.schedule",
    "flags.mem_limit_bytes",
    "mem_limit",
    "profiles",
    "seed",
    "git_revision",
    "compiler",
    "allocator",
    "kernel",
    "cpus",
    "server",
    "command_line",
};

std::string ScalarText(const json::value& v, std::string_view key) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "";
  if (auto x = Num(&v)) {
    if (key.ends_with("_ms")) return FormatSeconds(*x / 1000);
    if (key.ends_with("_bytes")) return FormatBytes(*x);
    if (key.ends_with("_s") && key != "t_s") return FormatSeconds(*x);
    if (key == "t_s") return FormatSeconds(*x);
    return FormatNumber(*x, 6);
  }
  std::string s = json::serialize(v);
  return s;
}

std::string ScheduleText(const json::value& v) {
  if (!v.is_array()) return ScalarText(v, "");
  std::string out;
  for (const json::value& r : v.as_array()) {
    if (!out.empty()) out += "; ";
    out += Str(Field(&r, "name")) + ": " + Str(Field(&r, "method")) + " " + Str(Field(&r, "path"));
    auto first = Num(Field(&r, "first_at_ms"));
    auto every = Num(Field(&r, "every_ms"));
    if (every && *every > 0) out += " every " + FormatSeconds(*every / 1000);
    if (first) out += (every && *every > 0 ? " from " : " at ") + FormatSeconds(*first / 1000);
  }
  return out.empty() ? "none" : out;
}

void Flatten(const std::string& prefix, const json::value& v,
             std::vector<std::pair<std::string, std::string>>& out) {
  const std::string leaf =
      prefix.substr(prefix.rfind('.') == std::string::npos ? 0 : prefix.rfind('.') + 1);
  if (prefix == "flags.schedule") {
    out.emplace_back(prefix, ScheduleText(v));
  } else if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      Flatten(prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key()),
              kv.value(), out);
    }
  } else if (v.is_array()) {
    std::string joined;
    bool scalars = true;
    for (const json::value& e : v.as_array()) {
      if (e.is_object() || e.is_array()) scalars = false;
    }
    if (scalars) {
      for (const json::value& e : v.as_array())
        joined += (joined.empty() ? "" : " ") + ScalarText(e, leaf);
    } else {
      joined = json::serialize(v);
    }
    out.emplace_back(prefix, joined);
  } else if (!v.is_null()) {
    out.emplace_back(prefix, ScalarText(v, leaf));
  }
}

std::vector<std::pair<std::string, std::string>> ManifestRows(const json::value& m) {
  std::vector<std::pair<std::string, std::string>> all;
  Flatten("", m, all);
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<bool> used(all.size(), false);
  for (const char* key : kManifestOrder) {
    const std::string k = key;
    for (size_t i = 0; i < all.size(); ++i) {
      if (used[i]) continue;
      if (all[i].first == k || all[i].first.starts_with(k + ".")) {
        out.push_back(all[i]);
        used[i] = true;
      }
    }
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (!used[i] && all[i].first != "schema_version" && all[i].first != "flags.out")
      out.push_back(all[i]);
  }
  for (auto& [k, v] : out) {
    if (v.size() > kMaxManifestValueChars) v = v.substr(0, kMaxManifestValueChars) + "…";
  }
  return out;
}

std::string LoadSummary(const json::value& load) {
  const json::value* result = Field(&load, "result");
  auto requests = Num(Field(result, "requests"));
  std::string out;
  if (requests) {
    out = FormatNumber(*requests, 9) + " requests";
    if (auto rps = Num(Field(result, "requests_per_s")))
      out += " (" + FormatNumber(*rps) + " per second)";
    double errors = 0;
    if (const json::value* e = Field(result, "errors"); e != nullptr && e->is_object()) {
      for (const auto& kv : e->as_object()) errors += Num(&kv.value()).value_or(0);
    }
    out += ", " + FormatNumber(errors, 9) + (errors == 1 ? " error" : " errors");
    if (auto lat = Num(Field(result, "latency_mean_ms")))
      out += ", mean latency " + FormatNumber(*lat) + " ms";
  }
  if (const json::value* note = Field(&load, "note"); note != nullptr && note->is_string()) {
    out += (out.empty() ? "" : "; ") + std::string(note->as_string());
  }
  if (const json::value* error = Field(&load, "error"); error != nullptr && error->is_string()) {
    out += (out.empty() ? "" : "; ") + std::string("the load generator failed: ") +
           std::string(error->as_string());
  }
  return out;
}

// Orders the rows by time (stable), when a foreign file's are not: lines
// are drawn left to right.
void SortByTime(series::Series& s) {
  if (std::is_sorted(s.t_s.begin(), s.t_s.end())) return;
  std::vector<size_t> order(s.t_s.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.t_s[a] < s.t_s[b]; });
  const auto permute = [&](std::vector<double>& v) {
    std::vector<double> out(v.size());
    for (size_t i = 0; i < order.size() && i < v.size(); ++i) out[i] = v[order[i]];
    v = std::move(out);
  };
  permute(s.t_s);
  for (auto& c : s.values) permute(c);
}

}  // namespace

VerdictView ParseVerdictJson(const std::string& text, const std::string& source) {
  const json::value doc = ParseJson(text, source);
  if (!doc.is_object()) throw ReportError(source + ": not a JSON object");
  VerdictView v;
  const json::value* kind = Field(&doc, "verdict");
  if (kind == nullptr) throw ReportError(source + ": no field 'verdict'");
  if (!kind->is_string() || kind->as_string().empty()) {
    throw ReportError(source + ": field 'verdict' is not a verdict name (" +
                      json::serialize(*kind) + ")");
  }
  v.verdict = std::string(kind->as_string());
  v.explanation = Str(Field(&doc, "explanation"));
  v.source = Str(Field(&doc, "source"));
  v.missing = Strings(Field(&doc, "missing"));

  const json::value* evidence = Field(&doc, "evidence");
  if (const json::value* signals = Field(evidence, "signals");
      signals != nullptr && signals->is_array()) {
    for (const json::value& s : signals->as_array()) {
      if (s.is_object()) v.signals.push_back(ReadSignal(s));
    }
  }
  if (const json::value* work = Field(evidence, "work"); work != nullptr && work->is_array()) {
    for (const json::value& w : work->as_array()) {
      WorkView wv{Str(Field(&w, "signal")),    Str(Field(&w, "counter")),
                  Str(Field(&w, "unit")),      Num(Field(&w, "bytes_per_unit")),
                  Num(Field(&w, "r_squared")), Num(Field(&w, "units")),
                  Num(Field(&w, "points"))};
      if (!wv.counter.empty()) v.work.push_back(std::move(wv));
    }
  }
  if (const json::value* release = Field(evidence, "release");
      release != nullptr && release->is_object()) {
    for (const auto& kv : release->as_object()) {
      std::string value = ReleaseValue(kv.value(), kv.key());
      if (!value.empty()) v.release.emplace_back(std::string(kv.key()), value);
    }
  }
  if (const json::value* e = Field(evidence, "exhaustion"); e != nullptr && e->is_object()) {
    v.exhaustion = ExhaustionView{Num(Field(e, "limit_bytes")), Num(Field(e, "predicted_t_s")),
                                  Num(Field(e, "time_left_s")), Num(Field(e, "observed_t_s")),
                                  Str(Field(e, "signal"))};
  }
  const json::value* profiles = Field(evidence, "profiles");
  if (const json::value* heap = Field(profiles, "heap"); heap != nullptr && heap->is_object()) {
    v.heap_profiles_note = ProfilesNote(heap, "heap profiles");
    if (const json::value* sites = Field(heap, "sites"); sites != nullptr && sites->is_array()) {
      for (const json::value& s : sites->as_array()) {
        SiteView sv;
        sv.site = Str(Field(&s, "site"));
        sv.stack = Strings(Field(&s, "stack"));
        sv.share = Num(Field(&s, "share"));
        sv.growth = FirstNum(&s, {"growth_bytes"});
        sv.first = FirstNum(&s, {"first_bytes"});
        sv.last = FirstNum(&s, {"last_bytes"});
        if (!sv.site.empty() || !sv.stack.empty()) v.sites.push_back(std::move(sv));
      }
    }
    if (const json::value* a = Field(heap, "allocating"); a != nullptr && a->is_array()) {
      for (const json::value& s : a->as_array()) {
        AllocatingView av{Str(Field(&s, "site")), Num(Field(&s, "allocated_bytes")),
                          Num(Field(&s, "share")), Num(Field(&s, "growth_share"))};
        if (!av.site.empty()) v.allocating.push_back(std::move(av));
      }
    }
  }
  if (const json::value* workers = Field(profiles, "workers");
      workers != nullptr && workers->is_object()) {
    v.worker_profiles_note = ProfilesNote(workers, "worker profiles");
    if (const json::value* groups = Field(workers, "groups");
        groups != nullptr && groups->is_array()) {
      for (const json::value& g : groups->as_array()) {
        WorkerGroupView gv;
        gv.wait_point = Str(Field(&g, "wait_point"));
        gv.spawn_site = Str(Field(&g, "spawn_site"));
        gv.blocked_in = Str(Field(&g, "blocked_in"));
        gv.stack = Strings(Field(&g, "stack"));
        gv.share = Num(Field(&g, "share"));
        gv.growth = FirstNum(&g, {"growth_workers"});
        gv.first = FirstNum(&g, {"first_workers"});
        gv.last = FirstNum(&g, {"last_workers"});
        if (!gv.wait_point.empty() || !gv.stack.empty()) v.groups.push_back(std::move(gv));
      }
    }
  }
  v.diff_profile = Str(Field(profiles, "diff_profile"));
  return v;
}

std::vector<Event> ParseEventsCsv(const std::string& text, const std::string& source) {
  std::vector<Event> out;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (!line.starts_with("t_s,event")) {
        throw ReportError(source + ":1: header is not 't_s,event,detail'");
      }
      continue;
    }
    if (line.empty()) continue;
    const size_t c1 = line.find(',');
    if (c1 == std::string::npos)
      throw ReportError(source + ":" + std::to_string(line_no) + ": no comma");
    const size_t c2 = line.find(',', c1 + 1);
    Event e;
    const std::string t = line.substr(0, c1);
    char* end = nullptr;
    e.t_s = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(e.t_s)) {
      throw ReportError(source + ":" + std::to_string(line_no) + ": t_s '" + t +
                        "' is not a number");
    }
    e.event = line.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
    if (c2 != std::string::npos) e.detail = line.substr(c2 + 1);
    out.push_back(std::move(e));
  }
  if (line_no == 0) throw ReportError(source + ": empty (no header)");
  return out;
}

void AdoptSeries(RunData& d, series::Series s) {
  d.series = std::move(s);
  if (!std::is_sorted(d.series.t_s.begin(), d.series.t_s.end())) {
    SortByTime(d.series);
    d.notes.push_back(
        "series.csv: the samples are not in time order; they are drawn sorted by t_s.");
  }
}

void ReadManifestInto(RunData& d, const std::string& text, const std::string& source) {
  const json::value m = ParseJson(text, source);
  if (!m.is_object()) throw ReportError(source + ": not a JSON object");
  d.manifest = ManifestRows(m);
  const std::string scenario = Str(Field(&m, "scenario"));
  const std::string variant = Str(Field(&m, "variant"));
  if (!scenario.empty()) d.title = scenario + (variant.empty() ? "" : " / " + variant);
  d.subtitle = Str(Field(&m, "description"));
}

RunData ReadRunData(const fs::path& dir) {
  RunData d;
  d.dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw ReportError(dir.string() + ": not a folder");
  const fs::path csv = dir / "series.csv";
  if (!fs::exists(csv, ec))
    throw ReportError(dir.string() + ": not a results folder (no series.csv)");
  try {
    AdoptSeries(d, series::ReadSeriesCsv(csv));
  } catch (const series::InputError& e) {
    throw ReportError(e.what());
  }
  if (auto text = ReadOptional(dir / "events.csv", limits::kEventsCsvBytes)) {
    d.events = ParseEventsCsv(*text, (dir / "events.csv").string());
  }
  if (auto text = ReadOptional(dir / "verdict.json", limits::kResultsJsonBytes)) {
    d.verdict = ParseVerdictJson(*text, (dir / "verdict.json").string());
  }
  if (auto text = ReadOptional(dir / "manifest.json", limits::kResultsJsonBytes)) {
    ReadManifestInto(d, *text, (dir / "manifest.json").string());
  }
  if (auto text = ReadOptional(dir / "loadgen.json", limits::kResultsJsonBytes)) {
    d.load_summary = LoadSummary(ParseJson(*text, (dir / "loadgen.json").string()));
  }
  fs::path normal = fs::absolute(dir).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();  // "dir/"
  const std::string name = normal.filename().string();
  if (d.title.empty()) d.title = name.empty() ? dir.string() : name;
  return d;
}

}  // namespace leaklab::report
