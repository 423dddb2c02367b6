#include "harness/child_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>

namespace leaklab::harness {
namespace {

using std::chrono::milliseconds;

TEST(ChildProcess, ReadsFirstLineAndStopsWithSigterm) {
  ChildProcess child("/bin/sh", {"-c", "echo 4242; exec sleep 30"}, "/dev/null");
  EXPECT_EQ(child.ReadFirstLine(milliseconds(5000)), "4242");
  EXPECT_FALSE(child.Poll().exited);
  ExitInfo exit = child.Stop(milliseconds(2000));
  EXPECT_TRUE(exit.exited);
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_EQ(exit.Describe(), "killed by SIGTERM");
}

TEST(ChildProcess, SilentChildTimesOut) {
  ChildProcess child("/bin/sh", {"-c", "exec sleep 30"}, "/dev/null");
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(child.ReadFirstLine(milliseconds(200)).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ChildProcess, ReportsExitCode) {
  ChildProcess child("/bin/sh", {"-c", "exit 7"}, "/dev/null");
  EXPECT_FALSE(child.ReadFirstLine(milliseconds(2000)).has_value());  // stdout closed
  ExitInfo exit = child.Stop(milliseconds(2000));
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_EQ(exit.Describe(), "exit code 7");
}

TEST(ChildProcess, IgnoredSigtermEndsInSigkill) {
  ChildProcess child("/bin/sh", {"-c", "trap '' TERM; echo up; while :; do sleep 0.05; done"},
                     "/dev/null");
  ASSERT_EQ(child.ReadFirstLine(milliseconds(5000)), "up");
  ExitInfo exit = child.Stop(milliseconds(200));
  EXPECT_EQ(exit.signal, SIGKILL);
}

TEST(ChildProcess, MissingProgramIsAClearError) {
  try {
    ChildProcess child("/nonexistent/leaklab-scenario", {}, "/dev/null");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/leaklab-scenario"), std::string::npos);
  }
}

}  // namespace
}  // namespace leaklab::harness
