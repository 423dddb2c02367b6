#include "report/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "common/atomic_file.h"
#include "common/bytes.h"
#include "common/duration.h"
#include "common/function_name.h"
#include "common/read_file.h"
#include "report/html.h"
#include "report/run_data.h"
#include "report/svg_chart.h"

namespace leaklab::report {

namespace fs = std::filesystem;

namespace {

// The tables show the main causes; verdict.json keeps them all.
constexpr size_t kMaxSites = 10;
constexpr size_t kMaxGroups = 10;
constexpr size_t kMaxWork = 3;
// Frames of a stack shown under a site: enough to see the keeper.
constexpr size_t kMaxStackFrames = 6;
// C++ names with template arguments run to thousands of characters; a
// tooltip shows this much of one.
constexpr size_t kMaxFrameChars = 400;

struct ColumnStyle {
  std::string_view column;
  const char* name;
  const char* css;
};

// What each chart draws, from the Series CSV columns (DESIGN.md).
const ColumnStyle kMemoryColumns[] = {{"rss_bytes", "RSS", "c-rss"},
                                      {"heap_inuse_bytes", "heap in use", "c-heap"}};
const ColumnStyle kAnonColumn = {"anon_bytes", "anonymous memory", "c-anon"};
const ColumnStyle kFreedColumns[] = {
    {"lazyfree_bytes", "LazyFree (freed with MADV_FREE, still counted in RSS)", "c-lazyfree"},
    {"heap_free_bytes", "free bytes the allocator keeps", "c-heapfree"}};
const ColumnStyle kWorkerColumns[] = {{"workers", "workers", "c-workers"}};

const char* FriendlyName(std::string_view column) {
  for (const ColumnStyle& c : kMemoryColumns) {
    if (c.column == column) return c.name;
  }
  for (const ColumnStyle& c : kFreedColumns) {
    if (c.column == column) return c.name;
  }
  if (column == kAnonColumn.column) return kAnonColumn.name;
  if (column == "workers") return "workers";
  return nullptr;
}

std::string SignalName(const std::string& signal) {
  const char* name = FriendlyName(signal);
  return name != nullptr ? name : signal;
}

bool HasValues(const series::Series& s, std::string_view column) {
  const std::vector<double>* v = s.Find(column);
  if (v == nullptr) return false;
  return std::any_of(v->begin(), v->end(), [](double x) { return std::isfinite(x); });
}

struct VerdictStyle {
  const char* headline;
  const char* meaning;
};

VerdictStyle StyleOf(const std::string& verdict) {
  static const std::map<std::string, VerdictStyle> kStyles = {
      {"leak", {"LEAK", "Memory grows and does not level off."}},
      {"no-leak", {"NO LEAK", "Memory is flat, or grew and then levelled off."}},
      {"lazy-release",
       {"LAZY RELEASE", "RSS stays high, but the program gave the memory back: not a leak."}},
      {"inconclusive", {"INCONCLUSIVE", "The data cannot decide; see what is missing."}},
  };
  auto it = kStyles.find(verdict);
  if (it != kStyles.end()) return it->second;
  return {nullptr, ""};
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The verdict's class: only known names, so that a verdict.json cannot
// inject a class (the text itself is escaped anyway).
std::string VerdictClass(const std::string& verdict) {
  return StyleOf(verdict).headline != nullptr ? "v-" + verdict : "v-inconclusive";
}

std::string Banner(const RunData& d) {
  if (!d.verdict) {
    return "<section class=\"verdict v-none\" id=\"verdict\" data-verdict=\"\"><div "
           "class=\"kind\">NOT "
           "ANALYZED</div><p>This folder has no verdict.json. <code>leaklab analyze " +
           Escape(d.dir.string()) + "</code> writes it, and this report again.</p></section>\n";
  }
  const VerdictView& v = *d.verdict;
  const VerdictStyle style = StyleOf(v.verdict);
  std::string out =
      "<section class=\"verdict " + VerdictClass(v.verdict) + "\" id=\"verdict\" data-verdict=\"" +
      Escape(v.verdict) + "\"><div class=\"kind\">" +
      Escape(style.headline != nullptr ? style.headline : Upper(v.verdict)) + "</div>";
  if (*style.meaning) out += "<p><strong>" + Escape(style.meaning) + "</strong></p>";
  if (!v.explanation.empty()) out += "<p class=\"explanation\">" + Escape(v.explanation) + "</p>";
  if (!v.missing.empty()) {
    out += "<p>What would decide it:</p><ul>";
    for (const std::string& m : v.missing) out += "<li>" + Escape(m) + "</li>";
    out += "</ul>";
  }
  return out + "</section>\n";
}

void AddLines(const series::Series& s, std::span<const ColumnStyle> columns, ChartSpec& chart) {
  for (const ColumnStyle& c : columns) {
    if (!HasValues(s, c.column)) continue;
    chart.lines.push_back({c.name, c.css, &s.t_s, s.Find(c.column)});
  }
}

// The fitted trend of each analysed signal drawn in this chart: through the
// window's middle at the intercept when verdict.json gives one, else at the
// window's median level (the Theil-Sen line passes near both).
void AddFits(const RunData& d, ChartSpec& chart) {
  if (!d.verdict) return;
  for (const SignalView& s : d.verdict->signals) {
    const ChartLine* line = nullptr;
    for (const ChartLine& l : chart.lines) {
      if (l.v == d.series.Find(s.signal)) line = &l;
    }
    if (line == nullptr) continue;
    if (s.slope && s.t_begin_s && s.t_end_s && (s.level_bytes || s.intercept_bytes)) {
      ChartFit fit;
      fit.name = "trend of " + line->name;
      fit.css = line->css;
      fit.t_begin = *s.t_begin_s;
      fit.t_end = *s.t_end_s;
      fit.t_anchor = (fit.t_begin + fit.t_end) / 2;
      fit.slope = *s.slope;
      fit.v_anchor =
          s.intercept_bytes ? *s.intercept_bytes + fit.slope * fit.t_anchor : *s.level_bytes;
      fit.slope_low = s.slope_low.value_or(NAN);
      fit.slope_high = s.slope_high.value_or(NAN);
      chart.fits.push_back(fit);
    }
    if (!s.floor_t.empty())
      chart.floors.push_back({"floor of " + line->name, line->css, s.floor_t, s.floor_v});
    if (s.level_shift_t_s) {
      chart.markers.push_back(
          {*s.level_shift_t_s, "shift",
           line->name + ": level shift at " + FormatSeconds(*s.level_shift_t_s)});
    }
  }
}

void AddEvents(const RunData& d, double t_max, ChartSpec& chart) {
  const Event* open_phase = nullptr;
  const auto close = [&](double t_end) {
    if (open_phase == nullptr) return;
    chart.spans.push_back({open_phase->t_s, t_end, "under load (" + open_phase->detail + ")"});
    open_phase = nullptr;
  };
  for (const Event& e : d.events) {
    if (e.event == "phase") {
      close(e.t_s);
      // Only the load is shaded: an idle phase is the plot's plain background.
      if (e.detail != "end" && e.detail != "idle") open_phase = &e;
    } else if (e.event == "server_exit") {
      chart.markers.push_back(
          {e.t_s, "exit", "the server exited at " + FormatSeconds(e.t_s) + ": " + e.detail});
    } else if (e.event != "server_ready" && e.event != "profile") {
      chart.markers.push_back(
          {e.t_s, e.event, e.event + " at " + FormatSeconds(e.t_s) + ": " + e.detail});
    }
  }
  close(t_max);
}

bool AllZero(const ChartSpec& c) {
  for (const ChartLine& l : c.lines) {
    for (double v : *l.v) {
      if (std::isfinite(v) && v != 0) return false;
    }
  }
  return true;
}

std::string Charts(const RunData& d) {
  const series::Series& s = d.series;
  if (s.size() == 0) return "<p class=\"note\">series.csv holds no samples: nothing to draw.</p>\n";
  const double t_min = std::min(0.0, s.t_s.front());
  // Events just after the last sample (the end of the load, the server's
  // exit, which ends the sampling) widen the axis so that they are drawn;
  // one far later would squash the series, and is left out.
  double t_max = s.t_s.back();
  const double reach = s.t_s.back() + 0.1 * (s.t_s.back() - t_min) + 1;
  for (const Event& e : d.events) {
    if (e.t_s > t_max && e.t_s <= reach) t_max = e.t_s;
  }
  std::string out;

  ChartSpec memory;
  memory.id = "chart-memory";
  memory.title = "Memory over time";
  AddLines(s, kMemoryColumns, memory);
  if (memory.lines.empty()) AddLines(s, std::span(&kAnonColumn, 1), memory);
  ChartSpec freed;
  freed.id = "chart-freed";
  freed.title = "Freed, but still held by the allocator or the kernel";
  AddLines(s, kFreedColumns, freed);
  ChartSpec workers;
  workers.id = "chart-workers";
  workers.title = "Workers over time";
  workers.bytes = false;
  AddLines(s, kWorkerColumns, workers);

  if (d.verdict && d.verdict->exhaustion && d.verdict->exhaustion->limit_bytes) {
    memory.hlines.push_back({*d.verdict->exhaustion->limit_bytes,
                             "memory limit " + FormatBytes(*d.verdict->exhaustion->limit_bytes),
                             "limit"});
  }
  bool any = false;
  for (ChartSpec* c : {&memory, &freed, &workers}) {
    if (c->lines.empty()) continue;
    // A chart of zeros says one thing; a sentence says it better.
    if (c != &memory && AllZero(*c)) {
      std::string names;
      for (const ChartLine& l : c->lines) names += (names.empty() ? "" : " and ") + l.name;
      out += "<p class=\"note\">" + Escape(names) + ": 0 throughout the run.</p>\n";
      any = true;
      continue;
    }
    c->t_min = t_min;
    c->t_max = t_max;
    AddFits(d, *c);
    AddEvents(d, t_max, *c);
    out += RenderChart(*c);
    if (c == &memory && !c->fits.empty()) {
      out +=
          "<p class=\"note\">Dashed: the trend fitted over the analysed window (Theil-Sen, after "
          "the "
          "warm-up); shaded: every line whose slope lies in the 95 % confidence interval of that "
          "trend.</p>\n";
    }
    any = true;
  }
  if (!any) {
    out +=
        "<p class=\"note\">series.csv has none of the columns drawn here (rss_bytes, "
        "heap_inuse_bytes, "
        "anon_bytes, lazyfree_bytes, heap_free_bytes, workers).</p>\n";
  }
  return out;
}

std::string SignalsTable(const VerdictView& v) {
  if (v.signals.empty()) return "";
  std::string out =
      "<table class=\"signals\"><tr><th>signal</th><th>trend</th><th>slope (95 % "
      "interval)</th><th>window</th>"
      "<th>why</th></tr>";
  for (const SignalView& s : v.signals) {
    // A worker count's slope is in workers, a memory signal's in bytes.
    auto rate = [&s](double x) {
      return s.signal == "workers" ? FormatNumber(x, 3) + " workers/s" : FormatBytesPerSecond(x);
    };
    std::string slope = s.slope ? rate(*s.slope) : "-";
    if (s.slope && (s.slope_low || s.slope_high)) {
      slope += " (" + (s.slope_low ? rate(*s.slope_low) : std::string("unbounded")) + " to " +
               (s.slope_high ? rate(*s.slope_high) : std::string("unbounded")) + ")";
    }
    std::string window = s.t_begin_s && s.t_end_s
                             ? FormatSeconds(*s.t_begin_s) + " to " + FormatSeconds(*s.t_end_s)
                             : std::string("-");
    out += "<tr><td>" + Escape(SignalName(s.signal)) + "</td><td><strong>" + Escape(s.trend) +
           "</strong></td><td>" + Escape(slope) + "</td><td class=\"num\">" + Escape(window) +
           "</td><td>" + Escape(s.reason) + "</td></tr>";
  }
  return out + "</table>\n";
}

std::string Fixed2(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

// Only the explanations worth reading, as the terminal summary shows them:
// of a leak, growth per unit over ten units and six points or more, with a
// fit that explains half of the variance or more.
std::string WorkTable(const VerdictView& v) {
  std::vector<const WorkView*> shown;
  for (const WorkView& w : v.work) {
    if (shown.size() < kMaxWork && v.verdict == "leak" && w.bytes_per_unit.value_or(0) > 0 &&
        w.r_squared.value_or(0) >= 0.5 && w.units.value_or(0) >= 10 && w.points.value_or(6) >= 6)
      shown.push_back(&w);
  }
  if (shown.empty()) return "";
  std::string out =
      "<h2>What the growth follows</h2><table class=\"work\"><tr><th>growth per unit of work</th>"
      "<th>R² (how well it explains)</th><th>units of work</th></tr>";
  for (const WorkView* wp : shown) {
    const WorkView& w = *wp;
    const std::string unit = w.unit.empty() ? w.counter : w.unit;
    const std::string per = !w.bytes_per_unit ? "-"
                            : w.signal == "workers"
                                ? FormatNumber(*w.bytes_per_unit, 3) + " workers"
                                : FormatBytes(*w.bytes_per_unit);
    out += "<tr><td><strong>" + Escape(per) + " per " + Escape(unit) +
           "</strong> <span class=\"note\">(" + Escape(w.counter) +
           ")</span></td><td class=\"num\">" + Escape(w.r_squared ? Fixed2(*w.r_squared) : "-") +
           "</td><td class=\"num\">" + Escape(w.units ? FormatNumber(*w.units, 9) : "-") +
           "</td></tr>";
  }
  return out + "</table>\n";
}

std::string ShareBar(const std::optional<double>& share) {
  const double s = std::clamp(share.value_or(0), 0.0, 1.0);
  char width[32];
  std::snprintf(width, sizeof width, "%.1f", 100 * s);
  return "<svg class=\"share\" width=\"104\" height=\"20\" viewBox=\"0 0 104 20\" "
         "aria-hidden=\"true\">"
         "<rect class=\"rest\" x=\"2\" y=\"3\" width=\"100\" height=\"14\"/><rect class=\"bar\" "
         "x=\"2\" y=\"3\" "
         "width=\"" +
         std::string(width) + "\" height=\"14\"/></svg> " +
         (share ? FormatNumber(100 * *share, 3) + " %" : "-");
}

// A frame by its short name (common/function_name.h); the whole name, cut
// to a readable length, is its tooltip.
std::string FrameHtml(const std::string& frame) {
  const std::string name = ShortFunctionName(frame);
  std::string full = frame;
  if (full.size() > kMaxFrameChars) {
    size_t cut = kMaxFrameChars;
    while (cut > 0 && (static_cast<unsigned char>(full[cut]) & 0xC0) == 0x80)
      --cut;  // whole UTF-8 characters
    full = full.substr(0, cut) + "…";
  }
  if (name == frame) return Escape(name);
  return "<span title=\"" + Escape(full) + "\">" + Escape(name) + "</span>";
}

// The callers below a site, leaf first: the program's own frames, with runs
// of library frames folded into one line.
std::string StackText(const std::vector<std::string>& stack, size_t skip) {
  std::string out;
  size_t shown = 0, folded = 0;
  const auto fold = [&] {
    if (folded == 0) return;
    out += (out.empty() ? "" : "<br>") + std::string("← <span class=\"note\">") +
           std::to_string(folded) + (folded == 1 ? " library frame" : " library frames") +
           "</span>";
    folded = 0;
  };
  size_t i = skip;
  for (; i < stack.size() && shown < kMaxStackFrames; ++i) {
    if (IsLibraryFrame(stack[i])) {
      ++folded;
      continue;
    }
    fold();
    out += (out.empty() ? "" : "<br>") + std::string("← ") + FrameHtml(stack[i]);
    ++shown;
  }
  if (i < stack.size()) {
    fold();
    out += "<br><span class=\"note\">… " + std::to_string(stack.size() - i) +
           " more in verdict.json</span>";
  }
  return out;
}

// "Allocated most" beside "grew most": the sites ranked by what they
// allocated over the profiles (alloc_space), each with its share of the
// growth. A site high here and at 0 % of the growth is the look-alike a
// profile ranked by allocation blames first.
std::string AllocatingTable(const VerdictView& v) {
  if (v.allocating.empty()) return "";
  std::string out =
      "<h3>Allocated most, and what of it was kept</h3><p class=\"note\">The same heap profiles "
      "ranked by the bytes each site allocated between the first profile and the last (their "
      "<code>alloc_space</code>, freed or not), beside its share of the growth above. Busy is not "
      "guilty: a site can allocate most and keep nothing.</p><table class=\"sites allocating\">"
      "<tr><th>share of all allocated</th><th>allocated</th><th>share of the growth</th>"
      "<th>allocation site</th></tr>";
  constexpr size_t kMaxAllocating = 5;
  for (size_t i = 0; i < v.allocating.size() && i < kMaxAllocating; ++i) {
    const AllocatingView& a = v.allocating[i];
    out += "<tr class=\"site\"><td class=\"num\">" + ShareBar(a.share) + "</td><td class=\"num\">" +
           Escape(a.allocated ? FormatBytes(*a.allocated) : "-") + "</td><td class=\"num\">" +
           ShareBar(a.growth_share) + "</td><td><code class=\"site-name\">" + FrameHtml(a.site) +
           "</code></td></tr>";
  }
  out += "</table>\n";
  return out;
}

std::string SitesTable(const VerdictView& v) {
  if (v.sites.empty()) return "";
  // Under a verdict that memory does not grow, the sites that grew are the
  // heap's contents moving at a level total (or a sampled profile's noise):
  // shown, under a heading that does not call them a leak.
  const bool grows = v.verdict == "leak" || v.verdict == "inconclusive";
  std::string out =
      grows ? "<h2>Where it grows: allocation sites</h2>" : "<h2>Allocation sites that moved</h2>";
  out += "<p class=\"note\">From the heap profiles";
  if (!v.heap_profiles_note.empty()) out += " (" + Escape(v.heap_profiles_note) + ")";
  out +=
      ": the sites whose memory in use grew, most first, with the stack that grew most (callers "
      "below the site).";
  if (!grows) {
    out += " The verdict is " + Escape(v.verdict) +
           ": the memory signals did not grow, so these are shifts within the heap (or a sampled "
           "profile's noise), not a leak.";
  }
  out +=
      "</p><table class=\"sites\"><tr><th>share of the growth</th><th>grew by</th><th>in use, "
      "first → last</th><th>allocation site and callers</th></tr>";
  for (size_t i = 0; i < v.sites.size() && i < kMaxSites; ++i) {
    const SiteView& s = v.sites[i];
    const std::string site = s.site.empty() ? s.stack.front() : s.site;
    const size_t skip = !s.stack.empty() && s.stack.front() == site ? 1 : 0;
    out += "<tr class=\"site\"><td class=\"num\">" + ShareBar(s.share) + "</td><td class=\"num\">" +
           Escape(s.growth ? (*s.growth > 0 ? "+" : "") + FormatBytes(*s.growth) : "-") +
           "</td><td class=\"num\">" +
           Escape((s.first ? FormatBytes(*s.first) : "-") + " → " +
                  (s.last ? FormatBytes(*s.last) : "-")) +
           "</td><td><code class=\"site-name\">" + FrameHtml(site) +
           "</code><div class=\"stack mono\">" + StackText(s.stack, skip) + "</div></td></tr>";
  }
  if (v.sites.size() > kMaxSites) {
    out += "<tr><td colspan=\"4\" class=\"note\">and " +
           std::to_string(v.sites.size() - kMaxSites) + " more sites in verdict.json</td></tr>";
  }
  out += "</table>\n";
  if (!v.diff_profile.empty()) {
    out += "<p class=\"note\">The heap diff (last profile minus the first) is in <code>" +
           Escape(v.diff_profile) + "</code>: <code>go tool pprof -top " + Escape(v.diff_profile) +
           "</code>.</p>\n";
  }
  return out;
}

std::string GroupsTable(const VerdictView& v) {
  if (v.groups.empty()) return "";
  std::string out = "<h2>Workers that pile up</h2><p class=\"note\">From the worker profiles";
  if (!v.worker_profiles_note.empty()) out += " (" + Escape(v.worker_profiles_note) + ")";
  out +=
      ": the groups of workers that grew in number, by where they wait and where they were "
      "started.</p>"
      "<table class=\"groups\"><tr><th>share of the growth</th><th>grew by</th><th>workers, first "
      "→ "
      "last</th><th>waiting in, started by</th></tr>";
  for (size_t i = 0; i < v.groups.size() && i < kMaxGroups; ++i) {
    const WorkerGroupView& g = v.groups[i];
    std::string where = "<code class=\"site-name\">" +
                        FrameHtml(g.wait_point.empty() ? g.stack.front() : g.wait_point) +
                        "</code>";
    if (!g.blocked_in.empty())
      where += " <span class=\"note\">blocked in " + Escape(g.blocked_in) + "</span>";
    if (!g.spawn_site.empty())
      where += "<div class=\"stack mono\">started by " + FrameHtml(g.spawn_site) + "</div>";
    out += "<tr class=\"group\"><td class=\"num\">" + ShareBar(g.share) +
           "</td><td class=\"num\">" +
           Escape(g.growth ? (*g.growth > 0 ? "+" : "") + FormatNumber(*g.growth, 6) : "-") +
           "</td><td class=\"num\">" +
           Escape((g.first ? FormatNumber(*g.first, 6) : "-") + " → " +
                  (g.last ? FormatNumber(*g.last, 6) : "-")) +
           "</td><td>" + where + "</td></tr>";
  }
  return out + "</table>\n";
}

// Shown when it matters: the heap gave memory back (the lazy-release case).
std::string ReleaseTable(const VerdictView& v) {
  const bool released = std::any_of(v.release.begin(), v.release.end(), [](const auto& kv) {
    return kv.first == "heap_released" && kv.second == "yes";
  });
  if (v.release.empty() || (!released && v.verdict != "lazy-release")) return "";
  static const std::map<std::string, std::string> kLabels = {
      {"heap_peak_bytes", "heap in use at its peak"},
      {"heap_end_bytes", "heap in use at the end"},
      {"released_bytes", "given back by the program"},
      {"rss_end_bytes", "RSS at the end"},
      {"kept_bytes", "kept in RSS (RSS minus heap, growth)"},
      {"lazyfree_bytes", "LazyFree (growth)"},
      {"allocator_free_bytes", "free in the allocator (growth)"},
      {"heap_released", "the heap gave a substantial amount back"},
      {"rss_kept", "RSS kept most of it"},
      {"accounted", "LazyFree and allocator-free bytes explain what RSS kept"},
  };
  std::string out = "<h2>Release check</h2><table class=\"release manifest\">";
  for (const auto& [key, value] : v.release) {
    auto it = kLabels.find(key);
    out += "<tr><th>" + Escape(it != kLabels.end() ? it->second : key) + "</th><td>" +
           Escape(value) + "</td></tr>";
  }
  return out + "</table>\n";
}

std::string ExhaustionText(const VerdictView& v) {
  if (!v.exhaustion) return "";
  const ExhaustionView& e = *v.exhaustion;
  std::string out = "<h2>Memory limit</h2><p>";
  out += "At the fitted rate, " + Escape(SignalName(e.signal.empty() ? "memory" : e.signal)) +
         " reaches the " + Escape(e.limit_bytes ? FormatBytes(*e.limit_bytes) : "given") + " limit";
  if (e.predicted_t_s) out += " at t = " + Escape(FormatSeconds(*e.predicted_t_s));
  if (e.observed_t_s)
    out += "; the server was killed at t = " + Escape(FormatSeconds(*e.observed_t_s));
  return out + ".</p>\n";
}

std::string ManifestTable(const RunData& d) {
  if (d.manifest.empty() && d.load_summary.empty()) return "";
  std::string out = "<h2>The run</h2><table class=\"manifest\">";
  for (const auto& [key, value] : d.manifest) {
    out += "<tr><th><code>" + Escape(key) + "</code></th><td>" + Escape(value) + "</td></tr>";
  }
  if (!d.load_summary.empty()) {
    out += "<tr><th>load (loadgen.json)</th><td>" + Escape(d.load_summary) + "</td></tr>";
  }
  return out + "</table>\n";
}

}  // namespace

std::string RenderReport(const fs::path& dir) { return RenderReport(ReadRunData(dir)); }

std::string RenderReport(const RunData& d) {
  const std::string verdict = d.verdict ? d.verdict->verdict : "not analyzed";
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" +
      std::string(kGeneratorMark) +
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      // Nothing may be fetched: the page must work offline, from a USB stick.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; "
      "img-src data:\">"
      "<title>" +
      Escape("leaklab: " + d.title + ": " + verdict) + "</title><style>" + kStyleSheet +
      "</style></head><body>\n";
  html += "<h1>" + Escape(d.title) + "</h1>\n";
  std::string source = d.dir.string();
  if (d.verdict && !d.verdict->source.empty() && d.verdict->source != source)
    source += " (" + d.verdict->source + ")";
  html += "<p class=\"source\">" + Escape(d.subtitle.empty() ? "" : d.subtitle + " · ") + "<code>" +
          Escape(source) + "</code></p>\n";
  html += Banner(d);
  html += Charts(d);
  if (d.verdict) {
    html += SignalsTable(*d.verdict);
    html += WorkTable(*d.verdict);
    html += SitesTable(*d.verdict);
    html += AllocatingTable(*d.verdict);
    html += GroupsTable(*d.verdict);
    html += ExhaustionText(*d.verdict);
    html += ReleaseTable(*d.verdict);
  }
  html += ManifestTable(d);
  if (!d.notes.empty()) {
    html += "<h2>Notes</h2><ul class=\"notes\">";
    for (const std::string& n : d.notes) html += "<li>" + Escape(n) + "</li>";
    html += "</ul>\n";
  }
  html +=
      "<p class=\"note\">Made by <code>leaklab report</code> from the files in this folder "
      "(series.csv, "
      "events.csv, verdict.json, manifest.json); nothing on this page comes from the network.</p>\n"
      "</body></html>\n";
  return html;
}

bool IsLeaklabReport(const fs::path& path) {
  // The mark is at the top; reports from before it end with the note.
  constexpr size_t kLookBytes = 4096;
  const std::string head = ReadFileHead(path, kLookBytes);
  return head.find(kGeneratorMark) != std::string::npos ||
         ReadFileTail(path, kLookBytes).find("Made by <code>leaklab report</code>") !=
             std::string::npos;
}

fs::path WriteReport(const fs::path& dir) {
  const fs::path path = dir / kReportFile;
  // Never over a file leaklab did not write (issue 13): a folder of the
  // user's may hold a report.html of their own.
  std::error_code ec;
  if (fs::exists(path, ec) && !IsLeaklabReport(path)) {
    throw ReportError(path.string() +
                      ": exists and was not written by leaklab; it is left as it is (move it "
                      "away to get leaklab's report there)");
  }
  const std::string html = RenderReport(dir);
  WriteFileAtomically(path, html);
  return path;
}

}  // namespace leaklab::report
