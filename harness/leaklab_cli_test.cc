// The leaklab CLI on bad usage and on servers that misbehave: every case ends
// with a clear message, the documented exit status, within a bounded time,
// and without losing what was already recorded.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "common/read_file.h"
#include "harness/catalog_client.h"
#include "harness/child_process.h"
#include "harness/memory_cgroup.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Test outputs are small; the limit only stops a wrong path from filling memory.
constexpr std::uintmax_t kMaxFileBytes = 64 << 20;
// Enough of a log to see why a step failed.
constexpr std::uintmax_t kLogTailBytes = 16 << 10;

class LeaklabCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(LEAKLAB_TEST_RESULTS_DIR) / "cli" / info->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  struct Result {
    ExitInfo exit;
    std::string err;
    double seconds = 0;
  };

  Result Leaklab(std::vector<std::string> args,
                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
    fs::path log = dir_ / "stderr.log";
    fs::remove(log);
    auto start = Clock::now();
    ChildProcess p(fs::path(LEAKLAB_BIN_DIR) / "leaklab", args, log);
    Result r;
    r.exit = p.Wait(timeout, milliseconds(2000));
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.err = ReadWholeFile(log, kMaxFileBytes);
    return r;
  }

  // A stand-in scenario server: answers --list like the real one, then does
  // whatever `behaviour` (shell) says.
  fs::path FakeServer(const std::string& behaviour) {
    fs::path script = dir_ / "fake-scenario";
    std::ofstream(script) << "#!/bin/sh\n"
                             "if [ \"$1\" = --list ]; then\n"
                             "  echo '{\"scenarios\":[{\"name\":\"fake\",\"description\":\"d\","
                             "\"variants\":[{\"name\":\"leaky\",\"description\":\"x\"}],"
                             "\"load\":{\"path_template\":\"/\",\"connections\":1,"
                             "\"schedule\":\"steady 1s at 10/s\"}}]}'\n"
                             "  exit 0\n"
                             "fi\n"
                          << behaviour << "\n";
    fs::permissions(script, fs::perms::owner_all);
    return script;
  }

  fs::path dir_;
};

