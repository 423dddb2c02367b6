// leaklab: the lab's command-line front end (shared/DESIGN.md, "CLI").
//
//   leaklab list
//   leaklab run SCENARIO [--variant V] [--duration 10s] [--out DIR] [--expect VERDICT] ...
//   leaklab run --all [--out DIR] [--duration 10s] ...
//   leaklab analyze PATH... [--json] [--expect VERDICT] [--diff FILE] [--out DIR]
//   leaklab watch [--pid PID] [--pprof URL]... [--metrics URL] [--every 1s] [--for 60s] [--out DIR]
//   leaklab report DIR...
//
// Exit status: 0 when the command did its job, whatever the verdict; 3 when
// --expect was given and a verdict differs; 2 for bad usage or input; 1 when
// an experiment could not be carried out (e.g. the server would not start).

#include <unistd.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "analyzers/pprof/profile.h"
#include "analyzers/series/prometheus.h"
#include "analyzers/series/series.h"
#include "analyzers/verdict/folder.h"
#include "analyzers/verdict/profile_evidence.h"
#include "common/atomic_file.h"
#include "common/duration.h"
#include "harness/analysis_folder.h"
#include "harness/catalog_client.h"
#include "harness/experiment.h"
#include "harness/heap_diff_file.h"
#include "harness/watch.h"
#include "harness/workshop.h"
#include "report/report.h"

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
    "  run SCENARIO [options]        run one experiment, write a results folder, print the "
    "verdict\n"
    "  run --all [options]           run every scenario and variant; an index page links the "
    "reports\n"
    "  analyze PATH... [options]     analyze a results folder, or a series CSV and/or profiles\n"
    "  watch --pid PID | --pprof URL | --metrics URL\n"
    "                               sample a live process into a results folder, then analyze it\n"
    "  report DIR...                 write DIR/report.html, the results folder's report\n"
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
    status =
        Usage("--expect " + name + ": not a verdict (leak, no-leak, lazy-release, inconclusive)");
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
    for (const auto& v : s.variants)
      std::printf("    %-20s %s\n", v.name.c_str(), v.description.c_str());
    std::printf("    %-20s %s\n", "(load)", s.schedule.ToString().c_str());
  }
  return kExitOk;
}

// The report's path, or why there is none: a report that fails costs the
// report only, never the run's data or the command's exit status.
void PrintReportLine(const harness::RunOutcome& outcome) {
  if (!outcome.report.empty()) std::printf("report: %s\n", outcome.report.c_str());
  if (!outcome.report_error.empty()) {
    std::fprintf(stderr, "leaklab: no report written: %s\n", outcome.report_error.c_str());
  }
}

// `run --all`: exit 0 when every run was carried out, 1 when one could not
// be, 3 when --expect catalog was given and a verdict differs.
int RunAll(const std::vector<harness::ScenarioEntry>& catalog, const harness::RunOptions& options,
           const std::string& out, bool expect_catalog) {
  harness::WorkshopOptions w;
  w.run = options;
  w.out_dir = out;
  w.on_progress = [](const harness::WorkshopRun& r, size_t i, size_t total) {
    const std::string name = r.scenario + "/" + r.variant;
    if (r.status == report::RunStatus::kRunning) {
      std::printf("[%2zu/%zu] %-36s ", i + 1, total, name.c_str());
    } else if (!r.actual.empty()) {
      std::printf("%-13s expected %-13s %s  %4.1f s\n", r.actual.c_str(), r.expected.c_str(),
                  r.actual == r.expected ? "as expected" : "UNEXPECTED", r.seconds);
    } else {
      std::printf("%s\n", report::RunStatusText(r.status, r.status_detail).c_str());
    }
    std::fflush(stdout);
  };
  harness::WorkshopOutcome outcome;
  try {
    outcome = harness::RunWorkshop(catalog, w);
  } catch (const harness::UsageError& e) {
    return Usage(std::string("run: ") + e.what());
  }
  size_t as_expected = 0;
  for (const auto& r : outcome.runs) as_expected += !r.actual.empty() && r.actual == r.expected;
  std::printf("%zu of %zu verdicts as expected%s\nindex: %s\n", as_expected, outcome.runs.size(),
              outcome.interrupted ? " (interrupted)" : "", outcome.index.c_str());
  if (outcome.failed > 0) {
    std::fprintf(stderr, "leaklab: %zu run(s) could not be carried out; see the index\n",
                 outcome.failed);
    return kExitFailed;
  }
  if (expect_catalog && outcome.unexpected > 0) {
    std::fprintf(stderr, "leaklab: %zu verdict(s) differ from the catalog's\n", outcome.unexpected);
    return kExitUnexpectedVerdict;
  }
  return kExitOk;
}

