// End-to-end scenario tests: `leaklab run` on each variant of the scenario
// catalog must reach the verdict the catalog expects (and the bytes kept per
// unit of work it states), and `leaklab analyze` on the results folder must
// reach the same one offline. These run real servers under real load for
// seconds. The cases come from the catalog alone (scenarios/catalog.cc and
// each scenario's Info()), so that a new scenario needs no line here.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/series/series.h"
#include "analyzers/series/trend.h"
#include "common/duration.h"
#include "common/read_file.h"
#include "harness/catalog_client.h"
#include "harness/child_process.h"
#include "harness/memory_cgroup.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

// Test outputs are small; the limit only stops a wrong path from filling memory.
constexpr std::uintmax_t kMaxFileBytes = 64 << 20;
// Enough of a log to see why a step failed.
constexpr std::uintmax_t kLogTailBytes = 16 << 10;
// A variant's run length when its catalog entry does not give one.
constexpr const char* kDefaultDuration = "8s";

fs::path Bin(const char* name) { return fs::path(LEAKLAB_BIN_DIR) / name; }

// `leaklab ARGS --out DIR` into a fresh DIR under the test results, named
// `name`, with its log beside it; waits up to a minute.
struct LeaklabRun {
  fs::path dir, log;
  ExitInfo exit;
};
LeaklabRun RunLeaklab(const std::string& name, std::vector<std::string> args) {
  LeaklabRun r;
  r.dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / name;
  fs::remove_all(r.dir);
  fs::create_directories(r.dir.parent_path());
  r.log = r.dir.string() + ".log";
  args.push_back("--out");
  args.push_back(r.dir.string());
  ChildProcess leaklab(Bin("leaklab"), args, r.log);
  r.exit = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  return r;
}

// One variant of the catalog, with what its entry says a run must show.
struct Case {
  std::string scenario;
  ScenarioEntry::Variant variant;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.scenario << "/" << c.variant.name;
}

// Every variant of every scenario in the catalog that `leaklab-scenario
// --list --json` prints, as the harness reads it: a new scenario is tested
// once the catalog lists it. Evaluated when the tests are registered (also by
// --gtest_list_tests, which ctest's discovery runs after the build).
std::vector<Case> CatalogCases() {
  std::vector<Case> cases;
  try {
    for (const ScenarioEntry& s : LoadCatalog(Bin("leaklab-scenario"))) {
      for (const ScenarioEntry::Variant& v : s.variants) cases.push_back({s.name, v});
    }
  } catch (const std::exception&) {
    // No cases; ScenarioCatalog.ListsVariantsToTest names the reason.
  }
  return cases;
}

TEST(ScenarioCatalog, ListsVariantsToTest) {
  std::vector<ScenarioEntry> catalog;
  ASSERT_NO_THROW(catalog = LoadCatalog(Bin("leaklab-scenario")));
  ASSERT_FALSE(catalog.empty());
  // A scenario folder the build adds (it has a CMakeLists.txt) but the
  // catalog does not list would never be run or tested.
  std::set<std::string> listed;
  for (const ScenarioEntry& s : catalog) listed.insert(s.name);
  for (const auto& e : fs::directory_iterator(fs::path(LEAKLAB_SOURCE_DIR) / "scenarios")) {
    if (!fs::exists(e.path() / "CMakeLists.txt")) continue;
    EXPECT_TRUE(listed.contains(e.path().filename().string()))
        << e.path() << " is built but scenarios/catalog.cc does not list it";
  }
  for (const ScenarioEntry& s : catalog) {
    for (const ScenarioEntry::Variant& v : s.variants) {
      EXPECT_FALSE(v.expected_verdict.empty()) << s.name << "/" << v.name;
      if (!v.check.duration.empty()) {
        EXPECT_NO_THROW(ParseDuration(v.check.duration)) << s.name << "/" << v.name;
      }
      EXPECT_LE(v.check.min_bytes_per_unit, v.check.max_bytes_per_unit) << s.name << "/" << v.name;
    }
  }
}

class ScenarioVerdict : public ::testing::TestWithParam<Case> {};

