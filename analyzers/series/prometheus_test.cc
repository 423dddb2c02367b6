#include "analyzers/series/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/input_limits.h"

namespace leaklab::series {
namespace {

const std::string kFixture =
    std::string(LEAKLAB_SERIES_TESTDATA_DIR) + "/prometheus/query_range.json";

// Parses `text` expecting an InputError whose message is exactly `message`.
void ExpectError(std::string_view text, std::string_view message) {
  try {
    ParsePrometheusQueryRange(text, "q.json");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const InputError& error) {
    EXPECT_EQ(error.what(), message) << "for:\n" << text;
  }
}

std::string Matrix(std::string_view results) {
  return R"({"status":"success","data":{"resultType":"matrix","result":[)" + std::string(results) +
         "]}}";
}

TEST(PrometheusQueryRange, ReadsTheRecordedFixture) {
  // Recorded from a real Prometheus 2.42 scraping two scenario servers
  // (testdata/prometheus/record.sh): 4 series of 37 one-second steps.
  const std::vector<Series> all = ReadPrometheusQueryRange(kFixture);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].source, kFixture +
                               ": leaklab_heap_inuse_bytes{instance=\"127.0.0.1:60001\","
                               "job=\"unbounded-cache\",variant=\"leaky\"}");
  EXPECT_EQ(all[1].columns, std::vector<std::string>{"heap_inuse_bytes"});
  EXPECT_EQ(all[3].columns, std::vector<std::string>{"rss_bytes"});
  for (const Series& s : all) {
    ASSERT_EQ(s.size(), 37u) << s.source;
    EXPECT_TRUE(IsStrictlyIncreasing(s.t_s));
    EXPECT_EQ(s.t_s.front(), 0);  // every series starts at the earliest timestamp
    EXPECT_EQ(s.t_s.back(), 36);
  }
  EXPECT_EQ(all[1].values[0].front(), 3192712);
  EXPECT_EQ(all[1].values[0].back(), 23429840);
  EXPECT_EQ(all[3].values[0].back(), 34304000);
}

TEST(PrometheusQueryRange, SharedClockAndMissingValues) {
  const std::vector<Series> all = ParsePrometheusQueryRange(
      Matrix(
          R"({"metric":{"__name__":"rss","job":"a"},"values":[[1700000010,"5"],[1700000020.5,"NaN"]]},
                {"metric":{},"values":[[1700000000,"1e+06"],["1700000015","+2.5e6"]]})"),
      "q.json");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].source, "q.json: rss{job=\"a\"}");
  EXPECT_EQ(all[0].t_s, (std::vector<double>{10, 20.5}));
  EXPECT_EQ(all[0].values[0][0], 5);
  EXPECT_TRUE(std::isnan(all[0].values[0][1]));
  EXPECT_EQ(all[1].source, "q.json: {}");
  EXPECT_EQ(all[1].columns, std::vector<std::string>{"value"});
  EXPECT_EQ(all[1].t_s, (std::vector<double>{0, 15}));
  EXPECT_EQ(all[1].values[0], (std::vector<double>{1e6, 2.5e6}));
}

TEST(PrometheusQueryRange, ColumnFromOptionsOrMetricName) {
  PrometheusOptions options;
  options.column = "rss_bytes";
  const std::vector<Series> all = ParsePrometheusQueryRange(
      Matrix(R"({"metric":{"__name__":"container_memory_working_set_bytes"},"values":[[1,"1"]]})"),
      "q.json", options);
  EXPECT_EQ(all[0].columns, std::vector<std::string>{"rss_bytes"});
  EXPECT_EQ(MemoryColumnForMetric("process_resident_memory_bytes"), "rss_bytes");
  EXPECT_EQ(MemoryColumnForMetric("go_memstats_heap_inuse_bytes"), "heap_inuse_bytes");
  EXPECT_EQ(MemoryColumnForMetric("leaklab_reloads_total"), "reloads_total");
  EXPECT_EQ(MemoryColumnForMetric("leaklab_live_bytes"), "leaklab_live_bytes");
  EXPECT_EQ(MemoryColumnForMetric("node_memory_MemFree_bytes"), "node_memory_MemFree_bytes");
}