int CmdRun(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab run SCENARIO [options]\n"
      "       leaklab run --all [options]    every scenario and variant, into one folder with "
      "index.html");
  std::string duration, interval = "100ms", startup_timeout = "10s", profile_every = "2s", out,
                        variant;
  desc.add_options()("help,h", "show this help")(
      "variant", po::value(&variant),
      "variant to run (default: leaky, or the scenario's only variant)")(
      "duration", po::value(&duration), "how long to drive the load (default: the scenario's own)")(
      "interval", po::value(&interval)->default_value(interval), "sampling interval")(
      "profile-every", po::value(&profile_every)->default_value(profile_every),
      "fetch heap and worker profiles this often into profiles/ (e.g. 2s); 0 = never")(
      "connections", po::value<int>(), "load connections (default: the scenario's own)")(
      "rate", po::value<double>(),
      "one steady phase at this total rate (req/s) instead of the scenario's phases; 0 = as fast "
      "as "
      "possible")(
      "schedule", po::value<std::string>(),
      "the load's phases and events in the load generator's schedule language, instead of the "
      "scenario's (see 'leaklab list' and loadgen/README.md)")(
      "keys", po::value<std::string>(), "keys for {key}: unique, uniform:K or zipf:K[:S]")(
      "seed", po::value<uint64_t>()->default_value(1),
      "seed for the load's key choice, recorded in the manifest")(
      "out", po::value(&out),
      "results folder (default: results/<scenario>-<variant>-<time>; with --all, "
      "results/workshop-<time>)")("expect", po::value<std::string>(),
                                  "exit 3 unless the verdict is this one (with --all: 'catalog', "
                                  "each variant's expected verdict)")(
      "all",
      "run every scenario and variant of the catalog, each for its own duration, into one folder "
      "with an index page (index.html) of expected and actual verdicts")(
      "no-report", "do not write report.html")(
      "startup-timeout", po::value(&startup_timeout)->default_value(startup_timeout),
      "how long the server may take to become healthy")(
      "mem-limit", po::value<std::string>(),
      "run the server in a memory cgroup with this limit (e.g. 200M; needs root and cgroup v1)")(
      "scenario-binary", po::value<std::string>(),
      "leaklab-scenario to run (default: beside leaklab)");
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
  const bool run_all = vm.count("all") > 0;
  if (run_all) {
    if (vm.count("scenario")) {
      return Usage("run: --all runs every scenario; give no scenario name (got '" +
                   vm["scenario"].as<std::string>() + "')");
    }
    for (const char* flag : {"variant", "connections", "rate", "schedule", "keys", "mem-limit"}) {
      if (vm.count(flag))
        return Usage(std::string("run: --") + flag + " is per scenario; it cannot go with --all");
    }
    if (vm.count("expect") && vm["expect"].as<std::string>() != "catalog") {
      return Usage(
          "run: with --all, --expect takes 'catalog' (each variant's expected verdict), not '" +
          vm["expect"].as<std::string>() + "'");
    }
  } else if (!vm.count("scenario")) {
    return Usage("run: which scenario? (see 'leaklab list'; --all runs every one)");
  }
  int status = kExitOk;
  // --all checks against the catalog instead (see RunAll).
  const std::optional<verdict::Kind> expect =
      ParseExpect(run_all ? po::variables_map() : vm, status);
  if (status != kExitOk) return status;

  harness::RunOptions options;
  options.variant = variant;
  options.out_dir = out;
  options.seed = vm["seed"].as<uint64_t>();
  options.progress = ::isatty(STDERR_FILENO);
  options.write_report = vm.count("no-report") == 0;
  options.interrupted = &g_interrupted;
  options.scenario_binary = vm.count("scenario-binary")
                                ? fs::path(vm["scenario-binary"].as<std::string>())
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

  std::vector<harness::ScenarioEntry> catalog = harness::LoadCatalog(options.scenario_binary);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (run_all) return RunAll(catalog, options, out, vm.count("expect") > 0);
  const std::string name = vm["scenario"].as<std::string>();
  const harness::ScenarioEntry* scenario = nullptr;
  for (const auto& s : catalog) {
    if (s.name == name) scenario = &s;
  }
  if (scenario == nullptr) {
    std::string names;
    for (const auto& s : catalog) names += " " + s.name;
    return Usage("run: unknown scenario '" + name + "'; scenarios:" + names);
  }

  harness::RunOutcome outcome;
  try {
    outcome = harness::RunExperiment(*scenario, options);
  } catch (const harness::UsageError& e) {
    return Usage(std::string("run: ") + e.what());
  }
  std::printf(
      "%s/%s: %zu samples, %s (%s)\nresults: %s\n", scenario->name.c_str(),
      options.variant.empty() ? scenario->variants.front().name.c_str() : options.variant.c_str(),
      outcome.samples, std::string(EndReasonName(outcome.end_reason)).c_str(),
      outcome.end_detail.c_str(), outcome.out_dir.c_str());
  std::fputs(verdict::VerdictSummary(outcome.verdict).c_str(), stdout);
  PrintReportLine(outcome);
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
  std::vector<fs::path> prometheus;  // query_range exports: one verdict per series
};

