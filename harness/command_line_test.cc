#include "harness/command_line.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/errors.h"

namespace leaklab::harness {
namespace {

using std::chrono::milliseconds;

// The UsageError a parse throws; fails the test when there is none.
template <typename Parse>
std::string UsageErrorOf(Parse parse) {
  try {
    parse();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

TEST(CommandLine, RunFlagsBecomeRunOptions) {
  std::ostringstream help;
  const auto cmd = ParseRunCommand(
      {"unbounded-cache", "--variant", "fixed", "--duration", "3s", "--rate", "250", "--keys",
       "uniform:10", "--mem-limit", "200M", "--expect", "no-leak", "--no-report"},
      help);
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->scenario, "unbounded-cache");
  EXPECT_FALSE(cmd->all);
  EXPECT_EQ(cmd->options.variant, "fixed");
  EXPECT_EQ(cmd->options.duration, milliseconds(3000));
  EXPECT_EQ(cmd->options.sample_interval, milliseconds(100));
  EXPECT_EQ(cmd->options.profile_every, milliseconds(2000));
  EXPECT_EQ(cmd->options.rate_per_s, 250.0);
  EXPECT_EQ(cmd->options.mem_limit_bytes, 200 << 20);
  EXPECT_EQ(cmd->expect, verdict::Kind::kNoLeak);
  EXPECT_FALSE(cmd->options.write_report);
  EXPECT_EQ(cmd->options.command_line.front(), "leaklab");
  EXPECT_EQ(cmd->options.command_line.at(2), "unbounded-cache");
  EXPECT_TRUE(help.str().empty());
}

TEST(CommandLine, PressureTakesASizeAndAnOptionalTime) {
  std::ostringstream help;
  auto cmd = ParseRunCommand({"lazy-release", "--mem-limit", "320M", "--pressure", "200M"}, help);
  ASSERT_TRUE(cmd && cmd->options.pressure);
  EXPECT_EQ(cmd->options.pressure->bytes, 200 << 20);
  EXPECT_FALSE(cmd->options.pressure->at);
  cmd = ParseRunCommand({"lazy-release", "--mem-limit", "320M", "--pressure", "64M@7s"}, help);
  ASSERT_TRUE(cmd && cmd->options.pressure);
  EXPECT_EQ(cmd->options.pressure->bytes, 64 << 20);
  EXPECT_EQ(cmd->options.pressure->at, milliseconds(7000));
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--pressure", "200M@soon"}, help);
            }).find("--pressure: malformed duration 'soon'"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"--all", "--pressure", "200M"}, help);
            }).find("--pressure is per scenario"),
            std::string::npos);
}

TEST(CommandLine, HelpIsPrintedNotParsed) {
  std::ostringstream help;
  EXPECT_FALSE(ParseRunCommand({"--help"}, help));
  EXPECT_NE(help.str().find("--mem-limit"), std::string::npos);
  EXPECT_FALSE(ParseAnalyzeCommand({"-h"}, help));
  EXPECT_FALSE(ParseWatchCommand({"--help"}, help));
  EXPECT_FALSE(ParseReportCommand({"--help"}, help));
  EXPECT_NE(help.str().find("usage: leaklab report DIR..."), std::string::npos);
}

TEST(CommandLine, BadFlagsAreUsageErrorsNamingTheFlag) {
  std::ostringstream help;
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--duration", "5parsecs"}, help);
            }).find("--duration: malformed duration '5parsecs'"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--mem-limit", "lots"}, help);
            }).find("--mem-limit: malformed size 'lots'"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--schedule", "steady"}, help);
            }).find("--schedule: "),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--expect", "leaky"}, help);
            }).find("--expect leaky: not a verdict"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--bogus"}, help);
            }).find("bogus"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] { ParseRunCommand({}, help); }).find("which scenario?"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"x", "--seed=-1"}, help);
            }).find("--seed: '-1' is not a whole number"),
            std::string::npos);
  EXPECT_EQ(ParseRunCommand({"x", "--seed", "18446744073709551615"}, help)->options.seed,
            18446744073709551615u);
  EXPECT_NE(UsageErrorOf([&] {
              ParseWatchCommand({"--every", "soon"}, help);
            }).find("--every: "),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] { ParseReportCommand({}, help); }).find("give a results folder"),
            std::string::npos);
}

TEST(CommandLine, RunAllTakesNoPerScenarioFlags) {
  std::ostringstream help;
  const auto cmd = ParseRunCommand({"--all", "--duration", "2s", "--expect", "catalog"}, help);
  ASSERT_TRUE(cmd);
  EXPECT_TRUE(cmd->all && cmd->expect_catalog);
  EXPECT_FALSE(cmd->expect);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"--all", "--variant", "leaky"}, help);
            }).find("--variant is per scenario"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"--all", "steady-state"}, help);
            }).find("give no scenario name (got 'steady-state')"),
            std::string::npos);
  EXPECT_NE(UsageErrorOf([&] {
              ParseRunCommand({"--all", "--expect", "leak"}, help);
            }).find("--expect takes 'catalog'"),
            std::string::npos);
}

TEST(CommandLine, AnalyzeAndWatchFlags) {
  std::ostringstream help;
  const auto analyze = ParseAnalyzeCommand(
      {"a.csv", "h1.pb.gz", "--out", "dir", "--diff", "d.pb.gz", "--json"}, help);
  ASSERT_TRUE(analyze);
  EXPECT_EQ(analyze->request.paths, (std::vector<std::string>{"a.csv", "h1.pb.gz"}));
  EXPECT_EQ(analyze->request.out_dir, std::filesystem::path("dir"));
  EXPECT_EQ(analyze->request.diff, std::filesystem::path("d.pb.gz"));
  EXPECT_TRUE(analyze->json && analyze->request.write_report);
  const auto watch =
      ParseWatchCommand({"--pid", "42", "--pprof", "http://a/heap", "--pprof", "http://a/goroutine",
                         "--every", "250ms", "--for", "1m", "--metric", "requests_total=x"},
                        help);
  ASSERT_TRUE(watch);
  EXPECT_EQ(watch->options.pid, 42);
  EXPECT_EQ(watch->options.pprof_urls.size(), 2u);
  EXPECT_EQ(watch->options.every, milliseconds(250));
  EXPECT_EQ(watch->options.duration, milliseconds(60'000));
  EXPECT_EQ(watch->options.metrics, std::vector<std::string>{"requests_total=x"});
}

}  // namespace
}  // namespace leaklab::harness