TEST(PrometheusQueryRange, ErrorsNameTheFieldAtFault) {
  ExpectError("{\"status\":\n \"success\",,}",
              "q.json: not valid JSON at line 2, column 12: syntax error");
  ExpectError(R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})",
              "q.json: the query failed (status 'error'), bad_data: parse error at char 5");
  ExpectError(R"({"status":"success","data":{"resultType":"vector","result":[]}})",
              "q.json: data.resultType: 'vector' is not a range result ('matrix'): export "
              "/api/v1/query_range, not an instant query");
  ExpectError(R"({"data":{}})", "q.json: (top level): no 'status' field");
  ExpectError(R"([1,2])", "q.json: (top level): expected an object, found an array");
  ExpectError(Matrix(""), "q.json: data.result: the query returned no series");
  ExpectError(Matrix(R"({"metric":{},"values":[[1,"1"],[2,"x1"]]})"),
              "q.json: data.result[0].values[1][1]: 'x1' is not a number");
  ExpectError(Matrix(R"({"metric":{},"values":[[1,"1"]]},{"metric":{},"values":[[1,"+Inf"]]})"),
              "q.json: data.result[1].values[0][1]: '+Inf' is not a finite number");
  ExpectError(Matrix(R"({"metric":{},"values":[[1,2]]})"),
              "q.json: data.result[0].values[0][1]: expected a string, found a number");
  ExpectError(Matrix(R"({"metric":{},"values":[[1]]})"),
              "q.json: data.result[0].values[0]: expected [time, \"value\"], found 1 elements");
  ExpectError(Matrix(R"({"metric":{},"values":[[null,"1"]]})"),
              "q.json: data.result[0].values[0][0]: expected a timestamp (seconds), found null");
  ExpectError(Matrix(R"({"metric":{"job":3},"values":[]})"),
              "q.json: data.result[0].metric.job: expected a string, found a number");
  ExpectError(Matrix(R"({"values":[]})"), "q.json: data.result[0]: no 'metric' field");
  ExpectError(Matrix(R"({"metric":{},"histograms":[[1,{"count":"2"}]]})"),
              "q.json: data.result[0]: a native histogram series, not sample values");
}

// Found by prometheus_fuzz: a timestamp in milliseconds among seconds gave a
// series spanning 1.8e12 s, beyond what the analysis and the charts accept
// from a CSV (kMaxTimeSeconds).
TEST(PrometheusQueryRange, TimestampsMustBeUnixSeconds) {
  ExpectError(Matrix(R"({"metric":{},"values":[[1795334249,"1"],[1795334255264,"2"]]})"),
              "q.json: data.result[0].values[1][0]: the timestamp 1.79533e+12 is not Unix "
              "seconds (0 to 1e12; milliseconds are not accepted)");
  ExpectError(Matrix(R"({"metric":{},"values":[[-5,"1"]]})"),
              "q.json: data.result[0].values[0][0]: the timestamp -5 is not Unix seconds (0 to "
              "1e12; milliseconds are not accepted)");
}

// An export of more series than the stated limit is refused whole, naming
// the limit, before any series is read.
TEST(PrometheusQueryRange, MoreSeriesThanTheLimitAreRefused) {
  std::string results;
  for (size_t k = 0; k <= limits::kPrometheusExportSeries; ++k)
    results += std::string(k ? "," : "") + R"({"metric":{},"values":[[1,"1"]]})";
  ExpectError(Matrix(results),
              "q.json: data.result: 10001 series, more than 10000, the limit for a Prometheus "
              "export; narrow the query");
}

TEST(PrometheusQueryRange, UnreadableFileNamesIt) {
  try {
    ReadPrometheusQueryRange("/nonexistent/q.json");
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/q.json: cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace leaklab::series
