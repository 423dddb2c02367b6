#ifndef LEAKLAB_ANALYZERS_SERIES_EXPOSITION_H_
#define LEAKLAB_ANALYZERS_SERIES_EXPOSITION_H_

// The Prometheus text exposition format (what a service's /metrics returns),
// version 0.0.4, and the OpenMetrics text that extends it
// (https://prometheus.io/docs/instrumenting/exposition_formats/):
//
//   # HELP http_requests_total Requests served.
//   # TYPE http_requests_total counter
//   http_requests_total{code="200",path="/work"} 1027 1700000000000
//
// and selectors that pick samples out of a scrape (`name` or
// `name{label="value",...}`, equality matchers only), summed. `leaklab watch
// --metrics` samples a live service with them. Pure: no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace leaklab::series {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct ExpositionSample {
  std::string name;
  Labels labels;  // in the order written
  double value = 0;
};

// Parses a scrape. `source` names the text in messages. Comments (# HELP,
// # TYPE, # EOF, any other #) and blank lines are skipped; a sample's
// optional timestamp (and OpenMetrics exemplar after " # ") is ignored.
// Values may be NaN, +Inf, -Inf. Throws InputError "SOURCE:LINE: problem"
// for a malformed line: a bad metric or label name, an unterminated label
// value or escape, a missing or non-numeric value.
std::vector<ExpositionSample> ParseExposition(std::string_view text, std::string_view source);

// `name` or `name{label="value",...}`: the samples of that metric whose
// labels include every pair given.
struct MetricSelector {
  std::string name;
  Labels labels;
  bool Matches(const ExpositionSample& sample) const;
  std::string ToString() const;  // as it would be written
};

// Throws std::invalid_argument naming what is wrong (e.g. "expected '=' after
// label name 'code'").
MetricSelector ParseMetricSelector(std::string_view text);

// The sum of the finite values of the samples `selector` matches; nullopt
// when it matches none (or only NaN), so "absent" is told from zero.
std::optional<double> SumMatching(const std::vector<ExpositionSample>& samples,
                                  const MetricSelector& selector);

// A selector, or the difference of two ("A - B"): a figure a client library
// gives in two parts, such as the memory Go's allocator keeps free
// (go_memstats_heap_idle_bytes - go_memstats_heap_released_bytes).
struct MetricExpression {
  MetricSelector plus;
  std::optional<MetricSelector> minus;
  // nullopt when a selector in it matches nothing.
  std::optional<double> Evaluate(const std::vector<ExpositionSample>& samples) const;
  std::string ToString() const;
};

// Throws std::invalid_argument as ParseMetricSelector does, or for more
// than one '-' outside a label set.
MetricExpression ParseMetricExpression(std::string_view text);

// Where the Series CSV columns are found in a scrape when the user names
// nothing: per column, the selectors to try in order (the first that the
// first scrape has is used), names with label sets where a client library
// labels one metric for several things (area="heap"). Well-known names of Go's client library
// (go_goroutines, go_memstats_heap_inuse_bytes), process exporters
// (process_resident_memory_bytes), the common request counter
// (http_requests_total) and leaklab's own servers (leaklab_<column>).
struct DefaultMetric {
  std::string_view column;
  std::vector<std::string_view> names;
};
const std::vector<DefaultMetric>& DefaultMetricColumns();

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_EXPOSITION_H_
