#include "analyzers/series/prometheus.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/input_limits.h"
#include "common/read_file.h"

namespace leaklab::series {
namespace {

namespace json = boost::json;

// Values quoted in messages are cut to this length.
constexpr size_t kMaxQuoted = 40;

std::string Quote(std::string_view text) {
  return "'" + std::string(text.substr(0, kMaxQuoted)) + (text.size() > kMaxQuoted ? "...'" : "'");
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void Fail(const std::string& path, const std::string& problem) const {
    throw InputError(source_ + ": " + (path.empty() ? "" : path + ": ") + problem);
  }

  const json::object& Object(const json::value& v, const std::string& path) const {
    if (!v.is_object()) Fail(path, "expected an object, found " + Kind(v));
    return v.get_object();
  }
  const json::array& Array(const json::value& v, const std::string& path) const {
    if (!v.is_array()) Fail(path, "expected an array, found " + Kind(v));
    return v.get_array();
  }
  std::string_view String(const json::value& v, const std::string& path) const {
    if (!v.is_string()) Fail(path, "expected a string, found " + Kind(v));
    return v.get_string();
  }
  const json::value& Field(const json::object& o, std::string_view key,
                           const std::string& path) const {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) Fail(path, "no '" + std::string(key) + "' field");
    return *v;
  }

  static std::string Kind(const json::value& v) {
    switch (v.kind()) {
      case json::kind::null:
        return "null";
      case json::kind::bool_:
        return "a boolean";
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_:
        return "a number";
      case json::kind::string:
        return "a string";
      case json::kind::array:
        return "an array";
      case json::kind::object:
        return "an object";
    }
    return "?";
  }

 private:
  std::string source_;
};

// A sample value as the API writes it: a string holding a Go float
// ("1.5e+07", "NaN", "+Inf"). NaN is a missing sample; infinity is refused.
double ParseValue(std::string_view text, const Reader& r, const std::string& path) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  std::string_view digits = text;
  if (digits.size() > 1 && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    r.Fail(path, Quote(text) + " is not a number");
  }
  if (!std::isfinite(value)) r.Fail(path, Quote(text) + " is not a finite number");
  return value;
}

// A timestamp: the API writes a JSON number of seconds (fractional for
// sub-second steps); a string holding one is accepted too.
double ParseTime(const json::value& v, const Reader& r, const std::string& path) {
  double t = 0;
  if (v.is_number()) {
    t = v.to_number<double>();
  } else if (v.is_string()) {
    t = ParseValue(v.get_string(), r, path);
  } else {
    r.Fail(path, "expected a timestamp (seconds), found " + Reader::Kind(v));
  }
  if (!std::isfinite(t)) r.Fail(path, "the timestamp is not a finite number");
  // Unix seconds: 0 to kMaxTimeSeconds (31,700 years), as for a CSV's t_s, so
  // the series' times, counted from the earliest, stay within it. A larger
  // one is in another unit (milliseconds) or nonsense; found by prometheus_fuzz.
  if (t < 0 || t > kMaxTimeSeconds) {
    char text[64];
    std::snprintf(text, sizeof text, "%g", t);
    r.Fail(path, std::string("the timestamp ") + text +
                     " is not Unix seconds (0 to 1e12; milliseconds are not accepted)");
  }
  return t;
}

}  // namespace

std::string MemoryColumnForMetric(std::string_view name) {
  if (name.empty()) return "value";
  if (name == "process_resident_memory_bytes" || name == "container_memory_rss") {
    return std::string(kRssBytesColumn);
  }
  if (name == "go_memstats_heap_inuse_bytes") return std::string(kHeapInuseBytesColumn);
  constexpr std::string_view kLeaklabPrefix = "leaklab_";
  if (name.starts_with(kLeaklabPrefix) && IsKnownColumn(name.substr(kLeaklabPrefix.size()))) {
    return std::string(name.substr(kLeaklabPrefix.size()));
  }
  return std::string(name);
}

std::string PrometheusSeriesName(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string name;
  std::vector<std::pair<std::string, std::string>> others;
  for (const auto& [key, value] : labels) {
    if (key == "__name__") {
      name = value;
    } else {
      others.emplace_back(key, value);
    }
  }
  std::sort(others.begin(), others.end());
  if (others.empty() && !name.empty()) return name;
  name += "{";
  for (size_t i = 0; i < others.size(); ++i) {
    if (i > 0) name += ",";
    name += others[i].first + "=\"" + others[i].second + "\"";
  }
  return name + "}";
}

