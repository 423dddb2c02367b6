#include "harness/child_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

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

// Whether `pid` is a process that still runs (not gone, not a zombie).
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

// A wrapper script's children go with it: the whole process group is
// stopped, not only the process leaklab started.
TEST(ChildProcess, StopEndsTheChildsChildrenToo) {
  ChildProcess child("/bin/sh", {"-c", "sleep 30 & echo $!; wait"}, "/dev/null");
  const std::optional<std::string> line = child.ReadFirstLine(milliseconds(5000));
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  ASSERT_TRUE(Running(grandchild));
  child.Stop(milliseconds(2000));
  for (int i = 0; i < 200 && Running(grandchild); ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(Running(grandchild));
}

// ...also when the child has already exited and left them behind.
TEST(ChildProcess, StopEndsWhatAnExitedChildLeftRunning) {
  ChildProcess child("/bin/sh", {"-c", "sleep 30 & echo $!"}, "/dev/null");
  const std::optional<std::string> line = child.ReadFirstLine(milliseconds(5000));
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  for (int i = 0; i < 500 && !child.Poll().exited; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(child.Poll().exited);
  ASSERT_TRUE(Running(grandchild));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(child.Stop(milliseconds(2000)).exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  for (int i = 0; i < 200 && Running(grandchild); ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(Running(grandchild));
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
