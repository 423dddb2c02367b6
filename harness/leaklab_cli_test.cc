// The leaklab CLI on bad usage and on servers that misbehave: every case ends
// with a clear message, the documented exit status, within a bounded time,
// and without losing what was already recorded.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "harness/child_process.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

  Result Leaklab(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    fs::path log = dir_ / "stderr.log";
    fs::remove(log);
    auto start = Clock::now();
    ChildProcess p(fs::path(LEAKLAB_BIN_DIR) / "leaklab", args, log);
    Result r;
    r.exit = p.Wait(timeout, milliseconds(2000));
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.err = ReadFile(log);
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
  Result r = Leaklab({"run", "global-request-tracker", "--variant", "nope", "--out", (dir_ / "run").string()});
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
  Result r = Leaklab({"run", "global-request-tracker", "--schedule", "steady 5s; ramp 2s to", "--out",
                      (dir_ / "run").string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--schedule: clause 2 'ramp 2s to': expected a rate after 'to'"), std::string::npos)
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

TEST_F(LeaklabCli, UnknownFlagAndCommandAreUsageErrors) {
  EXPECT_EQ(Leaklab({"run", "global-request-tracker", "--bogus"}).exit.exit_code, 2);
  EXPECT_EQ(Leaklab({"frobnicate"}).exit.exit_code, 2);
  EXPECT_EQ(Leaklab({"analyze", "x", "--expect", "leaky"}).exit.exit_code, 2);
}

TEST_F(LeaklabCli, MalformedMemLimitNamesTheFlag) {
  Result r = Leaklab({"run", "global-request-tracker", "--mem-limit", "lots"});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("--mem-limit: malformed size 'lots'"), std::string::npos) << r.err;
  r = Leaklab({"run", "global-request-tracker", "--mem-limit", "1M", "--out", (dir_ / "run").string()});
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

TEST_F(LeaklabCli, ServerThatNeverAnswersFailsWithinTheStartupTimeout) {
  // Prints a port nobody listens on, then hangs.
  fs::path fake = FakeServer("echo 1; exec sleep 30");
  fs::path out = dir_ / "run";
  Result r = Leaklab({"run", "fake", "--scenario-binary", fake.string(), "--startup-timeout", "1s", "--out",
                      out.string()});
  EXPECT_EQ(r.exit.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.err.find("did not answer /healthz within 1s"), std::string::npos) << r.err;
  json::object manifest = json::parse(ReadFile(out / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "server_failed_to_start");
}

TEST_F(LeaklabCli, ServerThatPrintsNoPortFailsWithinTheStartupTimeout) {
  fs::path fake = FakeServer("echo 'cannot start: out of luck' >&2; exec sleep 30");
  fs::path out = dir_ / "run";
  Result r = Leaklab({"run", "fake", "--scenario-binary", fake.string(), "--startup-timeout", "1s", "--out",
                      out.string()});
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
                   {"run", "global-request-tracker", "--duration", "20s", "--out", out.string()}, log);
  // The manifest names the server's pid once it is up.
  int pid = 0;
  auto deadline = Clock::now() + std::chrono::seconds(15);
  while (pid == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    boost::system::error_code ec;
    json::value m = json::parse(ReadFile(out / "manifest.json"), ec);
    if (!ec && m.is_object() && m.as_object().contains("server") &&
        m.at("server").as_object().contains("port")) {
      pid = static_cast<int>(m.at("server").at("pid").as_int64());
    }
  }
  ASSERT_GT(pid, 0) << ReadFile(log);
  std::this_thread::sleep_for(milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ExitInfo exit = run.Wait(std::chrono::seconds(15), milliseconds(2000));
  EXPECT_EQ(exit.exit_code, 0) << ReadFile(log);

  json::object manifest = json::parse(ReadFile(out / "manifest.json")).as_object();
  EXPECT_EQ(manifest.at("status").as_string(), "finished");
  EXPECT_EQ(manifest.at("end").at("reason").as_string(), "server_exited");
  EXPECT_NE(std::string(manifest.at("end").at("detail").as_string()).find("SIGKILL"), std::string::npos);
  std::string csv = ReadFile(out / "series.csv");
  EXPECT_GE(std::count(csv.begin(), csv.end(), '\n'), 10) << csv;
  std::string verdict = ReadFile(out / "verdict.json");
  EXPECT_NE(verdict.find("ended early"), std::string::npos) << verdict;
}

TEST_F(LeaklabCli, RefusesToOverwriteARecordedRun) {
  fs::path out = dir_ / "run";
  fs::create_directories(out);
  std::ofstream(out / "manifest.json") << "{\"precious\":true}\n";
  Result r = Leaklab({"run", "global-request-tracker", "--out", out.string()});
  EXPECT_EQ(r.exit.exit_code, 2);
  EXPECT_NE(r.err.find("already holds a run"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(out / "manifest.json"), "{\"precious\":true}\n");
}

}  // namespace
}  // namespace leaklab::harness