std::vector<Series> ParsePrometheusQueryRange(std::string_view text, std::string_view source,
                                              const PrometheusOptions& options) {
  const Reader r(source);
  // 1. JSON, with the place of a syntax error.
  json::stream_parser parser;
  boost::system::error_code ec;
  const size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    const std::string_view before = text.substr(0, std::min(used, text.size()));
    const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t newline = before.rfind('\n');
    const size_t column = before.size() - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
    r.Fail("", "not valid JSON at line " + std::to_string(line) + ", column " +
                   std::to_string(column) + ": " + ec.message());
  }
  const json::value root = parser.release();

  // 2. The envelope: status, then data.resultType and data.result.
  const json::object& top = r.Object(root, "(top level)");
  const std::string_view status = r.String(r.Field(top, "status", "(top level)"), "status");
  if (status != "success") {
    std::string why = "the query failed (status " + Quote(status) + ")";
    const json::value* type = top.if_contains("errorType");
    const json::value* error = top.if_contains("error");
    if (type != nullptr && type->is_string()) why += ", " + std::string(type->get_string());
    if (error != nullptr && error->is_string()) why += ": " + std::string(error->get_string());
    r.Fail("", why);
  }
  const json::object& data = r.Object(r.Field(top, "data", "(top level)"), "data");
  const std::string_view type = r.String(r.Field(data, "resultType", "data"), "data.resultType");
  if (type != "matrix") {
    r.Fail("data.resultType", Quote(type) +
                                  " is not a range result ('matrix'): export /api/v1/query_range, "
                                  "not an instant query");
  }
  const json::array& result = r.Array(r.Field(data, "result", "data"), "data.result");
  if (result.empty()) r.Fail("data.result", "the query returned no series");
  if (result.size() > limits::kPrometheusExportSeries) {
    r.Fail("data.result", std::to_string(result.size()) +
                              " series, more than 10000, the limit for a Prometheus export; "
                              "narrow the query");
  }

  // 3. Each result: its labels, then its [time, "value"] pairs.
  struct Raw {
    std::string name;
    std::string column;
    std::vector<double> t, v;
  };
  std::vector<Raw> raws;
  double origin = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < result.size(); ++k) {
    const std::string at = "data.result[" + std::to_string(k) + "]";
    const json::object& item = r.Object(result[k], at);
    std::vector<std::pair<std::string, std::string>> labels;
    const json::object& metric = r.Object(r.Field(item, "metric", at), at + ".metric");
    for (const auto& [key, value] : metric) {
      labels.emplace_back(std::string(key),
                          std::string(r.String(value, at + ".metric." + std::string(key))));
    }
    Raw raw;
    raw.name = PrometheusSeriesName(labels);
    std::string metric_name;
    for (const auto& [key, value] : labels) {
      if (key == "__name__") metric_name = value;
    }
    raw.column = options.column.empty() ? MemoryColumnForMetric(metric_name) : options.column;
    if (item.contains("histograms") && !item.contains("values")) {
      r.Fail(at, "a native histogram series, not sample values");
    }
    const json::array& values = r.Array(r.Field(item, "values", at), at + ".values");
    raw.t.reserve(values.size());
    raw.v.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string pair_at = at + ".values[" + std::to_string(i) + "]";
      const json::array& pair = r.Array(values[i], pair_at);
      if (pair.size() != 2) {
        r.Fail(pair_at,
               "expected [time, \"value\"], found " + std::to_string(pair.size()) + " elements");
      }
      raw.t.push_back(ParseTime(pair[0], r, pair_at + "[0]"));
      raw.v.push_back(ParseValue(r.String(pair[1], pair_at + "[1]"), r, pair_at + "[1]"));
    }
    if (!raw.t.empty()) origin = std::min(origin, *std::min_element(raw.t.begin(), raw.t.end()));
    raws.push_back(std::move(raw));
  }

  // 4. One Series each, on the shared clock.
  std::vector<Series> out;
  out.reserve(raws.size());
  for (Raw& raw : raws) {
    Series s;
    s.source = std::string(source) + ": " + raw.name;
    s.t_s.reserve(raw.t.size());
    for (double t : raw.t) s.t_s.push_back(t - origin);
    s.columns = {raw.column};
    s.values = {std::move(raw.v)};
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Series> ReadPrometheusQueryRange(const std::filesystem::path& path,
                                             const PrometheusOptions& options) {
  const std::string source = path.string();
  std::string text;
  try {
    text = ReadWholeFile(path, limits::kPrometheusExportBytes, "a Prometheus export");
  } catch (const ReadFileError& e) {
    throw InputError(e.what());
  }
  return ParsePrometheusQueryRange(text, source, options);
}

}  // namespace leaklab::series
