// End-to-end scenario tests: `leaklab run` on each scenario variant must reach
// the expected verdict, and `leaklab analyze` on the results folder must reach
// the same one offline. These run real servers under real load for seconds.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>

#include "harness/child_process.h"
#include "harness/memory_cgroup.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

struct Case {
  const char* scenario;
  const char* variant;
  const char* expect;
  const char* duration;
  // When set, the best work explanation must be this counter with bytes per
  // unit in [min, max].
  const char* counter = nullptr;
  double min_bytes_per_unit = 0;
  double max_bytes_per_unit = 0;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.scenario << "/" << c.variant; }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path Bin(const char* name) { return fs::path(LEAKLAB_BIN_DIR) / name; }

class ScenarioVerdict : public ::testing::TestWithParam<Case> {};

TEST_P(ScenarioVerdict, RunReachesExpectedVerdictAndAnalyzeAgrees) {
  const Case& c = GetParam();
  fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / (std::string(c.scenario) + "-" + c.variant);
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::path log = dir.string() + ".log";
  fs::remove(log);

  ExitInfo run;
  {
    ChildProcess leaklab(Bin("leaklab"),
                         {"run", c.scenario, "--variant", c.variant, "--duration", c.duration, "--out",
                          dir.string(), "--expect", c.expect},
                         log);
    run = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  }
  std::string verdict_text = ReadFile(dir / "verdict.json");
  ASSERT_EQ(run.exit_code, 0) << "leaklab run " << run.Describe() << "\n" << ReadFile(log) << verdict_text;

  json::object verdict = json::parse(verdict_text).as_object();
  EXPECT_EQ(verdict.at("verdict").as_string(), c.expect) << verdict_text;
  EXPECT_EQ(verdict.at("schema_version").as_int64(), 1);
  json::object manifest = json::parse(ReadFile(dir / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "completed");
  if (c.counter != nullptr) {
    const json::array& work = verdict.at("evidence").at("work").as_array();
    ASSERT_FALSE(work.empty()) << verdict_text;
    EXPECT_EQ(work[0].at("counter").as_string(), c.counter) << verdict_text;
    double per_unit = work[0].at("bytes_per_unit").to_number<double>();
    EXPECT_GE(per_unit, c.min_bytes_per_unit) << verdict_text;
    EXPECT_LE(per_unit, c.max_bytes_per_unit) << verdict_text;
  }

  // The folder alone is enough to reach the same verdict.
  ChildProcess analyze(Bin("leaklab"), {"analyze", dir.string(), "--expect", c.expect}, log);
  ExitInfo offline = analyze.Wait(std::chrono::seconds(30), milliseconds(1000));
  EXPECT_EQ(offline.exit_code, 0) << "leaklab analyze " << offline.Describe() << "\n" << ReadFile(log);
}

// The tracker keeps a 10,000-byte buffer per request: with the vector's own
// slot and allocator rounding, 9.5 to 11.5 KB per request.
INSTANTIATE_TEST_SUITE_P(
    GlobalRequestTracker, ScenarioVerdict,
    ::testing::Values(Case{"global-request-tracker", "leaky", "leak", "6s", "requests_total", 9'500, 11'500},
                      Case{"global-request-tracker", "fixed", "no-leak", "8s"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.variant); });

// The tracker incident ended in OOM kills at a 200 MB cgroup limit. Here a
// 64 MiB limit is reached after about 6 s at the default 10 MB/s.
TEST(OomKill, LeakIsKilledAtTheCgroupLimitNearThePredictedTime) {
  if (auto why = MemoryCgroupUnavailable()) GTEST_SKIP() << *why;
  fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "oom-kill";
  fs::remove_all(dir);
  fs::path log = dir.string() + ".log";
  ExitInfo run;
  {
    ChildProcess leaklab(Bin("leaklab"),
                         {"run", "global-request-tracker", "--variant", "leaky", "--mem-limit", "64M",
                          "--duration", "15s", "--out", dir.string(), "--expect", "leak"},
                         log);
    run = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  }
  ASSERT_EQ(run.exit_code, 0) << ReadFile(log);
  json::object manifest = json::parse(ReadFile(dir / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "oom_killed") << ReadFile(dir / "manifest.json");
  EXPECT_GE(manifest.at("mem_limit").at("oom_kills").as_int64(), 1);
  json::object verdict = json::parse(ReadFile(dir / "verdict.json")).as_object();
  const json::object& e = verdict.at("evidence").at("exhaustion").as_object();
  double predicted = e.at("predicted_t_s").to_number<double>();
  double observed = e.at("observed_t_s").to_number<double>();
  EXPECT_GT(observed, 2.0);
  EXPECT_LT(observed, 14.0);
  // The cgroup also charges the binary's pages and kernel memory, and the
  // kill is seen at the next 100 ms sample: a second either way is close.
  EXPECT_NEAR(predicted, observed, 1.5) << ReadFile(dir / "verdict.json");
}

}  // namespace
}  // namespace leaklab::harness
