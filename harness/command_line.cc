#include "harness/command_line.h"

#include <boost/program_options.hpp>
#include <charconv>
#include <ostream>

#include "common/bytes.h"
#include "common/duration.h"
#include "common/errors.h"
#include "harness/catalog_client.h"

namespace leaklab::harness {

namespace po = boost::program_options;
namespace fs = std::filesystem;

const char* const kUsage =
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

namespace {

// Parses `args` against `desc`, the positional arguments going to
// `positional` (at most `max_positional` of them; -1: any number). Prints
// `desc` and returns false for --help.
bool ParseFlags(const std::vector<std::string>& args, const po::options_description& desc,
                const char* positional, int max_positional, po::variables_map& vm,
                std::ostream& help) {
  po::options_description hidden, all;
  po::positional_options_description pos;
  if (positional != nullptr) {
    hidden.add_options()(positional, po::value<std::vector<std::string>>());
    pos.add(positional, max_positional);
  }
  all.add(desc).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    help << desc << "\n";
    return false;
  }
  return true;
}

std::optional<verdict::Kind> ExpectFlag(const po::variables_map& vm) {
  if (!vm.count("expect")) return std::nullopt;
  const std::string name = vm["expect"].as<std::string>();
  const std::optional<verdict::Kind> kind = verdict::ParseKind(name);
  if (!kind) {
    throw UsageError("--expect " + name +
                     ": not a verdict (leak, no-leak, lazy-release, inconclusive)");
  }
  return kind;
}

std::chrono::milliseconds DurationFlag(const char* flag, const std::string& text) {
  try {
    return ParseDuration(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string(flag) + ": " + e.what());
  }
}

// A flag whose value a parser of ours reads, its errors named by the flag.
template <typename Parse>
auto ParsedFlag(const po::variables_map& vm, const char* name, Parse parse) {
  try {
    return parse(vm[name].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--") + name + ": " + e.what());
  }
}

// A seed is a whole number from 0 to 2^64 - 1, in decimal; "-1" is refused
// rather than wrapped around (as stream extraction into an unsigned would).
uint64_t ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw std::invalid_argument("'" + text + "' is not a whole number from 0 to 2^64-1");
  return seed;
}

// --pressure SIZE[@TIME].
RunOptions::Pressure ParsePressure(const std::string& text) {
  RunOptions::Pressure p;
  const size_t at = text.find('@');
  p.bytes = ParseBytes(std::string_view(text).substr(0, at));
  if (at != std::string::npos) p.at = ParseDuration(std::string_view(text).substr(at + 1));
  return p;
}

std::vector<std::string> CommandLine(const char* command, const std::vector<std::string>& args) {
  std::vector<std::string> line = {"leaklab", command};
  line.insert(line.end(), args.begin(), args.end());
  return line;
}

po::options_description RunFlags(std::string& duration, std::string& interval,
                                 std::string& startup_timeout, std::string& profile_every) {
  po::options_description desc(
      "usage: leaklab run SCENARIO [options]\n"
      "       leaklab run --all [options]    every scenario and variant, into one folder with "
      "index.html");
  desc.add_options()("help,h", "show this help")(
      "variant", po::value<std::string>(),
      "variant to run (default: leaky, or the scenario's only variant)")(
      "duration", po::value(&duration), "how long to drive the load (default: the scenario's own)")(
      "interval", po::value(&interval)->default_value(interval), "sampling interval")(
      "profile-every", po::value(&profile_every)->default_value(profile_every),
      "fetch heap and worker profiles this often into profiles/ (e.g. 2s); 0 = never")(
      "connections", po::value<int>(), "load connections (default: the scenario's own)")(
      "rate", po::value<double>(),
      "one steady phase at this total rate (req/s) instead of the scenario's phases; 0 = as fast "
      "as possible")(
      "schedule", po::value<std::string>(),
      "the load's phases and events in the load generator's schedule language, instead of the "
      "scenario's (see 'leaklab list' and loadgen/README.md)")(
      "keys", po::value<std::string>(), "keys for {key}: unique, uniform:K or zipf:K[:S]")(
      "seed", po::value<std::string>()->default_value("1"),
      "seed for the load's key choice, recorded in the manifest")(
      "out", po::value<std::string>(),
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
      "pressure", po::value<std::string>(),
      "SIZE[@TIME]: from TIME (default: half the run) a second process in the --mem-limit "
      "cgroup allocates and holds SIZE, so the kernel must reclaim memory from the server")(
      "scenario-binary", po::value<std::string>(),
      "leaklab-scenario to run (default: beside leaklab)");
  return desc;
}

// --all runs the catalog: flags that pick one scenario's load do not go with it.
void CheckRunAll(const po::variables_map& vm) {
  if (vm.count("scenario")) {
    throw UsageError("--all runs every scenario; give no scenario name (got '" +
                     vm["scenario"].as<std::vector<std::string>>()[0] + "')");
  }
  for (const char* flag :
       {"variant", "connections", "rate", "schedule", "keys", "mem-limit", "pressure"}) {
    if (vm.count(flag))
      throw UsageError(std::string("--") + flag + " is per scenario; it cannot go with --all");
  }
  if (vm.count("expect") && vm["expect"].as<std::string>() != "catalog") {
    throw UsageError(
        "with --all, --expect takes 'catalog' (each variant's expected verdict), not '" +
        vm["expect"].as<std::string>() + "'");
  }
}

}  // namespace

