// leaklab: the lab's command-line front end (shared/DESIGN.md, "CLI").
//
//   leaklab list
//   leaklab run SCENARIO [--variant V] [--duration 10s] [--out DIR] [--expect VERDICT] ...
//   leaklab run --all [--out DIR] [--duration 10s] ...
//   leaklab analyze PATH... [--json] [--expect VERDICT] [--diff FILE] [--out DIR]
//   leaklab watch [--pid PID] [--pprof URL]... [--metrics URL] [--every 1s] [--for 60s] [--out DIR]
//   leaklab report DIR...
//
// Each command parses its flags (harness/command_line.h), calls one library
// function and prints what it returns. Exit status: 0 when the command did
// its job, whatever the verdict; 3 when --expect was given and a verdict
// differs; otherwise the error's own (common/errors.h): 2 for bad usage or
// input, 1 when an experiment could not be carried out or a file written.
// Text that may come from input (labels, names, messages) is printed through
// Printable, so that control bytes in a file never reach the terminal raw.

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/printable.h"
#include "harness/analyze.h"
#include "harness/catalog_client.h"
#include "harness/command_line.h"
#include "harness/experiment.h"
#include "harness/watch.h"
#include "harness/workshop.h"
#include "report/report.h"

namespace fs = std::filesystem;
using namespace leaklab;

namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

// Ctrl-C ends a run or a watch early, keeping what was recorded.
const std::atomic<bool>* CatchInterrupts() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  return &g_interrupted;
}

// Exit 3, saying so, when --expect was given and `v` differs.
int CheckExpected(const std::optional<verdict::Kind>& expect, const verdict::Verdict& v,
                  const std::string& label = "") {
  if (!expect || *expect == v.kind) return kExitOk;
  std::fprintf(stderr, "leaklab: %sexpected %s, got %s\n",
               label.empty() ? "" : Printable(label + ": ").c_str(), verdict::KindName(*expect),
               verdict::KindName(v.kind));
  return kExitUnexpectedVerdict;
}

// A run or watch that leaklab itself cut short (its disk filled) finished
// its folder with what it had recorded, and printed its verdict; it still
// failed: exit 1, saying why.
int FailedEnd(const char* command, const std::string& detail) {
  std::fprintf(stderr, "leaklab: %s: ended early: %s; the folder keeps what was recorded\n",
               command, Printable(detail).c_str());
  return kExitFailed;
}

int CmdList(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: leaklab list\n  Lists scenarios and their variants.\n";
    return kExitOk;
  }
  if (!args.empty()) throw UsageError("list takes no arguments (got '" + args[0] + "')");
  for (const auto& s : harness::LoadCatalog(harness::DefaultScenarioBinary())) {
    std::printf("%-24s %s\n", s.name.c_str(), s.description.c_str());
    for (const auto& v : s.variants)
      std::printf("    %-20s %s\n", v.name.c_str(), v.description.c_str());
    std::printf("    %-20s %s\n", "(load)", s.schedule.ToString().c_str());
  }
  return kExitOk;
}

// `run --all`: exit 0 when every run was carried out, 1 when one could not
// be, 3 when --expect catalog was given and a verdict differs.
int RunAll(const std::vector<harness::ScenarioEntry>& catalog, const harness::RunCommand& cmd) {
  harness::WorkshopOptions w;
  w.run = cmd.options;
  w.out_dir = cmd.options.out_dir;
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
  const harness::WorkshopOutcome outcome = harness::RunWorkshop(catalog, w);
  size_t as_expected = 0;
  for (const auto& r : outcome.runs) as_expected += !r.actual.empty() && r.actual == r.expected;
  std::printf("%zu of %zu verdicts as expected%s\nindex: %s\n", as_expected, outcome.runs.size(),
              outcome.interrupted ? " (interrupted)" : "", outcome.index.c_str());
  if (outcome.failed > 0) {
    std::fprintf(stderr, "leaklab: %zu run(s) could not be carried out; see the index\n",
                 outcome.failed);
    return kExitFailed;
  }
  if (cmd.expect_catalog && outcome.unexpected > 0) {
    std::fprintf(stderr, "leaklab: %zu verdict(s) differ from the catalog's\n", outcome.unexpected);
    return kExitUnexpectedVerdict;
  }
  return kExitOk;
}

