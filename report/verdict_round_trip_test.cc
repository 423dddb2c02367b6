// verdict.json is written by analyzers/verdict and read back by the report
// through a model of its own (report/run_data.h): this test writes one with
// every part filled and checks that the report reads each figure as written.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analyzers/verdict/profile_evidence.h"
#include "analyzers/verdict/verdict.h"
#include "report/run_data.h"

namespace leaklab::report {
namespace {

// A 10 Hz leak of 10 KB per request with noise, heap and RSS.
series::Series Leak() {
  std::mt19937 random(3);
  std::normal_distribution<double> noise(0, 50'000);
  series::Series s;
  s.source = "synthetic";
  s.columns = {"heap_inuse_bytes", "rss_bytes", "requests_total"};
  s.values.resize(3);
  for (int i = 0; i < 150; ++i) {
    const double t = 0.1 * i, requests = std::floor(1000 * t);
    s.t_s.push_back(t);
    s.values[0].push_back(2e6 + 10'240 * requests + noise(random));
    s.values[1].push_back(12e6 + 10'500 * requests + noise(random));
    s.values[2].push_back(requests);
  }
  return s;
}

verdict::Verdict FilledVerdict() {
  verdict::AnalyzeOptions options;
  options.limit_bytes = 512e6;
  verdict::Verdict v = verdict::AnalyzeSeries(Leak(), options);
  verdict::ProfileEvidence evidence;
  pprof::HeapAttribution heap;
  heap.profiles = 6;
  heap.timed = true;
  heap.span = 10;
  heap.sample_type = "inuse_space";
  pprof::GrowingSite site;
  site.site = {"Tracker::Track", "tracker.cc", 42};
  site.stack = {site.site, {"Handler::Serve", "handler.cc", 7}};
  site.bytes = {1.0e6, 9.9e7, 9.8e6, 9.8e7, 0.97};
  heap.sites = {site};
  heap.total = {1.2e6, 1.0e8, 9.9e6, 9.9e7, 1};
  evidence.heap = heap;
  pprof::WorkerAttribution workers;
  workers.profiles = 6;
  workers.timed = true;
  workers.span = 10;
  pprof::GrowingWorkerGroup group;
  group.wait_point = {"Conn::Acquire", "conn.cc", 12};
  group.spawn_site = {"Discovery::Reload", "discovery.cc", 30};
  group.blocked_in = "runtime.chanrecv1";
  group.stack = {group.wait_point, group.spawn_site};
  group.workers = {600, 6000, 540, 5400, 0.95};
  workers.groups = {group};
  workers.total = {600, 6600, 600, 6000, 1};
  evidence.workers = workers;
  evidence.heap_first = "profiles/heap-0001.pb.gz";
  evidence.heap_last = "profiles/heap-0006.pb.gz";
  verdict::AddProfileEvidence(v, evidence);
  return v;
}

TEST(VerdictJsonRoundTrip, TheReportReadsEveryFigureAsWritten) {
  const verdict::Verdict v = FilledVerdict();
  ASSERT_EQ(v.kind, verdict::Kind::kLeak) << v.explanation;
  const VerdictView r = ParseVerdictJson(verdict::VerdictToJson(v), "verdict.json");

  EXPECT_EQ(r.verdict, "leak");
  EXPECT_EQ(r.explanation, v.explanation);
  ASSERT_EQ(r.signals.size(), v.signals.size());
  for (size_t i = 0; i < v.signals.size(); ++i) {
    const series::GrowthEvidence& w = v.signals[i];
    const SignalView& s = r.signals[i];
    EXPECT_EQ(s.signal, w.signal);
    EXPECT_EQ(s.trend, series::TrendName(w.trend));
    EXPECT_EQ(s.reason, w.reason);
    ASSERT_TRUE(s.slope && s.slope_low && s.slope_high) << s.signal;
    EXPECT_DOUBLE_EQ(*s.slope, w.fit.slope);
    EXPECT_DOUBLE_EQ(*s.slope_low, w.fit.slope_low);
    EXPECT_DOUBLE_EQ(*s.slope_high, w.fit.slope_high);
    ASSERT_TRUE(s.t_begin_s && s.t_end_s);
    EXPECT_DOUBLE_EQ(*s.t_begin_s, w.t_begin_s);
    EXPECT_DOUBLE_EQ(*s.t_end_s, w.t_end_s);
    ASSERT_TRUE(s.p_value.has_value());
    EXPECT_DOUBLE_EQ(*s.p_value, w.mk.p_value);
    EXPECT_EQ(s.floor_t.size(), w.floor.t_s.size());
    EXPECT_EQ(s.floor_v.size(), w.floor.values.size());
  }

  ASSERT_EQ(r.work.size(), v.work.size());
  ASSERT_FALSE(r.work.empty());
  for (size_t i = 0; i < v.work.size(); ++i) {
    EXPECT_EQ(r.work[i].counter, v.work[i].counter);
    EXPECT_EQ(r.work[i].unit, v.work[i].unit);
    EXPECT_EQ(r.work[i].signal, v.work[i].signal);
    EXPECT_DOUBLE_EQ(r.work[i].bytes_per_unit.value_or(NAN), v.work[i].bytes_per_unit);
    EXPECT_DOUBLE_EQ(r.work[i].r_squared.value_or(NAN), v.work[i].r_squared);
    EXPECT_DOUBLE_EQ(r.work[i].units.value_or(NAN), v.work[i].units);
  }

  ASSERT_TRUE(v.exhaustion.has_value());
  ASSERT_TRUE(r.exhaustion.has_value());
  EXPECT_EQ(r.exhaustion->signal, v.exhaustion->signal);
  EXPECT_DOUBLE_EQ(r.exhaustion->limit_bytes.value_or(NAN), 512e6);
  EXPECT_DOUBLE_EQ(r.exhaustion->predicted_t_s.value_or(NAN), v.exhaustion->predicted_t_s);

  ASSERT_EQ(r.sites.size(), 1u);
  EXPECT_EQ(r.sites[0].site, "Tracker::Track (tracker.cc:42)");
  ASSERT_EQ(r.sites[0].stack.size(), 2u);
  EXPECT_EQ(r.sites[0].stack[1], "Handler::Serve (handler.cc:7)");
  EXPECT_DOUBLE_EQ(r.sites[0].share.value_or(NAN), 0.97);
  EXPECT_DOUBLE_EQ(r.sites[0].growth.value_or(NAN), 9.8e7);
  EXPECT_DOUBLE_EQ(r.sites[0].first.value_or(NAN), 1.0e6);
  EXPECT_DOUBLE_EQ(r.sites[0].last.value_or(NAN), 9.9e7);

  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].wait_point, "Conn::Acquire (conn.cc:12)");
  EXPECT_EQ(r.groups[0].spawn_site, "Discovery::Reload (discovery.cc:30)");
  EXPECT_EQ(r.groups[0].blocked_in, "runtime.chanrecv1");
  EXPECT_DOUBLE_EQ(r.groups[0].share.value_or(NAN), 0.95);
  EXPECT_DOUBLE_EQ(r.groups[0].growth.value_or(NAN), 5400);
  EXPECT_FALSE(r.heap_profiles_note.empty());
}

}  // namespace
}  // namespace leaklab::report
