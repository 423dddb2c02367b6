// leaklab: the lab's command-line front end (shared/DESIGN.md, "CLI").
//
//   leaklab list
//   leaklab run SCENARIO [--variant V] [--duration 10s] [--out DIR] [--expect VERDICT] ...
//   leaklab analyze PATH... [--json] [--expect VERDICT] [--diff FILE]
//   leaklab watch --pid PID | --pprof URL [--every 1s] [--for 60s] [--out DIR]
//
// Exit status: 0 when the command did its job, whatever the verdict; 3 when
// --expect was given and a verdict differs; 2 for bad usage or input; 1 when
// an experiment could not be carried out (e.g. the server would not start).

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "analyzers/series/series.h"
#include "analyzers/pprof/profile.h"
#include "analyzers/verdict/folder.h"
#include "analyzers/verdict/profile_evidence.h"
#include "common/duration.h"
#include "harness/catalog_client.h"
#include "harness/experiment.h"
#include "harness/heap_diff_file.h"
#include "harness/watch.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace leaklab;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnexpectedVerdict = 3;

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

const char* kUsage =
    "usage: leaklab <command> [options]\n"
    "\n"
    "commands:\n"
    "  list                          scenarios, their variants, one line each\n"
    "  run SCENARIO [options]        run one experiment, write a results folder, print the verdict\n"
    "  analyze PATH... [options]     analyze a results folder, or a series CSV and/or profiles\n"
    "  watch --pid PID | --pprof URL sample a live process into a results folder, then analyze it\n"
    "\n"
    "Run 'leaklab <command> --help' for a command's options.\n";

int Usage(const std::string& message) {
  std::cerr << "leaklab: " << message << "\n";
  return kExitUsage;
}

std::optional<verdict::Kind> ParseExpect(const po::variables_map& vm, int& status) {
  if (!vm.count("expect")) return std::nullopt;
  std::string name = vm["expect"].as<std::string>();
  auto kind = verdict::ParseKind(name);
  if (!kind) {
    status = Usage("--expect " + name + ": not a verdict (leak, no-leak, lazy-release, inconclusive)");
  }
  return kind;
}

int CmdList(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: leaklab list\n  Lists scenarios and their variants.\n";
    return kExitOk;
  }
  if (!args.empty()) return Usage("list takes no arguments (got '" + args[0] + "')");
  for (const auto& s : harness::LoadCatalog(harness::DefaultScenarioBinary())) {
    std::printf("%-24s %s\n", s.name.c_str(), s.description.c_str());
    for (const auto& v : s.variants) std::printf("    %-20s %s\n", v.name.c_str(), v.description.c_str());
    std::printf("    %-20s %s\n", "(load)", s.schedule.ToString().c_str());
  }
  return kExitOk;
}