int CmdRun(const std::vector<std::string>& args) {
  std::optional<harness::RunCommand> cmd = harness::ParseRunCommand(args, std::cout);
  if (!cmd) return kExitOk;  // --help
  cmd->options.progress = ::isatty(STDERR_FILENO) != 0;
  cmd->options.on_warning = [](const std::string& line) {
    std::fprintf(stderr, "leaklab: warning: %s\n", Printable(line).c_str());
  };
  const std::vector<harness::ScenarioEntry> catalog =
      harness::LoadCatalog(cmd->options.scenario_binary);
  const harness::ScenarioEntry* scenario = nullptr;
  if (!cmd->all) {
    for (const auto& s : catalog) {
      if (s.name == cmd->scenario) scenario = &s;
    }
    if (scenario == nullptr) {
      std::string names;
      for (const auto& s : catalog) names += " " + s.name;
      throw UsageError("unknown scenario '" + cmd->scenario + "'; scenarios:" + names);
    }
  }
  cmd->options.interrupted = CatchInterrupts();
  if (cmd->all) return RunAll(catalog, *cmd);

  const harness::RunOutcome outcome = harness::RunExperiment(*scenario, cmd->options);
  const std::string& variant =
      cmd->options.variant.empty() ? scenario->variants.front().name : cmd->options.variant;
  std::printf("%s/%s: %zu samples, %s (%s)\nresults: %s\n", scenario->name.c_str(), variant.c_str(),
              outcome.samples, std::string(EndReasonName(outcome.end_reason)).c_str(),
              outcome.end_detail.c_str(), outcome.out_dir.c_str());
  std::fputs(Printable(verdict::VerdictSummary(outcome.verdict)).c_str(), stdout);
  // A report that fails costs the report only, never the run's data or the
  // command's exit status.
  if (!outcome.report.empty()) std::printf("report: %s\n", outcome.report.c_str());
  if (!outcome.report_error.empty())
    std::fprintf(stderr, "leaklab: no report written: %s\n",
                 Printable(outcome.report_error).c_str());
  if (outcome.end_reason == EndReason::kHarnessError) return FailedEnd("run", outcome.end_detail);
  return CheckExpected(cmd->expect, outcome.verdict);
}

int CmdAnalyze(const std::vector<std::string>& args) {
  std::optional<harness::AnalyzeCommand> cmd = harness::ParseAnalyzeCommand(args, std::cout);
  if (!cmd) return kExitOk;  // --help
  // With --json, stdout holds JSON only: the lines about files go to stderr.
  FILE* notes = cmd->json ? stderr : stdout;
  cmd->request.on_note = [notes](const std::string& line) {
    std::fprintf(notes, "%s\n", Printable(line).c_str());
  };
  cmd->request.on_warning = [](const std::string& line) {
    std::fprintf(stderr, "leaklab: %s\n", Printable(line).c_str());
  };
  int status = kExitOk;
  for (const harness::Analysis& a : harness::Analyze(cmd->request)) {
    if (cmd->json) {
      std::fputs(verdict::VerdictToJson(a.verdict).c_str(), stdout);
    } else {
      std::printf("%s\n", Printable(a.label).c_str());
      std::fputs(Printable(verdict::VerdictSummary(a.verdict)).c_str(), stdout);
    }
    if (CheckExpected(cmd->expect, a.verdict, a.label) != kExitOk) status = kExitUnexpectedVerdict;
  }
  return status;
}

int CmdWatch(const std::vector<std::string>& args) {
  std::optional<harness::WatchCommand> cmd = harness::ParseWatchCommand(args, std::cout);
  if (!cmd) return kExitOk;  // --help
  cmd->options.interrupted = CatchInterrupts();
  cmd->options.progress = ::isatty(STDERR_FILENO) != 0;
  const harness::WatchOutcome outcome = harness::Watch(cmd->options);
  // Like every results folder, a watch's gets its report; failing to draw it
  // loses nothing recorded.
  if (!outcome.report_error.empty()) {
    std::fprintf(stderr, "leaklab: watch: no report written: %s\n",
                 Printable(outcome.report_error).c_str());
  }
  if (cmd->json) {
    std::fputs(verdict::VerdictToJson(outcome.verdict).c_str(), stdout);
  } else {
    std::printf("results: %s (%zu samples, %zu profiles; %s)\n", outcome.out_dir.c_str(),
                outcome.samples, outcome.profiles,
                std::string(EndReasonName(outcome.end_reason)).c_str());
    std::fputs(Printable(verdict::VerdictSummary(outcome.verdict)).c_str(), stdout);
  }
  if (outcome.end_reason == EndReason::kHarnessError) return FailedEnd("watch", outcome.end_detail);
  return CheckExpected(cmd->expect, outcome.verdict);
}

int CmdReport(const std::vector<std::string>& args) {
  std::optional<std::vector<std::string>> dirs = harness::ParseReportCommand(args, std::cout);
  if (!dirs) return kExitOk;  // --help
  // Each folder gets its report or its error; the status is the worst.
  int status = kExitOk;
  for (const std::string& dir : *dirs) {
    try {
      std::printf("report: %s\n", report::WriteReport(dir).c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "leaklab: report: %s\n", Printable(e.what()).c_str());
      status = std::max(status, ExitStatusFor(e));
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << harness::kUsage;
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  // The one place where an error becomes an exit status.
  try {
    if (command == "list") return CmdList(args);
    if (command == "run") return CmdRun(args);
    if (command == "analyze") return CmdAnalyze(args);
    if (command == "watch") return CmdWatch(args);
    if (command == "report") return CmdReport(args);
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << harness::kUsage;
      return kExitOk;
    }
  } catch (const std::exception& e) {
    std::cerr << "leaklab: " << Printable(command) << ": " << Printable(e.what()) << "\n";
    return ExitStatusFor(e);
  }
  std::cerr << "leaklab: unknown command '" << Printable(command) << "'\n\n" << harness::kUsage;
  return kExitUsage;
}
