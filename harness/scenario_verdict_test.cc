// End-to-end scenario tests: `leaklab run` on each scenario variant must reach
// the expected verdict, and `leaklab analyze` on the results folder must reach
// the same one offline. These run real servers under real load for seconds.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/catalog_client.h"
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
  // When max_bytes_per_unit is set, the best work explanation must give bytes
  // per unit in [min, max], and be `counter` when that is set too.
  const char* counter = nullptr;
  double min_bytes_per_unit = 0;
  double max_bytes_per_unit = 0;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.scenario << "/" << c.variant;
}

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
                         {"run", c.scenario, "--variant", c.variant, "--duration", c.duration,
                          "--out", dir.string(), "--expect", c.expect},
                         log);
    run = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  }
  std::string verdict_text = ReadFile(dir / "verdict.json");
  ASSERT_EQ(run.exit_code, 0) << "leaklab run " << run.Describe() << "\n"
                              << ReadFile(log) << verdict_text;

  json::object verdict = json::parse(verdict_text).as_object();
  EXPECT_EQ(verdict.at("verdict").as_string(), c.expect) << verdict_text;
  EXPECT_EQ(verdict.at("schema_version").as_int64(), 1);
  json::object manifest = json::parse(ReadFile(dir / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "completed");
  if (c.max_bytes_per_unit > 0) {
    const json::array& work = verdict.at("evidence").at("work").as_array();
    ASSERT_FALSE(work.empty()) << verdict_text;
    if (c.counter != nullptr) {
      EXPECT_EQ(work[0].at("counter").as_string(), c.counter) << verdict_text;
    }
    double per_unit = work[0].at("bytes_per_unit").to_number<double>();
    EXPECT_GE(per_unit, c.min_bytes_per_unit) << verdict_text;
    EXPECT_LE(per_unit, c.max_bytes_per_unit) << verdict_text;
  }

  // The catalog (what `leaklab run --all` checks against) expects the same.
  std::string catalog_expects = "(not in the catalog)";
  for (const ScenarioEntry& s : LoadCatalog(Bin("leaklab-scenario"))) {
    for (const ScenarioEntry::Variant& v : s.variants) {
      if (s.name == c.scenario && v.name == c.variant) catalog_expects = v.expected_verdict;
    }
  }
  EXPECT_EQ(catalog_expects, c.expect) << "scenarios/<name>/*.cc and this table disagree";

  // The folder alone is enough to reach the same verdict.
  ChildProcess analyze(Bin("leaklab"), {"analyze", dir.string(), "--expect", c.expect}, log);
  ExitInfo offline = analyze.Wait(std::chrono::seconds(30), milliseconds(1000));
  EXPECT_EQ(offline.exit_code, 0) << "leaklab analyze " << offline.Describe() << "\n"
                                  << ReadFile(log);
}

// The tracker keeps a 10,000-byte buffer per request: with the vector's own
// slot and allocator rounding, 9.5 to 11.5 KB per request.
INSTANTIATE_TEST_SUITE_P(
    GlobalRequestTracker, ScenarioVerdict,
    ::testing::Values(Case{"global-request-tracker", "leaky", "leak", "6s", "requests_total", 9'500,
                           11'500},
                      Case{"global-request-tracker", "fixed", "no-leak", "8s"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.variant); });

// About 2.2 KB kept per request: the parsed request with its six header lines
// and a 1 KB session.
INSTANTIATE_TEST_SUITE_P(GlobalRequestMap, ScenarioVerdict,
                         ::testing::Values(Case{"global-request-map", "leaky", "leak", "6s",
                                                "requests_total", 1'800, 2'800},
                                           Case{"global-request-map", "fixed", "no-leak", "8s"}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.variant);
                         });

// About 2.9 KB per key: the cache's encoded copy of a 32-record result. Every
// request is a new key, so keys and requests explain it equally well.
INSTANTIATE_TEST_SUITE_P(
    UnboundedCache, ScenarioVerdict,
    ::testing::Values(Case{"unbounded-cache", "leaky", "leak", "6s", nullptr, 2'500, 3'300},
                      Case{"unbounded-cache", "janitor", "no-leak", "8s"},
                      Case{"unbounded-cache", "lru", "no-leak", "8s"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.variant); });

// About 5 MB per reload: 600 workers with an 8 KB buffer each, and their bookkeeping.
INSTANTIATE_TEST_SUITE_P(
    RunawayWorkers, ScenarioVerdict,
    ::testing::Values(Case{"runaway-workers", "leaky", "leak", "8s", "reloads_total", 4.0e6, 6.0e6},
                      Case{"runaway-workers", "fixed", "no-leak", "8s"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.variant); });