int CmdAnalyze(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab analyze PATH... [options]\n"
      "  PATH: a results folder (each folder is one run), or files that together are one run:\n"
      "  a series CSV and/or two or more heap or worker profiles (pprof format, from leaklab,\n"
      "  Go or any pprof producer; ordered by their own timestamps, else by name).\n"
      "  A results folder gets its verdict.json, heap-diff.pb.gz and report.html rewritten;\n"
      "  files get them with --out DIR. A Prometheus query_range export (.json, given alone)\n"
      "  gives one verdict per series.");
  desc.add_options()("help,h", "show this help")("json", "print verdict.json instead of a summary")(
      "expect", po::value<std::string>(), "exit 3 unless every verdict is this one")(
      "diff", po::value<std::string>(),
      "for profiles given as files: write the heap diff (last minus first, as pprof -base) here; "
      "a results folder gets DIR/heap-diff.pb.gz")(
      "out", po::value<std::string>(),
      "for files: make DIR a results folder of this analysis: series.csv (the CSV, or the "
      "profiles' "
      "totals), profiles/, heap-diff.pb.gz, manifest.json, verdict.json and report.html; "
      "'leaklab analyze DIR' reads it again")(
      "no-report",
      "do not write report.html (a results folder still gets verdict.json and its heap diff)");
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
      in.prometheus.push_back(path);
    } else {
      in.profiles.push_back(path);
    }
  }
  if (!in.folders.empty() && in.folders.size() != paths.size()) {
    return Usage(
        "analyze: a results folder is a run of its own; give folders alone, or files alone");
  }
  if (!in.prometheus.empty() && in.prometheus.size() != paths.size()) {
    return Usage("analyze: a Prometheus export (" + in.prometheus[0].string() +
                 ") is analyzed on its own: each of its series gets its own verdict");
  }
  if (!in.prometheus.empty() && (vm.count("out") || vm.count("diff"))) {
    return Usage("analyze: --out and --diff are not for Prometheus exports");
  }
  if (in.csvs.size() > 1) {
    return Usage("analyze: one run has one series, got " + std::to_string(in.csvs.size()) +
                 " CSV files (" + in.csvs[0].string() + ", " + in.csvs[1].string() +
                 "); analyze them in separate calls");
  }
  if (vm.count("diff") && !in.folders.empty()) {
    return Usage(
        "analyze: --diff is for profiles given as files; a results folder gets "
        "DIR/heap-diff.pb.gz");
  }
  if (vm.count("out") && !in.folders.empty()) {
    return Usage(
        "analyze: --out is for files; a results folder gets its report in the folder itself");
  }
  const bool write_report = vm.count("no-report") == 0;
  const std::optional<fs::path> out_dir =
      vm.count("out") ? std::optional<fs::path>(vm["out"].as<std::string>()) : std::nullopt;
  // With --json, stdout holds JSON only: the report lines go to stderr.
  FILE* notes = vm.count("json") ? stderr : stdout;
  auto report = [&](const fs::path& dir) {
    if (!write_report) return;
    try {
      fs::path path = report::WriteReport(dir);
      std::fprintf(notes, "report: %s\n", path.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "leaklab: no report written: %s\n", e.what());
    }
  };

  std::vector<Analysis> analyses;
  try {
    for (const fs::path& dir : in.folders) {
      Analysis a{dir.string(), verdict::AnalyzeResultsFolder(dir, {})};
      try {
        harness::WriteHeapDiffProfile(a.verdict, dir / "heap-diff.pb.gz");
      } catch (const std::exception& e) {
        std::fprintf(stderr, "leaklab: %s: no heap diff written: %s\n", dir.c_str(), e.what());
      }
      // The folder's verdict.json is what the report shows: it is brought up
      // to date first. A folder that cannot be written is still analyzed.
      try {
        WriteFileAtomically(dir / "verdict.json", verdict::VerdictToJson(a.verdict));
        report(dir);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "leaklab: %s: verdict.json and report not written: %s\n", dir.c_str(),
                     e.what());
      }
      analyses.push_back(std::move(a));
    }
    // A fleet's series, most severe first: leaks by how soon they add
    // their level again, however slow.
    std::vector<Analysis> series_analyses;
    for (const fs::path& file : in.prometheus) {
      for (const series::Series& s : series::ReadPrometheusQueryRange(file)) {
        verdict::Verdict v = verdict::AnalyzeSeries(s, {});
        v.source = s.source;
        series_analyses.push_back({s.source, std::move(v)});
      }
    }
    std::stable_sort(series_analyses.begin(), series_analyses.end(),
                     [](const Analysis& a, const Analysis& b) {
                       return verdict::MoreSevere(a.verdict, b.verdict);
                     });
    for (Analysis& a : series_analyses) analyses.push_back(std::move(a));
    if (in.folders.empty() && in.prometheus.empty()) {
      std::vector<pprof::NamedProfile> profiles = verdict::ReadProfiles(in.profiles);
      std::string label = in.csvs.empty() ? "" : in.csvs[0].string();
      if (!profiles.empty()) {
        label += (label.empty() ? "" : " + ") + std::to_string(profiles.size()) + " profiles";
      }
      std::optional<fs::path> csv = in.csvs.empty() ? std::nullopt : std::optional(in.csvs[0]);
      if (out_dir) {
        // Bad input is found before anything is written.
        if (csv) series::ReadSeriesCsv(*csv);
        try {
          harness::PrepareAnalysisFolder(*out_dir, csv, profiles, label);
        } catch (const harness::UsageError& e) {
          return Usage(std::string("analyze: ") + e.what());
        }
      }
      verdict::AnalyzeOptions options;
      options.heap_as_of_collection = verdict::HeapAsOfCollection(profiles);
      // Without a CSV, the heap series is the profiles' sampled totals.
      if (in.csvs.empty()) options.heap_sampling_bytes = verdict::HeapSamplingBytes(profiles);
      verdict::Verdict v =
          in.csvs.empty()
              ? verdict::AnalyzeSeries(verdict::SeriesFromProfiles(profiles, label), options)
              : verdict::AnalyzeSeriesFile(in.csvs[0], options);
      v.source = label;
      if (!profiles.empty()) verdict::AddProfileEvidence(v, verdict::AnalyzeProfiles(profiles));
      if (vm.count("diff") && !harness::WriteHeapDiffProfile(v, vm["diff"].as<std::string>())) {
        return Usage("analyze: --diff needs two or more heap profiles");
      }
      if (out_dir) {
        harness::WriteHeapDiffProfile(v, *out_dir / "heap-diff.pb.gz");
        std::vector<std::string> command_line = {"leaklab", "analyze"};
        command_line.insert(command_line.end(), args.begin(), args.end());
        harness::FinishAnalysisFolder(*out_dir, v, paths, command_line);
        std::fprintf(notes, "results: %s\n", out_dir->c_str());
        report(*out_dir);
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
      std::fprintf(stderr, "leaklab: %s: expected %s, got %s\n", a.label.c_str(),
                   verdict::KindName(*expect), verdict::KindName(a.verdict.kind));
      status = kExitUnexpectedVerdict;
    }
  }
  return status;
}