std::optional<RunCommand> ParseRunCommand(const std::vector<std::string>& args,
                                          std::ostream& help) {
  std::string duration, interval = "100ms", startup_timeout = "10s", profile_every = "2s";
  const po::options_description desc = RunFlags(duration, interval, startup_timeout, profile_every);
  po::variables_map vm;
  if (!ParseFlags(args, desc, "scenario", 1, vm, help)) return std::nullopt;
  RunCommand cmd;
  cmd.all = vm.count("all") > 0;
  if (cmd.all) {
    CheckRunAll(vm);
    cmd.expect_catalog = vm.count("expect") > 0;
  } else if (!vm.count("scenario")) {
    throw UsageError("which scenario? (see 'leaklab list'; --all runs every one)");
  } else {
    cmd.scenario = vm["scenario"].as<std::vector<std::string>>()[0];
    cmd.expect = ExpectFlag(vm);
  }
  RunOptions& o = cmd.options;
  if (vm.count("variant")) o.variant = vm["variant"].as<std::string>();
  if (vm.count("out")) o.out_dir = vm["out"].as<std::string>();
  o.seed = ParsedFlag(vm, "seed", ParseSeed);
  o.write_report = vm.count("no-report") == 0;
  o.scenario_binary = vm.count("scenario-binary")
                          ? fs::path(vm["scenario-binary"].as<std::string>())
                          : DefaultScenarioBinary();
  o.command_line = CommandLine("run", args);
  if (!duration.empty()) o.duration = DurationFlag("--duration", duration);
  o.sample_interval = DurationFlag("--interval", interval);
  o.startup_timeout = DurationFlag("--startup-timeout", startup_timeout);
  o.profile_every = DurationFlag("--profile-every", profile_every);
  if (vm.count("mem-limit")) o.mem_limit_bytes = ParsedFlag(vm, "mem-limit", ParseBytes);
  if (vm.count("pressure")) o.pressure = ParsedFlag(vm, "pressure", ParsePressure);
  if (vm.count("connections")) o.connections = vm["connections"].as<int>();
  if (vm.count("rate")) o.rate_per_s = vm["rate"].as<double>();
  if (vm.count("schedule")) o.schedule = ParsedFlag(vm, "schedule", loadgen::ParseSchedule);
  if (vm.count("keys")) o.keys = ParsedFlag(vm, "keys", loadgen::ParseKeySpec);
  return cmd;
}

std::optional<AnalyzeCommand> ParseAnalyzeCommand(const std::vector<std::string>& args,
                                                  std::ostream& help) {
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
      "profiles' totals), profiles/, heap-diff.pb.gz, manifest.json, verdict.json and "
      "report.html; 'leaklab analyze DIR' reads it again")(
      "no-report",
      "do not write report.html (a results folder still gets verdict.json and its heap diff)");
  po::variables_map vm;
  if (!ParseFlags(args, desc, "path", -1, vm, help)) return std::nullopt;
  AnalyzeCommand cmd;
  cmd.expect = ExpectFlag(vm);
  cmd.json = vm.count("json") > 0;
  AnalyzeRequest& r = cmd.request;
  if (vm.count("path")) r.paths = vm["path"].as<std::vector<std::string>>();
  if (vm.count("out")) r.out_dir = vm["out"].as<std::string>();
  if (vm.count("diff")) r.diff = vm["diff"].as<std::string>();
  r.write_report = vm.count("no-report") == 0;
  r.command_line = CommandLine("analyze", args);
  return cmd;
}

std::optional<WatchCommand> ParseWatchCommand(const std::vector<std::string>& args,
                                              std::ostream& help) {
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
  std::string every = "1s", duration = "60s";
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
      "out", po::value<std::string>(), "results folder (default: results/watch-<target>-<time>)")(
      "json", "print verdict.json instead of a summary")("expect", po::value<std::string>(),
                                                         "exit 3 unless the verdict is this one");
  po::variables_map vm;
  if (!ParseFlags(args, desc, nullptr, 0, vm, help)) return std::nullopt;
  WatchCommand cmd;
  cmd.expect = ExpectFlag(vm);
  cmd.json = vm.count("json") > 0;
  WatchOptions& o = cmd.options;
  if (vm.count("pid")) o.pid = vm["pid"].as<int>();
  if (vm.count("pprof")) o.pprof_urls = vm["pprof"].as<std::vector<std::string>>();
  if (vm.count("metrics")) o.metrics_url = vm["metrics"].as<std::string>();
  if (vm.count("metric")) o.metrics = vm["metric"].as<std::vector<std::string>>();
  if (vm.count("out")) o.out_dir = vm["out"].as<std::string>();
  o.every = DurationFlag("--every", every);
  o.duration = DurationFlag("--for", duration);
  o.command_line = CommandLine("watch", args);
  return cmd;
}

std::optional<std::vector<std::string>> ParseReportCommand(const std::vector<std::string>& args,
                                                           std::ostream& help) {
  po::options_description desc(
      "usage: leaklab report DIR...\n"
      "  Writes DIR/report.html: one self-contained page (no network, no script) with memory over\n"
      "  time, the fitted trend, the verdict and its causes, from the results folder's files "
      "alone\n"
      "  (series.csv; events.csv, verdict.json, manifest.json when present). 'leaklab run' and\n"
      "  'leaklab analyze DIR' write it too");
  desc.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!ParseFlags(args, desc, "dir", -1, vm, help)) return std::nullopt;
  if (!vm.count("dir")) throw UsageError("give a results folder");
  return vm["dir"].as<std::vector<std::string>>();
}

}  // namespace leaklab::harness
