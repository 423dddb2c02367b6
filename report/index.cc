// The index page of a workshop run: every scenario variant, the verdict it
// should reach and the one it reached, each linked to its report.

#include "common/function_name.h"
#include "common/input_limits.h"
#include "common/read_file.h"
#include "report/html.h"
#include "report/report.h"
#include "report/run_data.h"
#include "report/svg_chart.h"

namespace leaklab::report {

namespace fs = std::filesystem;

std::string RunStatusText(RunStatus status, const std::string& detail) {
  switch (status) {
    case RunStatus::kPending:
      return "pending";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kDone:
      return "done";
    case RunStatus::kFailed:
      return "failed: " + detail;
    case RunStatus::kNotRun:
      return "not run (" + detail + ")";
  }
  return "unknown";
}

namespace {

// The curve in each row: small, but wide enough to tell growth from a plateau.
constexpr int kSparkWidth = 180, kSparkHeight = 44;

std::optional<VerdictView> ReadVerdict(const fs::path& run_dir, std::string& problem) {
  const fs::path path = run_dir / "verdict.json";
  try {
    return ParseVerdictJson(ReadWholeFile(path, limits::kResultsJsonBytes, "a verdict"),
                            path.string());
  } catch (const ReadFileError& e) {
    if (e.reason() != ReadFileError::Reason::kMissing) problem = e.what();
    return std::nullopt;
  } catch (const ReportError& e) {
    problem = e.what();
    return std::nullopt;
  }
}

std::string FirstSentence(const std::string& text) {
  const size_t end = text.find(". ");
  return end == std::string::npos ? text : text.substr(0, end + 1);
}

std::string Cause(const VerdictView& v) {
  std::string out;
  if (v.verdict == "leak" || v.verdict == "inconclusive") {
    if (!v.sites.empty()) {
      const SiteView& s = v.sites.front();
      std::string site = ShortFunctionName(s.site.empty() ? s.stack.front() : s.site);
      // The keeper is more telling than the allocator: the first caller
      // outside the libraries, when the stack has one.
      for (size_t i = 1; i < s.stack.size(); ++i) {
        if (!IsLibraryFrame(s.stack[i])) {
          site += " ← " + ShortFunctionName(s.stack[i]);
          break;
        }
      }
      out += "<code>" + Escape(site) + "</code>";
      if (s.share) out += " (" + Escape(FormatNumber(100 * *s.share, 3)) + " %)";
    }
    if (!v.groups.empty()) {
      const WorkerGroupView& g = v.groups.front();
      out += std::string(out.empty() ? "" : "<br>") + "workers waiting in <code>" +
             Escape(ShortFunctionName(g.wait_point.empty() && !g.stack.empty() ? g.stack.front()
                                                                               : g.wait_point)) +
             "</code>";
    }
    if (!out.empty()) out += "<br>";
  }
  return out + "<span class=\"note\">" + Escape(FirstSentence(v.explanation)) + "</span>";
}

std::string Sparkline(const fs::path& run_dir) {
  std::error_code ec;
  if (!fs::exists(run_dir / "series.csv", ec)) return "";
  try {
    const series::Series s = series::ReadSeriesCsv(run_dir / "series.csv");
    for (const char* column : {"heap_inuse_bytes", "rss_bytes", "workers"}) {
      const std::vector<double>* v = s.Find(column);
      if (v == nullptr) continue;
      const char* css = std::string_view(column) == "heap_inuse_bytes" ? "c-heap" : "c-rss";
      return RenderSparkline(s.t_s, *v, css, kSparkWidth, kSparkHeight);
    }
  } catch (const std::exception&) {
    // The report names the problem; the index only lacks a curve.
  }
  return "";
}

}  // namespace

std::string ActualVerdict(const fs::path& run_dir) {
  std::string problem;
  std::optional<VerdictView> v = ReadVerdict(run_dir, problem);
  return v ? v->verdict : "";
}

std::string RenderIndex(const fs::path& parent, const std::string& title,
                        const std::vector<IndexEntry>& entries) {
  size_t done = 0, as_expected = 0, unfinished = 0;
  std::string rows;
  for (size_t i = 0; i < entries.size(); ++i) {
    const IndexEntry& e = entries[i];
    const fs::path run_dir = parent / e.folder;
    std::string problem;
    std::optional<VerdictView> v =
        e.status == RunStatus::kDone ? ReadVerdict(run_dir, problem) : std::nullopt;
    std::error_code ec;
    const bool has_report = e.status == RunStatus::kDone && fs::exists(run_dir / kReportFile, ec);
    if (e.status == RunStatus::kPending || e.status == RunStatus::kRunning) ++unfinished;
    const std::string actual = v ? v->verdict : "";
    const bool match = !actual.empty() && actual == e.expected;
    if (!actual.empty()) ++done;
    if (match) ++as_expected;

    std::string name = Escape(e.scenario) + " / " + Escape(e.variant);
    if (has_report) {
      name = "<a href=\"" + Escape(e.folder + "/" + kReportFile) + "\">" + name + "</a>";
    }
    rows += "<tr class=\"run\" data-scenario=\"" + Escape(e.scenario) + "\" data-variant=\"" +
            Escape(e.variant) + "\" data-expected=\"" + Escape(e.expected) + "\" data-actual=\"" +
            Escape(actual) + "\"><td class=\"num\">" + std::to_string(i + 1) + "</td><td><strong>" +
            name + "</strong><div class=\"note\">" + Escape(e.description) + "</div></td><td>" +
            (e.status == RunStatus::kDone ? Sparkline(run_dir) : "") + "</td><td>" +
            Escape(e.expected.empty() ? "-" : e.expected) + "</td>";
    if (!actual.empty()) {
      rows += "<td class=\"" + std::string(match ? "ok" : "bad") + "\">" + Escape(actual) +
              (match ? " ✓" : " ✗") + "</td><td>" + Cause(*v) + "</td>";
    } else {
      std::string status = e.status == RunStatus::kDone
                               ? "no verdict" + (problem.empty() ? "" : ": " + problem)
                               : RunStatusText(e.status, e.status_detail);
      rows += "<td class=\"" +
              std::string(e.status == RunStatus::kFailed || e.status == RunStatus::kDone ? "bad"
                                                                                         : "note") +
              "\">" + Escape(status) + "</td><td></td>";
    }
    rows += "</tr>\n";
  }

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" +
      std::string(kGeneratorMark) +
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; img-src data:\">";
  // While runs are still going, the page reloads itself to show them land.
  if (unfinished > 0) html += "<meta http-equiv=\"refresh\" content=\"5\">";
  html += "<title>" + Escape(title) + "</title><style>" + kStyleSheet +
          "svg.spark { display: block; background: #fafafa; border: 1px solid #ccc; "
          "}</style></head><body>\n";
  html += "<h1>" + Escape(title) + "</h1>\n<p class=\"source\"><code>" + Escape(parent.string()) +
          "</code></p>\n";
  html += "<p id=\"summary\" class=\"" +
          std::string(done == entries.size() && as_expected == done ? "ok" : "bad") + "\">" +
          std::to_string(as_expected) + " of " + std::to_string(entries.size()) +
          " verdicts as expected" +
          (unfinished > 0
               ? " (" + std::to_string(unfinished) + " still to run; this page refreshes itself)"
               : "") +
          ".</p>\n";
  html +=
      "<p>Each row is one scenario variant, in learning order (scenarios/README.md). Open its "
      "report to "
      "see memory over time with the fitted trend, the verdict and what causes the growth. The "
      "curve "
      "below is the heap in use (else RSS) over the run.</p>\n";
  html +=
      "<table class=\"index\"><tr><th>#</th><th>scenario / "
      "variant</th><th>curve</th><th>expected</th>"
      "<th>actual</th><th>cause</th></tr>\n" +
      rows + "</table>\n";
  html +=
      "<p class=\"note\">Made by <code>leaklab run --all</code>; nothing on this page comes from "
      "the "
      "network.</p>\n</body></html>\n";
  return html;
}

}  // namespace leaklab::report
