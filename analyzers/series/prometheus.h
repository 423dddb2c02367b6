#ifndef LEAKLAB_ANALYZERS_SERIES_PROMETHEUS_H_
#define LEAKLAB_ANALYZERS_SERIES_PROMETHEUS_H_

// Series from a Prometheus range query: the JSON the HTTP API returns for
// GET /api/v1/query_range
// (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries):
//
//   {"status":"success","data":{"resultType":"matrix","result":[
//     {"metric":{"__name__":"process_resident_memory_bytes","job":"api"},
//      "values":[[1700000000,"1.5e+07"],[1700000015,"1.52e+07"],...]}, ...]}}
//
// Each result becomes one Series with one metric column. Pure apart from the
// file read.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/series/series.h"

namespace leaklab::series {

struct PrometheusOptions {
  // The column every series's values go into. Empty: chosen from the metric
  // name by MemoryColumnForMetric.
  std::string column;
};

// The Series CSV column a well-known Prometheus metric stands for, or the
// metric name itself when it is not one of them:
//   process_resident_memory_bytes, container_memory_rss  -> rss_bytes
//   go_memstats_heap_inuse_bytes                          -> heap_inuse_bytes
//   leaklab_<known column> (a scenario server's /metrics) -> <known column>
// and "value" for a series without a name (an expression such as sum(...)).
std::string MemoryColumnForMetric(std::string_view metric_name);

// The name a series is known by: the metric name and its labels,
// `name{label="value",...}` with the labels in sorted order, as Prometheus
// writes them.
std::string PrometheusSeriesName(const std::vector<std::pair<std::string, std::string>>& labels);

// Parses a query_range response. `source` names the text in messages.
// Every series's t_s counts seconds from the earliest timestamp in the whole
// response, so the series share one clock. A value of "NaN" is a missing
// sample (an empty cell). Each Series's `source` is "SOURCE: NAME".
//
// Throws InputError "SOURCE: problem", naming the field at fault by its JSON
// path (e.g. data.result[2].values[17][1]): not JSON; status "error" (with
// Prometheus's errorType and error); a resultType other than "matrix" (an
// instant query); a missing or mistyped field; a value that is not a number
// or is infinite; a native histogram; no series at all.
std::vector<Series> ParsePrometheusQueryRange(std::string_view json, std::string_view source,
                                              const PrometheusOptions& options = {});

// Reads and parses a file; the path is the source in messages. Its bytes and
// series are bounded by common/input_limits.h.
std::vector<Series> ReadPrometheusQueryRange(const std::filesystem::path& path,
                                             const PrometheusOptions& options = {});

}  // namespace leaklab::series

#endif  // LEAKLAB_ANALYZERS_SERIES_PROMETHEUS_H_