int CmdRun(const std::vector<std::string>& args) {
  po::options_description desc("usage: leaklab run SCENARIO [options]");
  std::string duration, interval = "100ms", startup_timeout = "10s", profile_every = "2s", out, variant;
  desc.add_options()("help,h", "show this help")(
      "variant", po::value(&variant), "variant to run (default: leaky, or the scenario's only variant)")(
      "duration", po::value(&duration), "how long to drive the load (default: the scenario's own)")(
      "interval", po::value(&interval)->default_value(interval), "sampling interval")(
      "profile-every", po::value(&profile_every)->default_value(profile_every),
      "fetch heap and worker profiles this often into profiles/ (e.g. 2s); 0 = never")(
      "connections", po::value<int>(), "load connections (default: the scenario's own)")(
      "rate", po::value<double>(),
      "one steady phase at this total rate (req/s) instead of the scenario's phases; 0 = as fast as "
      "possible")(
      "schedule", po::value<std::string>(),
      "the load's phases and events in the load generator's schedule language, instead of the "
      "scenario's (see 'leaklab list' and loadgen/README.md)")(
      "keys", po::value<std::string>(), "keys for {key}: unique, uniform:K or zipf:K[:S]")(
      "seed", po::value<uint64_t>()->default_value(1), "seed for the load's key choice, recorded in the manifest")(
      "out", po::value(&out), "results folder (default: results/<scenario>-<variant>-<time>)")(
      "expect", po::value<std::string>(), "exit 3 unless the verdict is this one")(
      "startup-timeout", po::value(&startup_timeout)->default_value(startup_timeout),
      "how long the server may take to become healthy")(
      "mem-limit", po::value<std::string>(),
      "run the server in a memory cgroup with this limit (e.g. 200M; needs root and cgroup v1)")(
      "scenario-binary", po::value<std::string>(), "leaklab-scenario to run (default: beside leaklab)");
  po::options_description hidden;
  hidden.add_options()("scenario", po::value<std::string>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Usage(std::string("run: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  if (!vm.count("scenario")) return Usage("run: which scenario? (see 'leaklab list')");
  int status = kExitOk;
  auto expect = ParseExpect(vm, status);
  if (status != kExitOk) return status;

  harness::RunOptions options;
  options.variant = variant;
  options.out_dir = out;
  options.seed = vm["seed"].as<uint64_t>();
  options.progress = ::isatty(STDERR_FILENO);
  options.interrupted = &g_interrupted;
  options.scenario_binary = vm.count("scenario-binary") ? fs::path(vm["scenario-binary"].as<std::string>())
                                                        : harness::DefaultScenarioBinary();
  options.command_line.push_back("leaklab");
  options.command_line.push_back("run");
  options.command_line.insert(options.command_line.end(), args.begin(), args.end());
  auto parse = [](const char* flag, const std::string& text, std::chrono::milliseconds& out) {
    try {
      out = ParseDuration(text);
      return true;
    } catch (const std::invalid_argument& e) {
      Usage(std::string("run: ") + flag + ": " + e.what());
      return false;
    }
  };
  if (!duration.empty()) {
    std::chrono::milliseconds d{};
    if (!parse("--duration", duration, d)) return kExitUsage;
    options.duration = d;
  }
  if (!parse("--interval", interval, options.sample_interval)) return kExitUsage;
  if (!parse("--startup-timeout", startup_timeout, options.startup_timeout)) return kExitUsage;
  if (!parse("--profile-every", profile_every, options.profile_every)) return kExitUsage;
  if (vm.count("mem-limit")) {
    try {
      options.mem_limit_bytes = ParseBytes(vm["mem-limit"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      return Usage(std::string("run: --mem-limit: ") + e.what());
    }
  }
  if (vm.count("connections")) options.connections = vm["connections"].as<int>();
  if (vm.count("rate")) options.rate_per_s = vm["rate"].as<double>();
  if (vm.count("schedule")) {
    try {
      options.schedule = loadgen::ParseSchedule(vm["schedule"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      return Usage(std::string("run: --schedule: ") + e.what());
    }
  }
  if (vm.count("keys")) {
    try {
      options.keys = loadgen::ParseKeySpec(vm["keys"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      return Usage(std::string("run: --keys: ") + e.what());
    }
  }

  const std::string name = vm["scenario"].as<std::string>();
  std::vector<harness::ScenarioEntry> catalog = harness::LoadCatalog(options.scenario_binary);
  const harness::ScenarioEntry* scenario = nullptr;
  for (const auto& s : catalog) {
    if (s.name == name) scenario = &s;
  }
  if (scenario == nullptr) {
    std::string names;
    for (const auto& s : catalog) names += " " + s.name;
    return Usage("run: unknown scenario '" + name + "'; scenarios:" + names);
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  harness::RunOutcome outcome;
  try {
    outcome = harness::RunExperiment(*scenario, options);
  } catch (const harness::UsageError& e) {
    return Usage(std::string("run: ") + e.what());
  }
  std::printf("%s/%s: %zu samples, %s (%s)\nresults: %s\n", scenario->name.c_str(),
              options.variant.empty() ? scenario->variants.front().name.c_str() : options.variant.c_str(),
              outcome.samples, outcome.end_reason.c_str(), outcome.end_detail.c_str(), outcome.out_dir.c_str());
  std::fputs(verdict::VerdictSummary(outcome.verdict).c_str(), stdout);
  if (expect && *expect != outcome.verdict.kind) {
    std::fprintf(stderr, "leaklab: expected %s, got %s\n", verdict::KindName(*expect),
                 verdict::KindName(outcome.verdict.kind));
    return kExitUnexpectedVerdict;
  }
  return kExitOk;
}

// One analysis: a results folder, or files that together describe one run.
struct Analysis {
  std::string label;
  verdict::Verdict verdict;
};

// Sorts PATHs by what they are. Results folders are runs of their own; files
// (at most one series CSV, and any number of heap and worker profiles) are
// one run analyzed together.
struct AnalyzeInputs {
  std::vector<fs::path> folders, csvs, profiles;
};

int CmdAnalyze(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab analyze PATH... [options]\n"
      "  PATH: a results folder (each folder is one run), or files that together are one run:\n"
      "  a series CSV and/or two or more heap or worker profiles (pprof format, from leaklab,\n"
      "  Go or any pprof producer; ordered by their own timestamps, else by name)");
  desc.add_options()("help,h", "show this help")("json", "print verdict.json instead of a summary")(
      "expect", po::value<std::string>(), "exit 3 unless every verdict is this one")(
      "diff", po::value<std::string>(),
      "for profiles given as files: write the heap diff (last minus first, as pprof -base) here; "
      "a results folder gets DIR/heap-diff.pb.gz");
  po::options_description hidden;
  hidden.add_options()("path", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("path", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Usage(std::string("analyze: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  if (!vm.count("path")) return Usage("analyze: give a results folder, a series CSV or profiles");
  int status = kExitOk;
  auto expect = ParseExpect(vm, status);
  if (status != kExitOk) return status;

  const std::vector<std::string> paths = vm["path"].as<std::vector<std::string>>();
  AnalyzeInputs in;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      in.folders.push_back(path);
    } else if (!fs::exists(path, ec)) {
      return Usage("analyze: " + path + ": no such file or folder");
    } else if (fs::path(path).extension() == ".csv") {
      in.csvs.push_back(path);
    } else if (fs::path(path).extension() == ".json") {
      return Usage("analyze: " + path + ": Prometheus query_range exports are not supported yet");
    } else {
      in.profiles.push_back(path);
    }
  }
  if (!in.folders.empty() && in.folders.size() != paths.size()) {
    return Usage("analyze: a results folder is a run of its own; give folders alone, or files alone");
  }
  if (in.csvs.size() > 1) {
    return Usage("analyze: one run has one series, got " + std::to_string(in.csvs.size()) +
                 " CSV files (" + in.csvs[0].string() + ", " + in.csvs[1].string() +
                 "); analyze them in separate calls");
  }
  if (vm.count("diff") && !in.folders.empty()) {
    return Usage("analyze: --diff is for profiles given as files; a results folder gets DIR/heap-diff.pb.gz");
  }

  std::vector<Analysis> analyses;
  try {
    for (const fs::path& dir : in.folders) {
      Analysis a{dir.string(), verdict::AnalyzeResultsFolder(dir, {})};
      try {
        harness::WriteHeapDiffProfile(a.verdict, dir / "heap-diff.pb.gz");
      } catch (const std::exception& e) {
        std::fprintf(stderr, "leaklab: %s: no heap diff written: %s\n", dir.c_str(), e.what());
      }
      analyses.push_back(std::move(a));
    }
    if (in.folders.empty()) {
      const std::vector<pprof::NamedProfile> profiles = verdict::ReadProfiles(in.profiles);
      std::string label = in.csvs.empty() ? "" : in.csvs[0].string();
      if (!profiles.empty()) {
        label += (label.empty() ? "" : " + ") + std::to_string(profiles.size()) + " profiles";
      }
      verdict::Verdict v = in.csvs.empty()
                               ? verdict::AnalyzeSeries(verdict::SeriesFromProfiles(profiles, label), {})
                               : verdict::AnalyzeSeriesFile(in.csvs[0], {});
      v.source = label;
      if (!profiles.empty()) verdict::AddProfileEvidence(v, verdict::AnalyzeProfiles(profiles));
      if (vm.count("diff") && !harness::WriteHeapDiffProfile(v, vm["diff"].as<std::string>())) {
        return Usage("analyze: --diff needs two or more heap profiles");
      }
      analyses.push_back({label, std::move(v)});
    }
  } catch (const series::InputError& e) {
    return Usage(std::string("analyze: ") + e.what());
  } catch (const pprof::ProfileError& e) {
    return Usage(std::string("analyze: ") + e.what());
  } catch (const fs::filesystem_error& e) {
    return Usage(std::string("analyze: ") + e.what());
  }

  for (const Analysis& a : analyses) {
    if (vm.count("json")) {
      std::fputs(verdict::VerdictToJson(a.verdict).c_str(), stdout);
    } else {
      std::printf("%s\n", a.label.c_str());
      std::fputs(verdict::VerdictSummary(a.verdict).c_str(), stdout);
    }
    if (expect && *expect != a.verdict.kind) {
      std::fprintf(stderr, "leaklab: %s: expected %s, got %s\n", a.label.c_str(), verdict::KindName(*expect),
                   verdict::KindName(a.verdict.kind));
      status = kExitUnexpectedVerdict;
    }
  }
  return status;
}

int CmdWatch(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab watch --pid PID | --pprof URL [options]\n"
      "  Samples a live process leaklab did not start, into a results folder, then analyzes it.\n"
      "  --pid reads /proc/PID (RSS, anonymous, LazyFree); --pprof fetches a heap or goroutine\n"
      "  profile (e.g. a Go service's http://127.0.0.1:6060/debug/pprof/heap) at every sample.");
  std::string every = "1s", duration = "60s", out;
  desc.add_options()("help,h", "show this help")("pid", po::value<int>(), "process to sample")(
      "pprof", po::value<std::string>(), "heap or goroutine profile URL to fetch")(
      "every", po::value(&every)->default_value(every), "sampling interval")(
      "for", po::value(&duration)->default_value(duration), "how long to watch (Ctrl-C stops early)")(
      "out", po::value(&out), "results folder (default: results/watch-<target>-<time>)")(
      "json", "print verdict.json instead of a summary")(
      "expect", po::value<std::string>(), "exit 3 unless the verdict is this one");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Usage(std::string("watch: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc;
    return kExitOk;
  }
  int status = kExitOk;
  auto expect = ParseExpect(vm, status);
  if (status != kExitOk) return status;
  harness::WatchOptions options;
  if (vm.count("pid")) options.pid = vm["pid"].as<int>();
  if (vm.count("pprof")) options.pprof_url = vm["pprof"].as<std::string>();
  try {
    options.every = ParseDuration(every);
  } catch (const std::invalid_argument& e) {
    return Usage(std::string("watch: --every: ") + e.what());
  }
  try {
    options.duration = ParseDuration(duration);
  } catch (const std::invalid_argument& e) {
    return Usage(std::string("watch: --for: ") + e.what());
  }
  options.out_dir = out;
  options.command_line.push_back("leaklab");
  options.command_line.push_back("watch");
  options.command_line.insert(options.command_line.end(), args.begin(), args.end());
  options.interrupted = &g_interrupted;
  options.progress = ::isatty(STDERR_FILENO) != 0;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  harness::WatchOutcome outcome;
  try {
    outcome = harness::Watch(options);
  } catch (const std::invalid_argument& e) {
    return Usage(std::string("watch: ") + e.what());
  }
  if (vm.count("json")) {
    std::fputs(verdict::VerdictToJson(outcome.verdict).c_str(), stdout);
  } else {
    std::printf("results: %s (%zu samples, %zu profiles; %s)\n", outcome.out_dir.c_str(), outcome.samples,
                outcome.profiles, outcome.end_reason.c_str());
    std::fputs(verdict::VerdictSummary(outcome.verdict).c_str(), stdout);
  }
  if (expect && *expect != outcome.verdict.kind) {
    std::fprintf(stderr, "leaklab: expected %s, got %s\n", verdict::KindName(*expect),
                 verdict::KindName(outcome.verdict.kind));
    return kExitUnexpectedVerdict;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "list") return CmdList(args);
    if (command == "run") return CmdRun(args);
    if (command == "analyze") return CmdAnalyze(args);
    if (command == "watch") return CmdWatch(args);
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
  } catch (const std::exception& e) {
    std::cerr << "leaklab " << command << ": " << e.what() << "\n";
    return kExitFailed;
  }
  std::cerr << "leaklab: unknown command '" << command << "'\n\n" << kUsage;
  return kExitUsage;
}
