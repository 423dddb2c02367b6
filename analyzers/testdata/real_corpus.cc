#include "analyzers/testdata/real_corpus.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "analyzers/pprof/profile_kind.h"
#include "analyzers/series/prometheus.h"
#include "analyzers/series/trend.h"
#include "analyzers/verdict/folder.h"
#include "analyzers/verdict/profile_evidence.h"
#include "common/read_file.h"

namespace leaklab::corpus {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

json::object ReadObject(const fs::path& path) {
  // A case's label and manifest are a few KB; the limit only stops a wrong path.
  const std::string text = ReadWholeFile(path, 1 << 20, "a corpus case's JSON");
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw std::runtime_error(path.string() + ": not a JSON object");
  return v.as_object();
}

std::string Text(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

double Number(const json::object& o, const char* key, double otherwise) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<double>() : otherwise;
}

// The label's fields into `c`; throws naming the file when `expected` is not a verdict.
void ApplyLabel(const json::object& label, const std::string& where, RealCase& c) {
  c.expected = Text(label, "expected");
  if (!verdict::ParseKind(c.expected) || c.expected == "inconclusive") {
    throw std::runtime_error(where + ": expected must be leak, no-leak or lazy-release");
  }
  c.runtime = Text(label, "runtime");
  c.shape = Text(label, "shape");
  c.regime = Text(label, "regime");
  c.site = Text(label, "site");
  c.worker_group = Text(label, "worker_group");
  c.unit = Text(label, "unit");
  const json::value* decidable = label.if_contains("decidable");
  c.decidable = decidable == nullptr || !decidable->is_bool() || decidable->as_bool();
  c.steady_after_s = Number(label, "steady_after_s", 0);
  c.retained_bytes_per_unit = Number(label, "retained_bytes_per_unit", 0);
  c.rate_per_s = Number(label, "rate_per_s", 0);
  c.steady_cycles = static_cast<int>(Number(label, "steady_cycles", -1));
}

}  // namespace

std::string Family(const RealCase& c) {
  if (c.runtime.starts_with("go")) return "go";
  if (c.runtime.starts_with("openjdk")) return "jvm";
  return c.runtime.substr(0, c.runtime.find('-'));
}

