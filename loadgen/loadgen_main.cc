// leaklab-loadgen: a thin command line over RunLoad, used like wrk and wrk2.
//   leaklab-loadgen [-t N] [-c N] [-d 10s] [-R rate] [-H h] [--latency] [--timeout 5s] URL

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "loadgen/command_line.h"
#include "loadgen/loadgen.h"

namespace {

namespace loadgen = leaklab::loadgen;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr const char* kVersion = "leaklab-loadgen 0.2 (wrk/wrk2-compatible flags)";

// Written by the signal handler: a lock-free atomic store is async-signal-safe.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnSignal(int) { g_stop.store(true); }

int Main(int argc, char** argv) {
  loadgen::CommandLine cl;
  try {
    cl = loadgen::ParseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitUsage;
  }
  if (cl.action == loadgen::CommandLine::Action::kHelp) {
    std::cout << cl.help << "\n";
    return 0;
  }
  if (cl.action == loadgen::CommandLine::Action::kVersion) {
    std::cout << kVersion << "\n";
    return 0;
  }

  // Ctrl-C ends the run early but still prints what was measured.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  loadgen::RunControl control;
  control.stop = &g_stop;
  // A progress line once a second, only for a person watching a terminal.
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  if (progress) {
    control.on_progress = [](const loadgen::Progress& p) {
      std::fprintf(stderr, "\r  %6.1fs  %10.0f req/s  %12llu requests  %8llu errors ", p.elapsed_s,
                   p.requests_per_s, static_cast<unsigned long long>(p.requests),
                   static_cast<unsigned long long>(p.errors));
      std::fflush(stderr);
    };
  }
  loadgen::LoadResult result;
  try {
    result = loadgen::RunLoad(cl.options, control);
  } catch (const std::invalid_argument& e) {
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "leaklab-loadgen: " << e.what() << "\n";
    return kExitFailure;
  }
  if (progress) std::fprintf(stderr, "\r%*s\r", 70, "");
  if (cl.json) {
    std::cout << boost::json::serialize(loadgen::ToJson(cl.options, result)) << "\n";
  } else {
    std::cout << loadgen::FormatSummary(cl.options, result, cl.latency);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