// A 256 MB burst at 1.5 s, freed at about 3.3 s; the rest of the run shows
// whether RSS stays up.
INSTANTIATE_TEST_SUITE_P(LazyRelease, ScenarioVerdict,
                         ::testing::Values(Case{"lazy-release", "madv-free", "lazy-release", "8s"},
                                           Case{"lazy-release", "madv-dontneed", "no-leak", "8s"},
                                           Case{"lazy-release", "retain", "lazy-release", "8s"}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.variant;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(SteadyState, ScenarioVerdict,
                         ::testing::Values(Case{"steady-state", "control", "no-leak", "10s"}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.variant);
                         });

// The incident's team diffed heap snapshots with go tool pprof; the profiles
// a run saves must support exactly that, and name the allocation site.
TEST(PprofInterop, GoToolPprofDiffOfTwoRunProfilesNamesTheLeakingSite) {
  if (std::system("command -v go >/dev/null 2>&1") != 0) GTEST_SKIP() << "go is not installed";
  fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "pprof-interop";
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::path log = dir.string() + ".log";
  {
    ChildProcess leaklab(Bin("leaklab"),
                         {"run", "global-request-tracker", "--variant", "leaky", "--duration", "5s",
                          "--profile-every", "2s", "--out", dir.string()},
                         log);
    ASSERT_EQ(leaklab.Wait(std::chrono::seconds(60), milliseconds(3000)).exit_code, 0)
        << ReadFile(log);
  }
  std::vector<fs::path> heaps;
  for (const auto& e : fs::directory_iterator(dir / "profiles")) {
    if (e.path().filename().string().starts_with("heap-")) heaps.push_back(e.path());
  }
  std::sort(heaps.begin(), heaps.end());
  ASSERT_GE(heaps.size(), 2u);
  // go needs a writable HOME and build cache; CI's may have neither.
  fs::path home = dir / "gohome";
  fs::create_directories(home);
  auto pprof_top = [&](const std::string& extra) {
    fs::path out = dir / "pprof-top.txt";
    std::string cmd = "HOME=" + home.string() + " GOCACHE=" + (home / "cache").string() +
                      " go tool pprof -top " + extra + " -sample_index=inuse_space -base " +
                      heaps.front().string() + " " + heaps.back().string() + " > " + out.string() +
                      " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(out);
    return ReadFile(out);
  };
  std::string flat = pprof_top("");
  // The first row under the header is the top flat entry: the allocation site.
  size_t header = flat.find("flat%");
  ASSERT_NE(header, std::string::npos) << flat;
  std::string first_row = flat.substr(flat.find('\n', header) + 1);
  first_row = first_row.substr(0, first_row.find('\n'));
  EXPECT_NE(first_row.find("RepeatBytes"), std::string::npos) << flat;
  // And the function that keeps it, by cumulative share.
  EXPECT_NE(pprof_top("-cum").find("RequestTracker::Track()"), std::string::npos);

  // Every other profile the run wrote opens in pprof too: the worker
  // profiles and the run's own diff, whose top entry is the same site.
  auto pprof_file = [&](const fs::path& file) {
    fs::path out = dir / "pprof-file.txt";
    std::string cmd = "HOME=" + home.string() + " GOCACHE=" + (home / "cache").string() +
                      " go tool pprof -top " + file.string() + " > " + out.string() + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << file << ": " << ReadFile(out);
    return ReadFile(out);
  };
  for (const auto& e : fs::directory_iterator(dir / "profiles")) {
    if (e.path().filename().string().starts_with("workers-")) {
      EXPECT_NE(pprof_file(e.path()).find("Type: goroutine"), std::string::npos) << e.path();
    }
  }
  std::string diff = pprof_file(dir / "heap-diff.pb.gz");
  header = diff.find("flat%");
  ASSERT_NE(header, std::string::npos) << diff;
  first_row = diff.substr(diff.find('\n', header) + 1);
  EXPECT_NE(first_row.substr(0, first_row.find('\n')).find("RepeatBytes"), std::string::npos)
      << diff;
  // leaklab's own attribution agrees with pprof.
  json::object verdict = json::parse(ReadFile(dir / "verdict.json")).as_object();
  const json::object& site =
      verdict.at("evidence").at("profiles").at("heap").at("sites").at(0).as_object();
  EXPECT_NE(std::string(site.at("site").as_string()).find("RepeatBytes"), std::string::npos)
      << site;
  EXPECT_GT(site.at("share").to_number<double>(), 0.9) << site;
}

// The tracker incident ended in OOM kills at a 200 MB cgroup limit. Here a
// 64 MiB limit is reached after about 6 s at the default 10 MB/s.
TEST(OomKill, LeakIsKilledAtTheCgroupLimitNearThePredictedTime) {
  if (auto why = MemoryCgroupUnavailable()) GTEST_SKIP() << *why;
  fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "oom-kill";
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::path log = dir.string() + ".log";
  ExitInfo run;
  {
    ChildProcess leaklab(Bin("leaklab"),
                         {"run", "global-request-tracker", "--variant", "leaky", "--mem-limit",
                          "64M", "--duration", "15s", "--out", dir.string(), "--expect", "leak"},
                         log);
    run = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  }
  ASSERT_EQ(run.exit_code, 0) << ReadFile(log);
  json::object manifest = json::parse(ReadFile(dir / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "oom_killed")
      << ReadFile(dir / "manifest.json");
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