std::vector<RealCase> LoadRealCorpus(const fs::path& root) {
  std::vector<RealCase> out;
  // 1. Results folders, one case each.
  std::vector<fs::path> dirs;
  if (fs::is_directory(root / "cases")) {
    for (const fs::directory_entry& e : fs::directory_iterator(root / "cases")) {
      if (e.is_directory() && fs::exists(e.path() / "label.json")) dirs.push_back(e.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& dir : dirs) {
    RealCase c;
    c.name = dir.filename().string();
    c.dir = dir;
    ApplyLabel(ReadObject(dir / "label.json"), (dir / "label.json").string(), c);
    c.series = series::ReadSeriesCsv(dir / "series.csv");
    const std::vector<fs::path> profiles = verdict::ResultsFolderProfiles(dir);
    const std::vector<pprof::NamedProfile> read = verdict::ReadProfiles(profiles);
    c.options.heap_as_of_collection = verdict::HeapAsOfCollection(read);
    for (const fs::path& p : profiles) {
      if (p.filename().string().starts_with("heap-")) c.heap_profiles.push_back(p);
    }
    out.push_back(std::move(c));
  }
  // 2. Prometheus exports: each series a labelled job names is a case.
  const fs::path labels_file = root / "long" / "labels.json";
  if (fs::exists(labels_file)) {
    const json::object labels = ReadObject(labels_file);
    std::vector<fs::path> exports;
    for (const fs::directory_entry& e : fs::directory_iterator(root / "long")) {
      if (e.path().extension() == ".json" && e.path() != labels_file) exports.push_back(e.path());
    }
    std::sort(exports.begin(), exports.end());
    for (const fs::path& file : exports) {
      for (series::Series& s : series::ReadPrometheusQueryRange(file)) {
        // "file: metric{instance=..,job="NAME",..}": the job names the program.
        const size_t job = s.source.find("job=\"");
        if (job == std::string::npos) continue;
        const size_t end = s.source.find('"', job + 5);
        const std::string name = s.source.substr(job + 5, end - job - 5);
        const json::value* label = labels.if_contains(name);
        if (label == nullptr || !label->is_object()) continue;
        RealCase c;
        c.name = name + "/" + file.stem().string();
        ApplyLabel(label->as_object(), labels_file.string() + ": " + name, c);
        c.regime = "long";
        c.series = std::move(s);
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

verdict::Verdict AnalyzeCase(const RealCase& c) {
  if (!c.dir.empty()) return verdict::AnalyzeResultsFolder(c.dir, {});
  return verdict::AnalyzeSeries(c.series, c.options);
}

verdict::Kind AnalyzePrefix(const RealCase& c, size_t n) {
  series::Series p;
  p.source = c.series.source;
  p.columns = c.series.columns;
  n = std::min(n, c.series.size());
  p.t_s.assign(c.series.t_s.begin(), c.series.t_s.begin() + static_cast<ptrdiff_t>(n));
  for (const std::vector<double>& column : c.series.values) {
    p.values.emplace_back(column.begin(), column.begin() + static_cast<ptrdiff_t>(n));
  }
  return verdict::AnalyzeSeries(p, c.options).kind;
}

Memory MemoryOf(const RealCase& c) {
  Memory m;
  const std::vector<double>* v = c.series.Find(series::kRssBytesColumn);
  if (v == nullptr) v = c.series.Find(series::kHeapInuseBytesColumn);
  if (v == nullptr && c.series.columns.size() == 1) v = &c.series.values[0];  // a Prometheus series
  if (v == nullptr) return m;
  for (size_t i = 0; i < c.series.size(); ++i) {
    if (!std::isfinite((*v)[i])) continue;
    m.t_s.push_back(c.series.t_s[i]);
    m.bytes.push_back((*v)[i]);
  }
  return m;
}

namespace {

struct LinearFitOr {
  bool ok = false;
  series::LinearFit fit{};
};

LinearFitOr Fit(const Memory& m) {
  LinearFitOr out;
  if (m.t_s.size() < 2) return out;
  try {
    out.fit = series::LeastSquares(m.t_s, m.bytes);
    out.ok = true;
  } catch (const std::invalid_argument&) {
  }
  return out;
}

}  // namespace

bool CorootAlarm(const Memory& m) {
  const LinearFitOr f = Fit(m);
  if (!f.ok) return false;
  const double end = m.t_s.back();
  const double start = std::max(end - 3600, m.t_s.front());
  const double e = f.fit.intercept + f.fit.slope * end;
  const double s = f.fit.intercept + f.fit.slope * start;
  if (!(s > 0 && e > 0) || !(end > start)) return false;
  // The rise over the hour (or the window, scaled to an hour), as a share of the level at its
  // start.
  const double percent_per_hour = (e - s) / s * 100 * 3600 / (end - start);
  return percent_per_hour >= 10;
}

bool FixedThresholdAlarm(const Memory& m) {
  const LinearFitOr f = Fit(m);
  return f.ok && f.fit.slope * 3600 >= 10e6;
}

bool MannKendallAlarm(const Memory& m) {
  if (m.bytes.size() < 3) return false;
  try {
    const series::MannKendall mk = series::MannKendallTest(m.bytes);
    return mk.p_value < 0.05 && mk.s > 0;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

std::optional<std::string> PprofTopBase(const fs::path& first, const fs::path& last) {
  // The peer as a user runs it; stderr (pprof's notes) is dropped.
  const std::string command = "go tool pprof -top -sample_index=inuse_space -base '" +
                              first.string() + "' '" + last.string() + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t got = std::fread(buffer.data(), 1, buffer.size(), pipe.get()))
    output.append(buffer.data(), got);
  // The table follows the header "      flat  flat%   sum%        cum   cum%";
  // each row is five figures, then the function.
  std::istringstream lines(output);
  std::string line;
  bool table = false;
  while (std::getline(lines, line)) {
    if (!table) {
      table = line.find("flat%") != std::string::npos && line.find("cum%") != std::string::npos;
      continue;
    }
    std::istringstream row(line);
    std::string field;
    for (int i = 0; i < 5 && row >> field; ++i) {
    }
    std::string function;
    std::getline(row >> std::ws, function);
    if (!function.empty()) return function;
  }
  return std::nullopt;
}

}  // namespace leaklab::corpus
