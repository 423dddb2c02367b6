#include "harness/workshop.h"

#include <boost/json.hpp>
#include <chrono>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "harness/results_folder.h"
#include "report/report.h"

namespace leaklab::harness {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int kIndexSchemaVersion = 1;
constexpr const char* kTitle = "leaklab workshop: every scenario and variant";

void WriteIndex(const fs::path& dir, const std::vector<WorkshopRun>& runs) {
  std::vector<report::IndexEntry> entries;
  json::array rows;
  size_t as_expected = 0;
  for (const WorkshopRun& r : runs) {
    entries.push_back(
        {r.scenario, r.variant, r.description, r.expected, r.folder, r.status, r.status_detail});
    const bool match = !r.actual.empty() && r.actual == r.expected;
    as_expected += match;
    rows.push_back(
        json::object{{"scenario", r.scenario},
                     {"variant", r.variant},
                     {"expected", r.expected},
                     {"actual", r.actual.empty() ? json::value(nullptr) : json::value(r.actual)},
                     {"as_expected", match},
                     {"status", report::RunStatusText(r.status, r.status_detail)},
                     {"folder", r.folder},
                     {"report", r.status == report::RunStatus::kDone
                                    ? json::value(r.folder + "/" + report::kReportFile)
                                    : json::value(nullptr)},
                     {"seconds", r.seconds}});
  }
  WriteFileAtomically(dir / report::kIndexFile, report::RenderIndex(dir, kTitle, entries));
  WriteFileAtomically(dir / "index.json",
                      json::serialize(json::object{{"schema_version", kIndexSchemaVersion},
                                                   {"runs", std::move(rows)},
                                                   {"total", runs.size()},
                                                   {"as_expected", as_expected}}) +
                          "\n");
}

}  // namespace

WorkshopOutcome RunWorkshop(const std::vector<ScenarioEntry>& catalog,
                            const WorkshopOptions& options) {
  WorkshopOutcome out;
  // The index is the claim: a workshop folder holds only its runs and index.
  out.out_dir = ClaimFolder(options.out_dir, "workshop", "index.json");
  out.index = out.out_dir / report::kIndexFile;
  for (const ScenarioEntry& s : catalog) {
    for (const ScenarioEntry::Variant& v : s.variants) {
      out.runs.push_back({s.name, v.name, v.description, v.expected_verdict, "",
                          s.name + "-" + v.name, report::RunStatus::kPending, "", 0});
    }
  }
  WriteIndex(out.out_dir, out.runs);

  size_t i = 0;
  for (const ScenarioEntry& s : catalog) {
    for (size_t k = 0; k < s.variants.size(); ++k, ++i) {
      WorkshopRun& run = out.runs[i];
      if (options.run.interrupted != nullptr && options.run.interrupted->load()) {
        out.interrupted = true;
        run.status = report::RunStatus::kNotRun;
        run.status_detail = "interrupted";
        continue;
      }
      run.status = report::RunStatus::kRunning;
      WriteIndex(out.out_dir, out.runs);
      if (options.on_progress) options.on_progress(run, i, out.runs.size());
      RunOptions ro = options.run;
      ro.variant = run.variant;
      ro.out_dir = out.out_dir / run.folder;
      ro.command_line.push_back("(" + s.name + " --variant " + run.variant + ")");
      const auto start = std::chrono::steady_clock::now();
      try {
        RunOutcome r = RunExperiment(s, ro);
        run.actual = verdict::KindName(r.verdict.kind);
        run.status = report::RunStatus::kDone;
        if (r.end_reason == EndReason::kInterrupted) out.interrupted = true;
      } catch (const UsageError&) {
        // The same options would fail every run: stop, leaving the index as it is.
        run.status = report::RunStatus::kFailed;
        run.status_detail = "bad options";
        WriteIndex(out.out_dir, out.runs);
        throw;
      } catch (const std::exception& e) {
        run.status = report::RunStatus::kFailed;
        run.status_detail = e.what();
        ++out.failed;
      }
      run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!run.actual.empty() && run.actual != run.expected) ++out.unexpected;
      WriteIndex(out.out_dir, out.runs);
      if (options.on_progress) options.on_progress(run, i, out.runs.size());
    }
  }
  WriteIndex(out.out_dir, out.runs);
  return out;
}

}  // namespace leaklab::harness