int CmdWatch(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab watch [--pid PID] [--pprof URL]... [--metrics URL [--metric "
      "COLUMN=METRIC]...] [options]\n"
      "  Samples a live process leaklab did not start, into a results folder, then analyzes it.\n"
      "  --pid reads /proc/PID (RSS, anonymous, LazyFree). --pprof fetches a heap and/or a "
      "goroutine\n"
      "  profile at every sample (e.g. a Go service's http://127.0.0.1:6060/debug/pprof/heap and\n"
      "  .../debug/pprof/goroutine). Go's heap profile reports the heap as of the last garbage\n"
      "  collection, so between collections it repeats itself and the series is a staircase;\n"
      "  leaklab reads it as such. Where a forced collection per sample is acceptable, ask Go for\n"
      "  the live heap instead: .../debug/pprof/heap?gc=1.\n"
      "  --metrics scrapes a Prometheus text endpoint (a service's /metrics) and takes, for the\n"
      "  columns nothing else fills: rss_bytes from process_resident_memory_bytes,\n"
      "  heap_inuse_bytes from go_memstats_heap_inuse_bytes, heap_free_bytes from Go's heap idle\n"
      "  minus released, workers from go_goroutines, requests_total from http_requests_total\n"
      "  (summed over its labels), collections_total and heap_committed_bytes from Go's and the\n"
      "  JVM exporters' names, and leaklab_<column>; --metric maps others (a selector, or A - B),\n"
      "  e.g. --metric requests_total='http_server_requests_seconds_count{uri=\"/api\"}'.\n"
      "  A request counter lets the verdict say how much is kept per request.");
  std::string every = "1s", duration = "60s", out;
  desc.add_options()("help,h", "show this help")("pid", po::value<int>(), "process to sample")(
      "pprof", po::value<std::vector<std::string>>(),
      "heap or goroutine profile URL to fetch (repeatable)")(
      "metrics", po::value<std::string>(),
      "Prometheus text endpoint to scrape (a service's /metrics)")(
      "metric", po::value<std::vector<std::string>>(),
      "COLUMN=METRIC{label=\"value\",...}: the column takes the sum of the samples matched "
      "(repeatable)")("every", po::value(&every)->default_value(every), "sampling interval")(
      "for", po::value(&duration)->default_value(duration),
      "how long to watch (Ctrl-C stops early)")(
      "out", po::value(&out), "results folder (default: results/watch-<target>-<time>)")(
      "json", "print verdict.json instead of a summary")("expect", po::value<std::string>(),
                                                         "exit 3 unless the verdict is this one");
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
  if (vm.count("pprof")) options.pprof_urls = vm["pprof"].as<std::vector<std::string>>();
  if (vm.count("metrics")) options.metrics_url = vm["metrics"].as<std::string>();
  if (vm.count("metric")) options.metrics = vm["metric"].as<std::vector<std::string>>();
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
  // Like every results folder, a watch's gets its report; failing to draw it
  // loses nothing recorded.
  try {
    report::WriteReport(outcome.out_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "leaklab: watch: no report written: %s\n", e.what());
  }
  if (vm.count("json")) {
    std::fputs(verdict::VerdictToJson(outcome.verdict).c_str(), stdout);
  } else {
    std::printf("results: %s (%zu samples, %zu profiles; %s)\n", outcome.out_dir.c_str(),
                outcome.samples, outcome.profiles,
                std::string(EndReasonName(outcome.end_reason)).c_str());
    std::fputs(verdict::VerdictSummary(outcome.verdict).c_str(), stdout);
  }
  if (expect && *expect != outcome.verdict.kind) {
    std::fprintf(stderr, "leaklab: expected %s, got %s\n", verdict::KindName(*expect),
                 verdict::KindName(outcome.verdict.kind));
    return kExitUnexpectedVerdict;
  }
  return kExitOk;
}

int CmdReport(const std::vector<std::string>& args) {
  po::options_description desc(
      "usage: leaklab report DIR...\n"
      "  Writes DIR/report.html: one self-contained page (no network, no script) with memory over\n"
      "  time, the fitted trend, the verdict and its causes, from the results folder's files "
      "alone\n"
      "  (series.csv; events.csv, verdict.json, manifest.json when present). 'leaklab run' and\n"
      "  'leaklab analyze DIR' write it too");
  desc.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("dir", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("dir", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Usage(std::string("report: ") + e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  if (!vm.count("dir")) return Usage("report: give a results folder");
  int status = kExitOk;
  for (const std::string& dir : vm["dir"].as<std::vector<std::string>>()) {
    try {
      std::printf("report: %s\n", report::WriteReport(dir).c_str());
    } catch (const report::ReportError& e) {
      status = Usage(std::string("report: ") + e.what());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "leaklab: report: %s\n", e.what());
      if (status == kExitOk) status = kExitFailed;
    }
  }
  return status;
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
    if (command == "report") return CmdReport(args);
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
