#include "analyzers/series/exposition.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analyzers/series/series.h"

namespace leaklab::series {
namespace {

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':'
// (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels).
bool IsNameStart(char c, bool metric) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}
bool IsNameChar(char c, bool metric) { return IsNameStart(c, metric) || (c >= '0' && c <= '9'); }

// A cursor over one line (or one selector), failing with the text's own words.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void SkipBlanks() {
    while (!done() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool Take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string_view Rest() const { return text_.substr(std::min(pos_, text_.size())); }
  void Skip(size_t n) { pos_ += n; }

  // A metric or label name; "" when none starts here.
  std::string_view Name(bool metric) {
    const size_t start = pos_;
    if (done() || !IsNameStart(text_[pos_], metric)) return {};
    while (!done() && IsNameChar(text_[pos_], metric)) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // `{name="value",...}` after the metric name, the braces included; the
  // escapes \\, \" and \n of label values undone. Throws invalid_argument.
  Labels LabelSet() {
    Labels labels;
    if (!Take('{')) return labels;
    for (;;) {
      SkipBlanks();
      if (Take('}')) return labels;
      const std::string_view name = Name(/*metric=*/false);
      if (name.empty())
        throw std::invalid_argument("expected a label name or '}' in the label set");
      SkipBlanks();
      if (!Take('='))
        throw std::invalid_argument("expected '=' after label name '" + std::string(name) + "'");
      SkipBlanks();
      if (!Take('"'))
        throw std::invalid_argument("expected '\"' to open the value of label '" +
                                    std::string(name) + "'");
      std::string value;
      for (;;) {
        if (done())
          throw std::invalid_argument("the value of label '" + std::string(name) +
                                      "' is not closed");
        const char c = text_[pos_++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        const char e = peek();
        if (e == '\\' || e == '"') {
          value += e;
        } else if (e == 'n') {
          value += '\n';
        } else {
          throw std::invalid_argument("label '" + std::string(name) + "': unknown escape '\\" +
                                      std::string(1, e) + "' (only \\\\, \\\" and \\n)");
        }
        ++pos_;
      }
      labels.emplace_back(std::string(name), std::move(value));
      SkipBlanks();
      if (Take(',')) continue;
      if (Take('}')) return labels;
      throw std::invalid_argument("expected ',' or '}' after the value of label '" +
                                  std::string(name) + "'");
    }
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// A sample value: a Go float, or NaN / +Inf / -Inf (any case, as clients write them).
double ParseFloat(std::string_view text) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
  };
  const std::string l = lower(text);
  if (l == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (l == "+inf" || l == "inf") return std::numeric_limits<double>::infinity();
  if (l == "-inf") return -std::numeric_limits<double>::infinity();
  std::string_view digits = text;
  if (digits.size() > 1 && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    throw std::invalid_argument("'" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

std::vector<ExpositionSample> ParseExposition(std::string_view text, std::string_view source) {
  std::vector<ExpositionSample> out;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Cursor c(line);
    c.SkipBlanks();
    if (c.done() || c.peek() == '#') continue;
    try {
      ExpositionSample sample;
      sample.name = std::string(c.Name(/*metric=*/true));
      if (sample.name.empty()) throw std::invalid_argument("expected a metric name");
      sample.labels = c.LabelSet();
      c.SkipBlanks();
      std::string_view rest = c.Rest();
      // The value ends at a blank (a timestamp may follow, then an
      // OpenMetrics exemplar after " # ").
      const size_t blank = rest.find_first_of(" \t");
      const std::string_view value = rest.substr(0, blank);
      if (value.empty()) throw std::invalid_argument("metric '" + sample.name + "' has no value");
      sample.value = ParseFloat(value);
      out.push_back(std::move(sample));
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string(source) + ":" + std::to_string(line_number) + ": " + e.what());
    }
  }
  return out;
}

bool MetricSelector::Matches(const ExpositionSample& sample) const {
  if (sample.name != name) return false;
  for (const auto& wanted : labels) {
    bool found = false;
    for (const auto& have : sample.labels) found = found || have == wanted;
    if (!found) return false;
  }
  return true;
}

std::string MetricSelector::ToString() const {
  if (labels.empty()) return name;
  std::string out = name + "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    out += (i ? "," : "") + labels[i].first + "=\"";
    for (char ch : labels[i].second) {
      if (ch == '\\' || ch == '"') out += '\\';
      out += ch == '\n' ? std::string("\\n") : std::string(1, ch);
    }
    out += "\"";
  }
  return out + "}";
}

MetricSelector ParseMetricSelector(std::string_view text) {
  Cursor c(text);
  c.SkipBlanks();
  MetricSelector s;
  s.name = std::string(c.Name(/*metric=*/true));
  if (s.name.empty())
    throw std::invalid_argument("'" + std::string(text) + "': expected a metric name");
  s.labels = c.LabelSet();
  c.SkipBlanks();
  if (!c.done()) {
    throw std::invalid_argument("'" + std::string(text) + "': unexpected '" +
                                std::string(c.Rest()) +
                                "' after the selector (only name{label=\"value\",...})");
  }
  return s;
}

std::optional<double> SumMatching(const std::vector<ExpositionSample>& samples,
                                  const MetricSelector& selector) {
  std::optional<double> sum;
  for (const ExpositionSample& sample : samples) {
    if (!selector.Matches(sample) || !std::isfinite(sample.value)) continue;
    sum = sum.value_or(0) + sample.value;
  }
  return sum;
}

std::optional<double> MetricExpression::Evaluate(
    const std::vector<ExpositionSample>& samples) const {
  const std::optional<double> a = SumMatching(samples, plus);
  if (!a || !minus) return a;
  const std::optional<double> b = SumMatching(samples, *minus);
  if (!b) return std::nullopt;
  return *a - *b;
}

std::string MetricExpression::ToString() const {
  return minus ? plus.ToString() + " - " + minus->ToString() : plus.ToString();
}

MetricExpression ParseMetricExpression(std::string_view text) {
  // A '-' outside a label set's quotes and braces: names cannot hold one.
  std::vector<size_t> minus_at;
  bool quoted = false;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if (c == '-' && depth == 0) {
      minus_at.push_back(i);
    }
  }
  if (minus_at.size() > 1) {
    throw std::invalid_argument("'" + std::string(text) + "': at most one '-' (A - B)");
  }
  MetricExpression e;
  if (minus_at.empty()) {
    e.plus = ParseMetricSelector(text);
    return e;
  }
  e.plus = ParseMetricSelector(text.substr(0, minus_at[0]));
  e.minus = ParseMetricSelector(text.substr(minus_at[0] + 1));
  return e;
}

const std::vector<DefaultMetric>& DefaultMetricColumns() {
  static const std::vector<DefaultMetric> kDefaults = {
      {kRssBytesColumn, {"leaklab_rss_bytes", "process_resident_memory_bytes"}},
      {kHeapInuseBytesColumn, {"leaklab_heap_inuse_bytes", "go_memstats_heap_inuse_bytes"}},
      // Go's client library: spans the allocator holds free, less those it
      // returned to the kernel.
      {kHeapFreeBytesColumn,
       {"leaklab_heap_free_bytes",
        "go_memstats_heap_idle_bytes - go_memstats_heap_released_bytes"}},
      {kLazyfreeBytesColumn, {"leaklab_lazyfree_bytes"}},
      {kHeapReleasedBytesColumn,
       {"leaklab_heap_released_bytes", "go_memstats_heap_released_bytes"}},
      {kWorkersColumn, {"leaklab_workers", "go_goroutines"}},
      {kRequestsTotalColumn, {"leaklab_requests_total", "http_requests_total", "requests_total"}},
      {kKeysTotalColumn, {"leaklab_keys_total", "keys_total"}},
      {kReloadsTotalColumn, {"leaklab_reloads_total", "reloads_total"}},
      // Go's client library, the JMX exporter, Micrometer, and the corpus's JVM service.
      {kCollectionsTotalColumn,
       {"leaklab_collections_total", "go_gc_duration_seconds_count",
        "jvm_gc_collection_seconds_count", "jvm_gc_pause_seconds_count",
        "jvm_gc_collections_total"}},
      // Micrometer, the JMX exporter, and the corpus's JVM service.
      {kHeapCommittedBytesColumn,
       {"leaklab_heap_committed_bytes", "jvm_memory_committed_bytes{area=\"heap\"}",
        "jvm_memory_bytes_committed{area=\"heap\"}", "jvm_heap_committed_bytes"}},
  };
  return kDefaults;
}

}  // namespace leaklab::series
