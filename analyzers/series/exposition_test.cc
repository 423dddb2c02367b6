#include "analyzers/series/exposition.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analyzers/series/series.h"
#include "common/read_file.h"

namespace leaklab::series {
namespace {

TEST(ParseExposition, ReadsNamesLabelsValuesAndSkipsComments) {
  const auto samples = ParseExposition(
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\",path=\"/a\"} 1027 1700000000000\n"
      "http_requests_total{code=\"500\", path=\"/a\",} 3\r\n"
      "\n"
      "go_goroutines 8\n"
      "weird{v=\"a\\\"b\\\\c\\nd\"} -1.5e3\n"
      "gauge_nan NaN\n"
      "gauge_inf +Inf\n"
      "# EOF\n",
      "scrape");
  ASSERT_EQ(samples.size(), 6u);
  EXPECT_EQ(samples[0].name, "http_requests_total");
  EXPECT_EQ(samples[0].labels, (Labels{{"code", "200"}, {"path", "/a"}}));
  EXPECT_EQ(samples[0].value, 1027);
  EXPECT_EQ(samples[1].labels, (Labels{{"code", "500"}, {"path", "/a"}}));
  EXPECT_EQ(samples[2].value, 8);
  EXPECT_EQ(samples[3].labels[0].second, "a\"b\\c\nd");
  EXPECT_EQ(samples[3].value, -1500);
  EXPECT_TRUE(std::isnan(samples[4].value));
  EXPECT_TRUE(std::isinf(samples[5].value));
}

TEST(ParseExposition, NamesTheLineAtFault) {
  auto message = [](const char* text) {
    try {
      ParseExposition(text, "http://x/metrics");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("ok 1\n9bad 1\n"), "http://x/metrics:2: expected a metric name");
  EXPECT_EQ(message("a{b=\"c} 1\n"), "http://x/metrics:1: the value of label 'b' is not closed");
  EXPECT_EQ(message("a{b=c} 1\n"),
            "http://x/metrics:1: expected '\"' to open the value of label 'b'");
  EXPECT_EQ(message("a{b=\"\\t\"} 1\n"),
            "http://x/metrics:1: label 'b': unknown escape '\\t' (only \\\\, \\\" and \\n)");
  EXPECT_EQ(message("a\n"), "http://x/metrics:1: metric 'a' has no value");
  EXPECT_EQ(message("a 12kB\n"), "http://x/metrics:1: '12kB' is not a number");
  EXPECT_EQ(message("a{b=\"c\" d=\"e\"} 1\n"),
            "http://x/metrics:1: expected ',' or '}' after the value of label 'b'");
}

TEST(MetricSelector, ParsesMatchesAndSums) {
  const auto samples = ParseExposition(
      "req{code=\"200\",path=\"/a\"} 10\nreq{code=\"500\",path=\"/a\"} "
      "2\nreq{code=\"200\",path=\"/b\"} 5\n"
      "other 1\nreq_nan{code=\"200\"} NaN\n",
      "s");
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("req")), 17);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("req{code=\"200\"}")), 15);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector(" req{ code=\"200\", path=\"/b\" } ")), 5);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("req{code=\"404\"}")), std::nullopt);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("missing")), std::nullopt);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("req_nan")), std::nullopt);
  EXPECT_EQ(ParseMetricSelector("a{b=\"x\\\"y\"}").ToString(), "a{b=\"x\\\"y\"}");
  EXPECT_THROW(ParseMetricSelector("{a=\"b\"}"), std::invalid_argument);
  EXPECT_THROW(ParseMetricSelector("a{b=\"c\"} extra"), std::invalid_argument);
  EXPECT_THROW(ParseMetricSelector("a{b}"), std::invalid_argument);
}

// A scrape written by the real Go client library (testdata/README.md).
TEST(ParseExposition, ReadsARealGoServiceScrape) {
  const std::string text = ReadWholeFile(
      std::string(LEAKLAB_SERIES_TESTDATA_DIR) + "/exposition/prometheus-2.42.txt", 1 << 20);
  const auto samples = ParseExposition(text, "prometheus-2.42.txt");
  EXPECT_EQ(samples.size(), 271u);  // every line that is not a comment
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("go_goroutines")), 26);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("process_resident_memory_bytes")), 43257856);
  EXPECT_EQ(SumMatching(samples, ParseMetricSelector("promhttp_metric_handler_requests_total")), 0);
  EXPECT_TRUE(SumMatching(samples, ParseMetricSelector("go_gc_duration_seconds{quantile=\"0.5\"}"))
                  .has_value());
}

}  // namespace
}  // namespace leaklab::series

namespace leaklab::series {
namespace {

TEST(MetricExpression, DifferenceOfTwoSelectors) {
  const auto samples = ParseExposition(
      "go_memstats_heap_idle_bytes 5e6\ngo_memstats_heap_released_bytes 3e6\nx{a=\"b-c\"} 4\n",
      "s");
  const MetricExpression free =
      ParseMetricExpression("go_memstats_heap_idle_bytes - go_memstats_heap_released_bytes");
  EXPECT_EQ(free.Evaluate(samples), 2e6);
  EXPECT_EQ(free.ToString(), "go_memstats_heap_idle_bytes - go_memstats_heap_released_bytes");
  // A '-' inside a label value is not an operator.
  EXPECT_EQ(ParseMetricExpression("x{a=\"b-c\"}").Evaluate(samples), 4);
  EXPECT_EQ(ParseMetricExpression("x{a=\"b-c\"}-x").Evaluate(samples), 0);
  // Either side missing: no value.
  EXPECT_EQ(ParseMetricExpression("go_memstats_heap_idle_bytes - nothing").Evaluate(samples),
            std::nullopt);
  EXPECT_THROW(ParseMetricExpression("a - b - c"), std::invalid_argument);
  EXPECT_THROW(ParseMetricExpression("a - "), std::invalid_argument);
}

}  // namespace
}  // namespace leaklab::series