TEST_P(ScenarioVerdict, RunReachesExpectedVerdictAndAnalyzeAgrees) {
  const Case& c = GetParam();
  const std::string& expect = c.variant.expected_verdict;
  const ScenarioEntry::Check& check = c.variant.check;
  const std::string duration = check.duration.empty() ? kDefaultDuration : check.duration;
  fs::path dir = fs::path(LEAKLAB_TEST_RESULTS_DIR) / (c.scenario + "-" + c.variant.name);
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::path log = dir.string() + ".log";
  fs::remove(log);

  ExitInfo run;
  {
    ChildProcess leaklab(Bin("leaklab"),
                         {"run", c.scenario, "--variant", c.variant.name, "--duration", duration,
                          "--out", dir.string(), "--expect", expect},
                         log);
    run = leaklab.Wait(std::chrono::seconds(60), milliseconds(3000));
  }
  ASSERT_EQ(run.exit_code, 0) << "leaklab run " << run.Describe() << "\n"
                              << ReadFileTail(log, kLogTailBytes) << "\n"
                              << ReadFileTail(dir / "verdict.json", kMaxFileBytes);
  std::string verdict_text = ReadWholeFile(dir / "verdict.json", kMaxFileBytes);

  json::object verdict = json::parse(verdict_text).as_object();
  EXPECT_EQ(verdict.at("verdict").as_string(), expect) << verdict_text;
  EXPECT_EQ(verdict.at("schema_version").as_int64(), 1);
  json::object manifest =
      json::parse(ReadWholeFile(dir / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "completed");
  if (check.max_bytes_per_unit > 0) {
    const json::array& work = verdict.at("evidence").at("work").as_array();
    ASSERT_FALSE(work.empty()) << verdict_text;
    // The best fit of a memory signal (a fit of the worker count is workers
    // per unit, not bytes); for the check's counter when it names one.
    const json::object* fit = nullptr;
    for (const json::value& w : work) {
      const json::object& o = w.as_object();
      if (o.at("signal").as_string() == series::kWorkersColumn) continue;
      if (!check.counter.empty() && o.at("counter").as_string() != check.counter) continue;
      fit = &o;
      break;
    }
    double per_unit = 0;
    if (fit != nullptr) {
      per_unit = fit->at("bytes_per_unit").to_number<double>();
    } else {
      // A run whose verdict led with the worker count (a run with few,
      // large steps, such as one reload every 4 s) fits no memory signal:
      // RSS's growth over the counter's then says what one unit keeps.
      ASSERT_FALSE(check.counter.empty()) << verdict_text;
      const series::Series s = series::ReadSeriesCsv(dir / "series.csv");
      const std::vector<double>* rss = s.Find(series::kRssBytesColumn);
      const std::vector<double>* units = s.Find(check.counter);
      ASSERT_TRUE(rss && units) << verdict_text;
      const double du = units->back() - units->front();
      ASSERT_GT(du, 0) << verdict_text;
      per_unit = (rss->back() - rss->front()) / du;
    }
    EXPECT_GE(per_unit, check.min_bytes_per_unit) << verdict_text;
    EXPECT_LE(per_unit, check.max_bytes_per_unit) << verdict_text;
  }

  // The folder alone is enough to reach the same verdict.
  ChildProcess analyze(Bin("leaklab"), {"analyze", dir.string(), "--expect", expect}, log);
  ExitInfo offline = analyze.Wait(std::chrono::seconds(30), milliseconds(1000));
  EXPECT_EQ(offline.exit_code, 0) << "leaklab analyze " << offline.Describe() << "\n"
                                  << ReadFileTail(log, kLogTailBytes);
}

// Named scenario_variant, with '_' for '-' (gtest names allow no '-'):
// ScenarioVerdict.RunReachesExpectedVerdictAndAnalyzeAgrees/global_request_tracker_leaky.
INSTANTIATE_TEST_SUITE_P(Catalog, ScenarioVerdict, ::testing::ValuesIn(CatalogCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.scenario + "_" + info.param.variant.name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// Growth per key, not per request: the leaky cache under 1000 repeated keys
// holds at most those keys, and stops growing once it has seen them (all of
// them within about 7,000 requests, 7 s at the default rate; most within 3 s,
// which the analysis leaves out as warm-up). The verdict's hint that a run
// repeating keys tells the two apart needs exactly this run to work.
TEST(RepeatedKeys, TheLeakyCacheIsBoundedByItsKeys) {
  const LeaklabRun run =
      RunLeaklab("repeated-keys", {"run", "unbounded-cache", "--variant", "leaky", "--keys",
                                   "uniform:1000", "--expect", "no-leak"});
  const fs::path& dir = run.dir;
  ASSERT_EQ(run.exit.exit_code, 0) << run.exit.Describe() << "\n"
                                   << ReadFileTail(run.log, kLogTailBytes) << "\n"
                                   << ReadFileTail(dir / "verdict.json", kMaxFileBytes);
  // The cache's own count: at most the 1000 keys, and nearly all of them.
  const std::string series = ReadWholeFile(dir / "series.csv", kMaxFileBytes);
  auto split = [](std::string_view line) {
    std::vector<std::string> cells;
    for (size_t b = 0, e = 0; b <= line.size(); b = e + 1) {
      e = std::min(line.find(',', b), line.size());
      cells.emplace_back(line.substr(b, e - b));
    }
    return cells;
  };
  const std::vector<std::string> header = split(series.substr(0, series.find('\n')));
  const std::string last = series.substr(series.rfind('\n', series.size() - 2) + 1);
  const std::vector<std::string> cells = split(last.substr(0, last.find('\n')));
  const auto column = std::find(header.begin(), header.end(), "keys_total") - header.begin();
  ASSERT_LT(static_cast<size_t>(column), std::min(header.size(), cells.size())) << series;
  const double keys = std::stod(cells[static_cast<size_t>(column)]);
  EXPECT_LE(keys, 1000) << last;
  EXPECT_GE(keys, 990) << last;
}

// The incident's team diffed heap snapshots with go tool pprof; the profiles
// a run saves must support exactly that, and name the allocation site.
TEST(PprofInterop, GoToolPprofDiffOfTwoRunProfilesNamesTheLeakingSite) {
  if (std::system("command -v go >/dev/null 2>&1") != 0) GTEST_SKIP() << "go is not installed";
  const LeaklabRun run =
      RunLeaklab("pprof-interop", {"run", "global-request-tracker", "--variant", "leaky",
                                   "--duration", "5s", "--profile-every", "2s"});
  const fs::path& dir = run.dir;
  ASSERT_EQ(run.exit.exit_code, 0) << ReadFileTail(run.log, kLogTailBytes);
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
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFileTail(out, kLogTailBytes);
    return ReadWholeFile(out, kMaxFileBytes);
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
    EXPECT_EQ(std::system(cmd.c_str()), 0) << file << ": " << ReadFileTail(out, kLogTailBytes);
    return ReadWholeFile(out, kMaxFileBytes);
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
  json::object verdict =
      json::parse(ReadWholeFile(dir / "verdict.json", kMaxFileBytes)).as_object();
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
  const LeaklabRun run =
      RunLeaklab("oom-kill", {"run", "global-request-tracker", "--variant", "leaky", "--mem-limit",
                              "64M", "--duration", "15s", "--expect", "leak"});
  const fs::path& dir = run.dir;
  ASSERT_EQ(run.exit.exit_code, 0) << ReadFileTail(run.log, kLogTailBytes);
  json::object manifest =
      json::parse(ReadWholeFile(dir / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "oom_killed")
      << ReadWholeFile(dir / "manifest.json", kMaxFileBytes);
  EXPECT_GE(manifest.at("mem_limit").at("oom_kills").as_int64(), 1);
  json::object verdict =
      json::parse(ReadWholeFile(dir / "verdict.json", kMaxFileBytes)).as_object();
  const json::object& e = verdict.at("evidence").at("exhaustion").as_object();
  double predicted = e.at("predicted_t_s").to_number<double>();
  double observed = e.at("observed_t_s").to_number<double>();
  EXPECT_GT(observed, 2.0);
  EXPECT_LT(observed, 14.0);
  // The cgroup also charges the binary's pages and kernel memory, and the
  // kill is seen at the next 100 ms sample: a second either way is close.
  EXPECT_NEAR(predicted, observed, 1.5) << ReadWholeFile(dir / "verdict.json", kMaxFileBytes);
}

// The lazy-release incident's missing experiment: the kernel takes LazyFree
// pages back when it needs them. A second process in the server's memory
// cgroup takes 250 MiB of a 300 MiB limit after the burst was freed; the
// server's RSS must fall by most of the lazily freed 256 MiB, while the
// runtime's own count of what it released (Go's HeapReleased) stays put.
TEST(MemoryPressure, TheKernelTakesLazilyFreedPagesWhenTheGroupNeedsThem) {
  if (auto why = MemoryCgroupUnavailable()) GTEST_SKIP() << *why;
  const LeaklabRun run =
      RunLeaklab("pressure", {"run", "lazy-release", "--variant", "madv-free", "--mem-limit",
                              "300M", "--pressure", "250M@7s", "--no-report"});
  ASSERT_EQ(run.exit.exit_code, 0) << ReadFileTail(run.log, kLogTailBytes);
  json::object manifest =
      json::parse(ReadWholeFile(run.dir / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "completed");
  ASSERT_TRUE(manifest.contains("pressure")) << json::serialize(manifest);
  const series::Series s = series::ReadSeriesCsv(run.dir / "series.csv");
  const std::vector<double>* rss = s.Find(series::kRssBytesColumn);
  const std::vector<double>* lazy = s.Find(series::kLazyfreeBytesColumn);
  const std::vector<double>* released = s.Find(series::kHeapReleasedBytesColumn);
  ASSERT_TRUE(rss && lazy && released);
  // Before the pressure (6 to 7 s) and at the end (the last second).
  auto median_between = [&](const std::vector<double>& v, double from_s, double to_s) {
    std::vector<double> x;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.t_s[i] >= from_s && s.t_s[i] < to_s && std::isfinite(v[i])) x.push_back(v[i]);
    }
    return series::MedianOf(x);
  };
  const double end_s = s.t_s.back();
  const double mb = 1e6;
  EXPECT_GT(median_between(*lazy, 6, 7), 250 * mb) << "the burst's pages were lazily freed";
  EXPECT_GT(median_between(*rss, 6, 7), 260 * mb) << "and RSS still held them";
  EXPECT_LT(median_between(*rss, end_s - 1, end_s + 1), median_between(*rss, 6, 7) - 150 * mb)
      << "under pressure the kernel took them";
  EXPECT_LT(median_between(*lazy, end_s - 1, end_s + 1), 100 * mb);
  EXPECT_NEAR(median_between(*released, end_s - 1, end_s + 1), 256 << 20, 1 << 20)
      << "what the runtime counts as released does not move";
}

}  // namespace
}  // namespace leaklab::harness