TEST_F(LeaklabCli, UnknownScenarioIsUsageError) {
  Result r = Leaklab({"run", "no-such-scenario"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("unknown scenario 'no-such-scenario'"), std::string::npos) << r.err;
}

TEST_F(LeaklabCli, UnknownVariantIsUsageErrorAndWritesNothing) {
  Result r = Leaklab(
      {"run", "global-request-tracker", "--variant", "nope", "--out", (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--variant nope"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(LeaklabCli, MalformedDurationNamesTheFlag) {
  Result r = Leaklab({"run", "global-request-tracker", "--duration", "5parsecs"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--duration: malformed duration '5parsecs'"), std::string::npos) << r.err;
}

TEST_F(LeaklabCli, MalformedScheduleAndKeysNameTheFlag) {
  Result r = Leaklab({"run", "global-request-tracker", "--schedule", "steady 5s; ramp 2s to",
                      "--out", (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--schedule: clause 2 'ramp 2s to': expected a rate after 'to'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
  r = Leaklab({"run", "global-request-tracker", "--keys", "zipf:0"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--keys: keys 'zipf:0': the key count K"), std::string::npos) << r.err;
  // lazy-release has no load connections: a rate needs some.
  r = Leaklab({"run", "lazy-release", "--rate", "100"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--connections: connections must be >= 1"), std::string::npos) << r.err;
}

// A rate below zero or not a number is refused, naming --rate, before
// anything is written (it used to run closed loop, or blame --schedule).
TEST_F(LeaklabCli, RateThatIsNoRateIsRefused) {
  for (const char* rate : {"-5", "nan", "inf"}) {
    Result r = Leaklab(
        {"run", "global-request-tracker", "--rate", rate, "--out", (dir_ / "run").string()});
    EXPECT_EQ(r.exit.exit_code, 2) << rate;
    EXPECT_NE(r.err.find("--rate "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("--schedule"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "run"));
  }
}

TEST_F(LeaklabCli, UnknownFlagAndCommandAreUsageErrors) {
  EXPECT_EQ(Leaklab({"run", "global-request-tracker", "--bogus"}).exit.exit_code, 2);
  EXPECT_EQ(Leaklab({"frobnicate"}).exit.exit_code, 2);
  EXPECT_EQ(Leaklab({"analyze", "x", "--expect", "leaky"}).exit.exit_code, 2);
}

TEST_F(LeaklabCli, PressureNeedsAMemoryLimitAndMustFitUnderIt) {
  Result r =
      Leaklab({"run", "lazy-release", "--pressure", "200M", "--out", (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--pressure needs --mem-limit"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
  if (MemoryCgroupUnavailable()) GTEST_SKIP() << *MemoryCgroupUnavailable();
  r = Leaklab({"run", "lazy-release", "--mem-limit", "100M", "--pressure", "200M", "--out",
               (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("below --mem-limit"), std::string::npos) << r.err;
  r = Leaklab({"run", "lazy-release", "--mem-limit", "300M", "--pressure", "200M@1h", "--out",
               (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("starts after the run ends"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(LeaklabCli, MalformedMemLimitNamesTheFlag) {
  Result r = Leaklab({"run", "global-request-tracker", "--mem-limit", "lots"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--mem-limit: malformed size 'lots'"), std::string::npos) << r.err;
  r = Leaklab(
      {"run", "global-request-tracker", "--mem-limit", "1M", "--out", (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--mem-limit must be at least 8M"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(LeaklabCli, MalformedCsvRowNamesFileAndLine) {
  fs::path csv = dir_ / "bad.csv";
  std::ofstream(csv) << "t_s,rss_bytes\n0,100\n0.1,abc\n";
  Result r = Leaklab({"analyze", csv.string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find(csv.string() + ":3:"), std::string::npos) << r.err;
}

// Runs leaklab through the shell, for its stdout. Returns the exit status.
int LeaklabStdout(const std::string& args, std::string& out) {
  out.clear();
  const std::string command = std::string(LEAKLAB_BIN_DIR) + "/leaklab " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const fs::path kGoSeries = fs::path(LEAKLAB_SOURCE_DIR) / "analyzers/pprof/testdata/go_series";

// Control bytes in an input file (a terminal escape, a NUL) are shown as
// \xNN in messages and summaries, never sent raw to the terminal.
TEST_F(LeaklabCli, ControlBytesFromInputNeverReachTheTerminalRaw) {
  const fs::path bad = dir_ / "bad.csv";
  std::ofstream(bad) << "t_s,rss_bytes\n0,100\n0.1,\x1b]0;pwned\x07\n";
  Result r = Leaklab({"analyze", bad.string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\\x1b]0;pwned\\x07"), std::string::npos) << r.err;
  const fs::path named = dir_ / "named.csv";
  std::ofstream out(named);
  out << "t_s,rss_bytes,\x1b[2Jcolumn\n";
  for (int i = 0; i < 60; ++i) out << i * 0.1 << "," << 1e6 + i * 1e5 << ",1\n";
  out.close();
  std::string text;
  EXPECT_EQ(LeaklabStdout("analyze " + named.string(), text), 0) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
}

// --diff writes a new file or replaces a diff of leaklab's own; never an
// input (it used to overwrite it), a folder (it left DIR.tmp beside it) or
// another file of the user's.
TEST_F(LeaklabCli, DiffNeverWritesOverWhatLeaklabDidNotWrite) {
  const fs::path a = dir_ / "a.pb.gz", b = dir_ / "b.pb.gz";
  fs::copy_file(kGoSeries / "heap-0001.pb.gz", a);
  fs::copy_file(kGoSeries / "heap-0005.pb.gz", b);
  const std::string a_bytes = ReadWholeFile(a, kMaxFileBytes);
  const std::string inputs = " " + a.string() + " " + b.string();
  std::string out;
  EXPECT_EQ(LeaklabStdout("analyze --diff " + a.string() + inputs, out), 2);
  EXPECT_NE(out.find("is one of the inputs"), std::string::npos) << out;
  EXPECT_EQ(ReadWholeFile(a, kMaxFileBytes), a_bytes);
  fs::create_directories(dir_ / "folder");
  EXPECT_EQ(LeaklabStdout("analyze --diff " + (dir_ / "folder").string() + inputs, out), 2);
  EXPECT_NE(out.find("is a folder"), std::string::npos) << out;
  std::ofstream(dir_ / "notes.txt") << "mine";
  EXPECT_EQ(LeaklabStdout("analyze --diff " + (dir_ / "notes.txt").string() + inputs, out), 2);
  EXPECT_NE(out.find("is not a heap diff leaklab wrote"), std::string::npos) << out;
  EXPECT_EQ(ReadWholeFile(dir_ / "notes.txt", kMaxFileBytes), "mine");
  // A diff of leaklab's own may be written again.
  const fs::path diff = dir_ / "diff.pb.gz";
  EXPECT_EQ(LeaklabStdout("analyze --diff " + diff.string() + inputs, out), 0) << out;
  EXPECT_EQ(LeaklabStdout("analyze --diff " + diff.string() + inputs, out), 0) << out;
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 5u);  // a, b, folder, notes.txt, diff: nothing stray
}

// Real profiles of a leaking Go program, given as files: one run, ordered by
// their own timestamps; the verdict's evidence names the leaking function and
// the goroutines that pile up, and --diff writes a profile pprof can read.
TEST_F(LeaklabCli, AnalyzeGoProfilesNamesTheLeak) {
  std::string args;
  for (int i = 5; i >= 1; --i) {
    args += " " + (kGoSeries / ("heap-000" + std::to_string(i) + ".pb.gz")).string();
    args += " " + (kGoSeries / ("goroutine-000" + std::to_string(i) + ".pb.gz")).string();
  }
  const fs::path diff = dir_ / "diff.pb.gz";
  std::string out;
  ASSERT_EQ(LeaklabStdout("analyze --json --diff " + diff.string() + args, out), 0) << out;
  const json::value v = json::parse(out);
  const json::object& profiles = v.at("evidence").at("profiles").as_object();
  const json::object& heap = profiles.at("heap").as_object();
  EXPECT_EQ(heap.at("profiles").as_int64(), 5);
  EXPECT_TRUE(heap.at("first").as_string().ends_with("heap-0001.pb.gz"));
  const json::object& site = heap.at("sites").at(0).as_object();
  EXPECT_TRUE(site.at("site").as_string().starts_with("main.(*sessionStore).add")) << site;
  EXPECT_GT(site.at("share").to_number<double>(), 0.8);
  const json::object& group = profiles.at("workers").at("groups").at(0).as_object();
  EXPECT_TRUE(group.at("wait_point").as_string().starts_with("main.watch")) << group;
  // One more every 200 ms or so: the fitted growth is close to the 4 added.
  EXPECT_NEAR(group.at("growth_workers").to_number<double>(), 4, 0.2);
  EXPECT_EQ(
      group.at("last_workers").to_number<double>() - group.at("first_workers").to_number<double>(),
      4);
  EXPECT_NE(std::string(v.at("explanation").as_string()).find("main.(*sessionStore).add (main.go:"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(diff));
  EXPECT_EQ(profiles.at("diff_profile").as_string(), diff.string());
}

TEST_F(LeaklabCli, AnalyzeBadProfileOrMixedInputsAreUsageErrors) {
  const fs::path junk = dir_ / "junk.pb.gz";
  std::ofstream(junk) << "not a profile";
  std::string out;
  EXPECT_EQ(LeaklabStdout(
                "analyze " + junk.string() + " " + (kGoSeries / "heap-0001.pb.gz").string(), out),
            2);
  EXPECT_NE(out.find(junk.string()), std::string::npos) << out;

  const fs::path a = dir_ / "a.csv", b = dir_ / "b.csv";
  std::ofstream(a) << "t_s,rss_bytes\n0,1\n";
  std::ofstream(b) << "t_s,rss_bytes\n0,1\n";
  EXPECT_EQ(LeaklabStdout("analyze " + a.string() + " " + b.string(), out), 2);
  EXPECT_NE(out.find("one run has one series"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("analyze " + dir_.string() + " " + a.string(), out), 2);
  EXPECT_NE(out.find("a results folder is a run of its own"), std::string::npos) << out;
  EXPECT_EQ(
      LeaklabStdout("analyze --diff x.pb.gz " + (kGoSeries / "goroutine-0001.pb.gz").string() +
                        " " + (kGoSeries / "goroutine-0002.pb.gz").string(),
                    out),
      2);
  EXPECT_NE(out.find("--diff needs two or more heap profiles"), std::string::npos) << out;
}

// watch on a process that exits mid-way: the samples so far are kept, the
// manifest says how it ended, and a flat series from a cut-short watch is not
// passed off as no-leak.
TEST_F(LeaklabCli, WatchKeepsDataWhenTheProcessExits) {
  ChildProcess target("/bin/sleep", {"1.5"}, dir_ / "sleep.log");
  const fs::path out = dir_ / "watch";
  std::string text;
  ASSERT_EQ(LeaklabStdout("watch --pid " + std::to_string(target.pid()) +
                              " --every 100ms --for 20s --json --out " + out.string(),
                          text),
            0)
      << text;
  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "process_exited");
  EXPECT_LT(manifest.at("elapsed_s").to_number<double>(), 10);
  std::istringstream csv(ReadWholeFile(out / "series.csv", kMaxFileBytes));
  std::string line;
  int rows = -1;  // the header
  while (std::getline(csv, line)) ++rows;
  EXPECT_GE(rows, 8);
  const json::object verdict =
      json::parse(ReadWholeFile(out / "verdict.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(verdict.at("verdict").as_string(), "inconclusive")
      << ReadWholeFile(out / "verdict.json", kMaxFileBytes);
}

TEST_F(LeaklabCli, WatchBadTargetsAndFlagsAreUsageErrors) {
  std::string out;
  EXPECT_EQ(LeaklabStdout("watch --for 1s", out), 2);
  EXPECT_NE(out.find("give --pid PID, --pprof URL and/or --metrics URL"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --pid 1 --metric requests_total=x --for 1s", out), 2);
  EXPECT_NE(out.find("--metric requests_total=x: needs --metrics URL"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --metrics http://127.0.0.1:1/metrics --for 1s", out), 2);
  EXPECT_NE(out.find("--metrics http://127.0.0.1:1/metrics"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --pid 999999999 --for 1s", out), 2);
  EXPECT_NE(out.find("--pid 999999999: no such process"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --pprof ftp://example/heap --for 1s", out), 2);
  EXPECT_NE(out.find("--pprof"), std::string::npos) << out;
  // Nothing listens on port 1 of loopback: refused at once.
  EXPECT_EQ(LeaklabStdout("watch --pprof http://127.0.0.1:1/debug/pprof/heap --for 1s", out), 2);
  EXPECT_NE(out.find("--pprof http://127.0.0.1:1/debug/pprof/heap"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --pid 1 --every 1ms", out), 2);
  EXPECT_NE(out.find("--every must be at least 10ms"), std::string::npos) << out;
  EXPECT_EQ(LeaklabStdout("watch --pid 1 --for 5parsecs", out), 2);
  EXPECT_NE(out.find("--for"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists("results/watch-pid1"));
}

// A watch of endpoints whose target dies: it used to say "completed" and
// judge the gaps as a flat curve; it now ends as target_unreachable, and a
// verdict that cannot be confirmed from what was seen.
TEST_F(LeaklabCli, WatchOfATargetThatDiesSaysSo) {
  auto server = std::make_unique<ChildProcess>(
      fs::path(LEAKLAB_BIN_DIR) / "leaklab-scenario",
      std::vector<std::string>{"--scenario", "steady-state", "--variant", "control", "--port", "0"},
      dir_ / "server.log");
  const std::optional<std::string> port = server->ReadFirstLine(milliseconds(10'000));
  ASSERT_TRUE(port) << ReadFileTail(dir_ / "server.log", kLogTailBytes);
  const fs::path out = dir_ / "watch", log = dir_ / "watch.log";
  ChildProcess watch(fs::path(LEAKLAB_BIN_DIR) / "leaklab",
                     {"watch", "--pprof", "http://127.0.0.1:" + *port + "/debug/pprof/heap",
                      "--every", "200ms", "--for", "4s", "--out", out.string()},
                     log);
  std::this_thread::sleep_for(milliseconds(1500));
  server.reset();  // stopped: the endpoint no longer answers
  const ExitInfo exit = watch.Wait(std::chrono::seconds(20), milliseconds(2000));
  const std::string text = ReadFileTail(log, kLogTailBytes);
  EXPECT_EQ(exit.exit_code, 0) << text;
  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "target_unreachable") << manifest;
  const json::object verdict =
      json::parse(ReadWholeFile(out / "verdict.json", kMaxFileBytes)).as_object();
  EXPECT_NE(verdict.at("verdict").as_string(), "no-leak") << verdict;
}

// watch on a leaking server leaklab did not start, through its pprof
// endpoint: the profiles are saved and the growing site is named.
TEST_F(LeaklabCli, WatchPprofEndpointNamesTheGrowingSite) {
  ChildProcess server(fs::path(LEAKLAB_BIN_DIR) / "leaklab-scenario",
                      {"--scenario", "global-request-tracker", "--variant", "leaky", "--port", "0"},
                      dir_ / "server.log");
  const std::optional<std::string> port = server.ReadFirstLine(milliseconds(10'000));
  ASSERT_TRUE(port) << ReadFileTail(dir_ / "server.log", kLogTailBytes);
  ChildProcess load(
      fs::path(LEAKLAB_BIN_DIR) / "leaklab-loadgen",
      {"-c", "2", "-r", "500", "-d", "8s", "http://127.0.0.1:" + *port + "/track?id={n}"},
      dir_ / "load.log");
  const fs::path out = dir_ / "watch";
  std::string text;
  ASSERT_EQ(LeaklabStdout(
                "watch --pid " + std::to_string(server.pid()) + " --pprof http://127.0.0.1:" +
                    *port + "/debug/pprof/heap --every 250ms --for 4s --json --out " + out.string(),
                text),
            0)
      << text;
  const json::object verdict = json::parse(text).as_object();
  const json::object& site =
      verdict.at("evidence").at("profiles").at("heap").at("sites").at(0).as_object();
  EXPECT_NE(std::string(site.at("site").as_string()).find("RepeatBytes"), std::string::npos)
      << site;
  EXPECT_TRUE(fs::exists(out / "profiles" / "heap-0001.pb.gz"));
  EXPECT_TRUE(fs::exists(out / "heap-diff.pb.gz"));
  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_GE(manifest.at("profiles").at("heap").as_int64(), 12);
}

// watch on both profiles and the metrics of a server: one column per source,
// the request counter from /metrics, and the flags at fault named when a
// --metric cannot be read.
TEST_F(LeaklabCli, WatchReadsHeapWorkersAndMetricsTogether) {
  ChildProcess server(fs::path(LEAKLAB_BIN_DIR) / "leaklab-scenario",
                      {"--scenario", "global-request-tracker", "--variant", "fixed", "--port", "0"},
                      dir_ / "server.log");
  const std::optional<std::string> port = server.ReadFirstLine(milliseconds(10'000));
  ASSERT_TRUE(port) << ReadFileTail(dir_ / "server.log", kLogTailBytes);
  const std::string base = "http://127.0.0.1:" + *port;
  std::string text;
  EXPECT_EQ(LeaklabStdout("watch --metrics " + base +
                              "/metrics --metric requests_total=no_such_metric --for 1s",
                          text),
            2);
  EXPECT_NE(text.find("--metric requests_total=no_such_metric: " + base +
                      "/metrics has no sample of no_such_metric"),
            std::string::npos)
      << text;
  EXPECT_EQ(LeaklabStdout("watch --pid " + std::to_string(server.pid()) + " --metrics " + base +
                              "/metrics --metric rss_bytes=leaklab_live_bytes --for 1s",
                          text),
            2);
  EXPECT_NE(text.find("rss_bytes is already read from /proc (--pid)"), std::string::npos) << text;
  EXPECT_EQ(LeaklabStdout("watch --pprof " + base + "/debug/pprof/heap --pprof " + base +
                              "/debug/pprof/heap --for 1s",
                          text),
            2);
  EXPECT_NE(text.find("a second heap profile"), std::string::npos) << text;
  EXPECT_EQ(LeaklabStdout("watch --metrics " + base + "/debug/pprof/heap --for 1s", text), 2);
  EXPECT_NE(text.find("not the Prometheus text format"), std::string::npos) << text;

  ChildProcess load(fs::path(LEAKLAB_BIN_DIR) / "leaklab-loadgen",
                    {"-c", "2", "-R", "300", "-d", "6s", base + "/track?id={n}"},
                    dir_ / "load.log");
  const fs::path out = dir_ / "watch";
  ASSERT_EQ(
      LeaklabStdout(
          "watch --pid " + std::to_string(server.pid()) + " --pprof " + base +
              "/debug/pprof/heap --pprof " + base + "/debug/pprof/workers --metrics " + base +
              "/metrics --metric live=leaklab_live_bytes --every 250ms --for 3s --json --out " +
              out.string(),
          text),
      0)
      << text;
  std::istringstream csv(ReadWholeFile(out / "series.csv", kMaxFileBytes));
  std::string header, row, last;
  std::getline(csv, header);
  EXPECT_EQ(header,
            "t_s,rss_bytes,anon_bytes,lazyfree_bytes,heap_inuse_bytes,heap_allocated_bytes,workers,"
            "live,heap_free_bytes,heap_released_bytes,"
            "requests_total,"
            "keys_total,reloads_total");
  int rows = 0;
  while (std::getline(csv, row)) {
    ++rows;
    last = row;
  }
  EXPECT_GE(rows, 10);
  // The request counter moved while the load ran.
  const double requests =
      std::stod(last.substr(last.rfind(',', last.rfind(',', last.rfind(',') - 1) - 1) + 1));
  EXPECT_GT(requests, 100) << last;
  EXPECT_TRUE(fs::exists(out / "profiles" / "heap-0001.pb.gz"));
  EXPECT_TRUE(fs::exists(out / "profiles" / "workers-0001.pb.gz"));
  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("target").at("metrics").at("requests_total").as_string(),
            "leaklab_requests_total");
  EXPECT_EQ(manifest.at("target").at("metrics").at("live").as_string(), "leaklab_live_bytes");
  EXPECT_EQ(manifest.at("target").at("pprof").as_array().size(), 2u);
  EXPECT_GE(manifest.at("profiles").at("workers").as_int64(), 10);
}

// A Prometheus query_range export with four series (two servers, two
// metrics): one verdict each, the leaking server's series as leaks.
TEST_F(LeaklabCli, AnalyzePrometheusExportGivesOneVerdictPerSeries) {
  const fs::path file =
      fs::path(LEAKLAB_SOURCE_DIR) / "analyzers/series/testdata/prometheus/query_range.json";
  std::string out;
  ASSERT_EQ(LeaklabStdout("analyze " + file.string(), out), 0) << out;
  size_t verdicts = 0;
  for (size_t at = out.find("verdict: "); at != std::string::npos;
       at = out.find("verdict: ", at + 1))
    ++verdicts;
  EXPECT_EQ(verdicts, 4u) << out;
  const size_t leaky = out.find("job=\"unbounded-cache\"");
  ASSERT_NE(leaky, std::string::npos) << out;
  EXPECT_EQ(out.compare(out.find("verdict: ", leaky), 13, "verdict: leak"), 0) << out;
  EXPECT_EQ(LeaklabStdout("analyze " + file.string() + " " + file.string() + ".csv", out), 2);
  const fs::path csv = dir_ / "a.csv";
  std::ofstream(csv) << "t_s,rss_bytes\n0,1\n";
  EXPECT_EQ(LeaklabStdout("analyze " + file.string() + " " + csv.string(), out), 2);
  EXPECT_NE(out.find("is analyzed on its own"), std::string::npos) << out;
}

TEST_F(LeaklabCli, ServerThatNeverAnswersFailsWithinTheStartupTimeout) {
  // Prints a port nobody listens on, then hangs.
  fs::path fake = FakeServer("echo 1; exec sleep 30");
  fs::path out = dir_ / "run";
  Result r = Leaklab({"run", "fake", "--scenario-binary", fake.string(), "--startup-timeout", "1s",
                      "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.err.find("did not answer /healthz within 1s"), std::string::npos) << r.err;
  json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "server_failed_to_start");
}

TEST_F(LeaklabCli, ServerThatPrintsNoPortFailsWithinTheStartupTimeout) {
  fs::path fake = FakeServer("echo 'cannot start: out of luck' >&2; exec sleep 30");
  fs::path out = dir_ / "run";
  Result r = Leaklab({"run", "fake", "--scenario-binary", fake.string(), "--startup-timeout", "1s",
                      "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 1);
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.err.find("printed no port"), std::string::npos) << r.err;
  // The server's own words reach the user.
  EXPECT_NE(r.err.find("out of luck"), std::string::npos) << r.err;
}

TEST_F(LeaklabCli, ServerKilledMidRunKeepsSamplesAndRecordsHow) {
  fs::path out = dir_ / "run";
  fs::path log = dir_ / "stderr.log";
  ChildProcess run(fs::path(LEAKLAB_BIN_DIR) / "leaklab",
                   {"run", "global-request-tracker", "--duration", "20s", "--out", out.string()},
                   log);
  // The manifest names the server's pid once it is up.
  int pid = 0;
  auto deadline = Clock::now() + std::chrono::seconds(15);
  while (pid == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    // Not there until the run has claimed its folder.
    if (!fs::exists(out / "manifest.json")) continue;
    boost::system::error_code ec;
    json::value m = json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes), ec);
    if (!ec && m.is_object() && m.as_object().contains("server") &&
        m.at("server").as_object().contains("port")) {
      pid = static_cast<int>(m.at("server").at("pid").as_int64());
    }
  }
  ASSERT_GT(pid, 0) << ReadFileTail(log, kLogTailBytes);
  std::this_thread::sleep_for(milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ExitInfo exit = run.Wait(std::chrono::seconds(15), milliseconds(2000));
  EXPECT_EQ(exit.exit_code, 0) << ReadFileTail(log, kLogTailBytes);

  json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("status").as_string(), "finished");
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "server_exited");
  EXPECT_NE(std::string(manifest.at("end").at("detail").as_string()).find("SIGKILL"),
            std::string::npos);
  std::string csv = ReadWholeFile(out / "series.csv", kMaxFileBytes);
  EXPECT_GE(std::count(csv.begin(), csv.end(), '\n'), 10) << csv;
  std::string verdict = ReadWholeFile(out / "verdict.json", kMaxFileBytes);
  EXPECT_NE(verdict.find("ended early"), std::string::npos) << verdict;
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
bool ProcessGone(int pid) {
  const std::string stat = ReadFileTail("/proc/" + std::to_string(pid) + "/stat", 4096);
  const size_t paren = stat.rfind(')');
  return stat.empty() ||
         (paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z');
}

// The manifest's server pid once the run is up and series.csv has `rows`
// rows; 0 when that did not happen within 20 s.
int WaitForRunningServer(const fs::path& out, int rows) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    if (!fs::exists(out / "manifest.json") || !fs::exists(out / "series.csv")) continue;
    boost::system::error_code ec;
    json::value m = json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes), ec);
    if (ec || !m.is_object() || !m.as_object().contains("server")) continue;
    const std::string csv = ReadWholeFile(out / "series.csv", kMaxFileBytes);
    if (std::count(csv.begin(), csv.end(), '\n') > rows)
      return static_cast<int>(m.at("server").at("pid").as_int64());
  }
  return 0;
}

// The harness itself killed mid-run (SIGKILL: no chance to clean up): its
// server does not outlive it (it asked for SIGTERM on its parent's death),
// and the folder holds what was flushed, a manifest that says the run never
// finished, and a later analysis that will not call it a no-leak.
TEST_F(LeaklabCli, HarnessKilledMidRunLeavesAFolderThatSaysSo) {
  const fs::path out = dir_ / "run";
  const fs::path log = dir_ / "stderr.log";
  ChildProcess run(fs::path(LEAKLAB_BIN_DIR) / "leaklab",
                   {"run", "steady-state", "--duration", "60s", "--out", out.string()}, log);
  const int server = WaitForRunningServer(out, 20);
  ASSERT_GT(server, 0) << ReadFileTail(log, kLogTailBytes);
  ASSERT_EQ(::kill(run.pid(), SIGKILL), 0);
  run.Wait(std::chrono::seconds(5), milliseconds(100));
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!ProcessGone(server) && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(ProcessGone(server)) << "the server outlived its harness";

  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("status").as_string(), "running");
  EXPECT_FALSE(manifest.contains("end"));
  const std::string csv = ReadWholeFile(out / "series.csv", kMaxFileBytes);
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 20) << csv;

  const Result analyze = Leaklab({"analyze", out.string()});
  EXPECT_EQ(analyze.exit.exit_code, 0) << analyze.err;
  // A cut run never confirms the absence of a leak (under ASan the first
  // seconds may even read as one), and the explanation says it was cut.
  const std::string verdict = ReadWholeFile(out / "verdict.json", kMaxFileBytes);
  EXPECT_EQ(verdict.find("\"verdict\":\"no-leak\""), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("the manifest does not say how the run ended"), std::string::npos)
      << verdict;
  EXPECT_TRUE(fs::exists(out / "report.html"));
}

// A small tmpfs as --out, mounted for the test (root only, as in CI).
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

// The disk of --out fills mid-run: the run stops, uses the room it kept in
// reserve to finish its folder (manifest end, verdict, report), loses nothing
// it had written, says what happened, and exits 1.
TEST_F(LeaklabCli, DiskFullMidRunFinishesTheFolderAndSaysSo) {
  // The 1 MiB reserve and about 40 KB: the first seconds of samples and profiles.
  SmallDisk disk(dir_ / "disk", "1064k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  const fs::path out = dir_ / "disk" / "run";
  const Result r = Leaklab({"run", "steady-state", "--duration", "20s", "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("ended early"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  const json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("status").as_string(), "finished");
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "harness_error");
  // Never a confirmed no-leak from a cut run, and the explanation says why.
  const std::string verdict = ReadWholeFile(out / "verdict.json", kMaxFileBytes);
  EXPECT_EQ(verdict.find("\"verdict\":\"no-leak\""), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("the run ended early"), std::string::npos) << verdict;
  EXPECT_TRUE(fs::exists(out / "report.html"));
  const std::string csv = ReadWholeFile(out / "series.csv", kMaxFileBytes);
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 10) << csv;
  EXPECT_FALSE(fs::exists(out / ".leaklab-reserve"));
}

// A disk without room for the reserve is refused before anything runs, and
// the folder is left as it was.
TEST_F(LeaklabCli, DiskWithoutRoomForTheReserveIsRefusedAtTheStart) {
  SmallDisk disk(dir_ / "disk", "512k");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  const fs::path out = dir_ / "disk" / "run";
  fs::create_directories(out);  // an empty folder of the user's
  const Result r = Leaklab({"run", "steady-state", "--duration", "2s", "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--out " + out.string() + ": cannot keep 1.0 MB in reserve"),
            std::string::npos)
      << r.err;
  // The folder it was asked to use is left as it was: empty.
  EXPECT_TRUE(fs::is_empty(out));
}

TEST_F(LeaklabCli, RefusesToOverwriteARecordedRun) {
  fs::path out = dir_ / "run";
  fs::create_directories(out);
  std::ofstream(out / "manifest.json") << "{\"precious\":true}\n";
  Result r = Leaklab({"run", "global-request-tracker", "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("already holds a run"), std::string::npos) << r.err;
  EXPECT_EQ(ReadWholeFile(out / "manifest.json", kMaxFileBytes), "{\"precious\":true}\n");
}

// A key language applied to requests that carry no key changes nothing; the
// run says so up front and in its manifest rather than recording keys it
// never sent.
TEST_F(LeaklabCli, KeysForAPathWithoutAKeyAreWarnedOfAndRecordedAsSuch) {
  fs::path out = dir_ / "run";
  Result r = Leaklab({"run", "global-request-tracker", "--keys", "uniform:10", "--duration", "1s",
                      "--profile-every", "0s", "--out", out.string()});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: --keys uniform:10 has no effect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/track?id={n}"), std::string::npos) << r.err;
  json::object manifest =
      json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  const json::array& warnings = manifest.at("warnings").as_array();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(std::string(warnings[0].as_string()).find("--keys uniform:10"), std::string::npos);

  // A scenario whose requests carry {key} takes the same flag without a word.
  out = dir_ / "cache";
  r = Leaklab({"run", "unbounded-cache", "--keys", "uniform:10", "--duration", "1s",
               "--profile-every", "0s", "--out", out.string()});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  manifest = json::parse(ReadWholeFile(out / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_TRUE(manifest.at("warnings").as_array().empty());
  EXPECT_EQ(manifest.at("flags").at("keys").as_string(), "uniform:10");
}

TEST_F(LeaklabCli, CatalogGivesEveryVariantAnExpectedVerdict) {
  size_t variants = 0;
  for (const ScenarioEntry& s : LoadCatalog(fs::path(LEAKLAB_BIN_DIR) / "leaklab-scenario")) {
    for (const ScenarioEntry::Variant& v : s.variants) {
      EXPECT_TRUE(v.expected_verdict == "leak" || v.expected_verdict == "no-leak" ||
                  v.expected_verdict == "lazy-release")
          << s.name << "/" << v.name << ": '" << v.expected_verdict << "'";
      ++variants;
    }
  }
  // The course's 13 at least; a new scenario adds its own without touching this test.
  EXPECT_GE(variants, 13u);
}

const fs::path kReportFixture =
    fs::path(LEAKLAB_SOURCE_DIR) / "report/testdata/runaway-workers-leaky";

TEST_F(LeaklabCli, ReportWritesTheReportOrNamesTheFileAtFault) {
  const fs::path run = dir_ / "run";
  fs::create_directories(run);
  for (const auto& e : fs::directory_iterator(kReportFixture))
    fs::copy_file(e.path(), run / e.path().filename());
  std::string out;
  ASSERT_EQ(LeaklabStdout("report " + run.string(), out), 0) << out;
  EXPECT_EQ(out, "report: " + (run / "report.html").string() + "\n");
  EXPECT_NE(ReadWholeFile(run / "report.html", kMaxFileBytes).find("data-verdict=\"leak\""),
            std::string::npos);

  const fs::path empty = dir_ / "empty";
  fs::create_directories(empty);
  EXPECT_EQ(LeaklabStdout("report " + empty.string(), out), 2);
  EXPECT_NE(out.find(empty.string() + ": not a results folder (no series.csv)"), std::string::npos)
      << out;
  std::ofstream(run / "verdict.json") << "{\"verdict\": ";
  EXPECT_EQ(LeaklabStdout("report " + run.string(), out), 2);
  EXPECT_NE(out.find((run / "verdict.json").string() + ": not valid JSON"), std::string::npos)
      << out;
  // The report of the folder that could not be read is left as it was.
  EXPECT_NE(ReadWholeFile(run / "report.html", kMaxFileBytes).find("data-verdict=\"leak\""),
            std::string::npos);
  EXPECT_EQ(LeaklabStdout("report", out), 2);
}

// Foreign data: a CSV exported from elsewhere gets a results folder with a
// report, which `leaklab analyze DIR` reads again to the same verdict.
TEST_F(LeaklabCli, AnalyzeCsvWithOutMakesAResultsFolderWithAReport) {
  const fs::path csv = dir_ / "export.csv";
  {
    std::ofstream f(csv);
    f << "t_s,rss_bytes,requests_total,dashboard_note\n";
    for (int i = 0; i < 120; ++i)
      f << i << "," << 50e6 + i * 1e6 + (i % 3) * 1e5 << "," << i * 100 << ",1\n";
  }
  const fs::path out_dir = dir_ / "analysis";
  std::string out;
  ASSERT_EQ(LeaklabStdout(
                "analyze " + csv.string() + " --out " + out_dir.string() + " --expect leak", out),
            0)
      << out;
  EXPECT_NE(out.find("report: " + (out_dir / "report.html").string()), std::string::npos) << out;
  EXPECT_EQ(ReadWholeFile(out_dir / "series.csv", kMaxFileBytes), ReadWholeFile(csv, kMaxFileBytes))
      << "copied as it was, unknown columns too";
  const json::object manifest =
      json::parse(ReadWholeFile(out_dir / "manifest.json", kMaxFileBytes)).as_object();
  EXPECT_EQ(manifest.at("origin").as_string(), "leaklab analyze --out");
  EXPECT_EQ(
      json::parse(ReadWholeFile(out_dir / "verdict.json", kMaxFileBytes)).at("verdict").as_string(),
      "leak");
  const std::string html = ReadWholeFile(out_dir / "report.html", kMaxFileBytes);
  EXPECT_NE(html.find("data-verdict=\"leak\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-memory\""), std::string::npos);
  EXPECT_NE(html.find("per request"), std::string::npos);
  // The folder stands on its own.
  EXPECT_EQ(LeaklabStdout("analyze " + out_dir.string() + " --expect leak", out), 0) << out;
  // Analyzing into the same folder again replaces the earlier analysis...
  EXPECT_EQ(LeaklabStdout("analyze " + csv.string() + " --out " + out_dir.string(), out), 0) << out;
  // ...but never a run's folder, nor is --out taken with a folder input.
  const fs::path run = dir_ / "run";
  fs::create_directories(run);
  std::ofstream(run / "manifest.json") << "{\"scenario\":\"x\"}\n";
  EXPECT_EQ(LeaklabStdout("analyze " + csv.string() + " --out " + run.string(), out), 2);
  EXPECT_NE(out.find("holds other files"), std::string::npos) << out;
  EXPECT_EQ(ReadWholeFile(run / "manifest.json", kMaxFileBytes), "{\"scenario\":\"x\"}\n");
  EXPECT_EQ(LeaklabStdout("analyze " + out_dir.string() + " --out " + run.string(), out), 2);
  // A malformed CSV is refused before the folder is touched.
  const fs::path bad = dir_ / "bad.csv", fresh = dir_ / "fresh";
  std::ofstream(bad) << "t_s,rss_bytes\n0,1\n1,x\n";
  EXPECT_EQ(LeaklabStdout("analyze " + bad.string() + " --out " + fresh.string(), out), 2);
  EXPECT_NE(out.find(bad.string() + ":3:"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(fresh));
}

// A Go program's profiles, given as files: the folder holds copies of them
// numbered as a run numbers its own, the diff, and a report that names the leak.
TEST_F(LeaklabCli, AnalyzeGoProfilesWithOutMakesAResultsFolderWithAReport) {
  std::string args;
  for (int i = 1; i <= 5; ++i) {
    args += " " + (kGoSeries / ("goroutine-000" + std::to_string(i) + ".pb.gz")).string();
    args += " " + (kGoSeries / ("heap-000" + std::to_string(i) + ".pb.gz")).string();
  }
  const fs::path out_dir = dir_ / "go";
  std::string out;
  ASSERT_EQ(LeaklabStdout("analyze --json --out " + out_dir.string() + args, out), 0) << out;
  for (int i = 1; i <= 5; ++i) {
    EXPECT_TRUE(fs::exists(out_dir / "profiles" / ("heap-000" + std::to_string(i) + ".pb.gz")));
    EXPECT_TRUE(fs::exists(out_dir / "profiles" / ("workers-000" + std::to_string(i) + ".pb.gz")));
  }
  EXPECT_TRUE(fs::exists(out_dir / "heap-diff.pb.gz"));
  const json::value v = json::parse(ReadWholeFile(out_dir / "verdict.json", kMaxFileBytes));
  EXPECT_EQ(v.at("evidence").at("profiles").at("heap").at("first").as_string(),
            (out_dir / "profiles" / "heap-0001.pb.gz").string());
  const std::string html = ReadWholeFile(out_dir / "report.html", kMaxFileBytes);
  EXPECT_NE(html.find("main.(*sessionStore).add"), std::string::npos);
  EXPECT_NE(html.find("main.watch"), std::string::npos);
  EXPECT_NE(html.find("<path class=\"line c-heap\" d=\"M"), std::string::npos);
  // series.csv holds the profiles' totals.
  EXPECT_EQ(ReadWholeFile(out_dir / "series.csv", kMaxFileBytes).rfind("t_s,", 0), 0u);
  EXPECT_EQ(LeaklabStdout("analyze " + out_dir.string(), out), 0) << out;
  EXPECT_NE(out.find("main.(*sessionStore).add"), std::string::npos) << out;
}

// The report is the last step: when it cannot be written, the run's data is
// all there and the command still did its job.
TEST_F(LeaklabCli, ReportThatCannotBeWrittenLosesNothingAndKeepsExitZero) {
  const fs::path run = dir_ / "run";
  const fs::path log = dir_ / "stderr.log";
  // A run is never written among other files, so the obstacle (a folder
  // where report.html should go) is put there once the run has claimed its
  // folder, seconds before the report is due.
  ChildProcess child(fs::path(LEAKLAB_BIN_DIR) / "leaklab",
                     {"run", "steady-state", "--duration", "3s", "--out", run.string()}, log);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!fs::exists(run / "manifest.json") && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(20));
  fs::create_directories(run / "report.html");
  Result r;
  r.exit = child.Wait(std::chrono::seconds(30), milliseconds(2000));
  r.err = ReadWholeFile(log, kMaxFileBytes);
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no report written"), std::string::npos) << r.err;
  for (const char* f :
       {"manifest.json", "series.csv", "events.csv", "loadgen.json", "verdict.json"}) {
    EXPECT_TRUE(fs::exists(run / f)) << f;
  }
  const std::string verdict = ReadWholeFile(run / "verdict.json", kMaxFileBytes);
  r = Leaklab({"analyze", run.string()});
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no report written"), std::string::npos) << r.err;
  // verdict.json was brought up to date all the same: the same verdict.
  EXPECT_EQ(json::parse(ReadWholeFile(run / "verdict.json", kMaxFileBytes)).at("verdict"),
            json::parse(verdict).at("verdict"));
  // Once the way is clear, analyze writes it.
  fs::remove(run / "report.html");
  r = Leaklab({"analyze", run.string(), "--no-report"});
  EXPECT_FALSE(fs::exists(run / "report.html"));
  r = Leaklab({"analyze", run.string()});
  EXPECT_EQ(r.exit.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(run / "report.html"));
}

TEST_F(LeaklabCli, RunAllRefusesPerScenarioFlags) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--all", "steady-state"},
        {"run", "--all", "--variant", "leaky"},
        {"run", "--all", "--rate", "10"},
        {"run", "--all", "--expect", "leak"}}) {
    Result r = Leaklab(args);
    EXPECT_EQ(r.exit.exit_code, 2)
        << args[2] << " " << (args.size() > 3 ? args[3] : "") << ": " << r.err;
  }
  Result r = Leaklab({"run", "--all", "--variant", "leaky"});
  EXPECT_NE(r.err.find("--variant is per scenario"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace leaklab::harness
