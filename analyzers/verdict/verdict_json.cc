#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "analyzers/verdict/verdict.h"
#include "common/bytes.h"

namespace leaklab::verdict {
namespace {

// A growth per unit of work is printed over at least this many units and
// floor points: fewer say little about a rate (three reloads, six samples).
// A near-exact fit needs fewer units: eight reloads that each add the same
// 5 MB (R^2 1.00) say what the growth follows, and leaving them out would
// let a looser counter (requests, R^2 0.99) stand alone in the summary.
// Three steps of the same size, the last within a thousandth of a line (a
// reload every 4 s over 13 s, or every hour over a 4-hour window), say so too.
constexpr double kMinQuotedUnits = 10;
constexpr double kMinQuotedUnitsOfAnExactFit = 4;
constexpr double kExactFitRSquared = 0.95;
constexpr double kMinQuotedUnitsOfAPerfectFit = 3;
constexpr double kPerfectFitRSquared = 0.999;
constexpr size_t kMinQuotedPoints = 6;

// Whether an explanation of a leak by work is worth a summary line: growth
// per unit, over enough units and points, with a fit that explains at least
// half of what moved.
bool WorthQuoting(const WorkExplanation& w) {
  if (!(w.bytes_per_unit > 0) || w.r_squared < 0.5 || w.points < kMinQuotedPoints) return false;
  return w.units >= kMinQuotedUnits ||
         (w.units >= kMinQuotedUnitsOfAnExactFit && w.r_squared >= kExactFitRSquared) ||
         (w.units >= kMinQuotedUnitsOfAPerfectFit && w.r_squared >= kPerfectFitRSquared);
}

namespace json = boost::json;

// JSON has no infinity or NaN: an unbounded interval end is written as null.
json::value Number(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

json::object MannKendallJson(const series::MannKendall& mk) {
  return {{"n", mk.n},
          {"s", mk.s},
          {"var_s", mk.var_s},
          {"z", Number(mk.z)},
          {"p_value", Number(mk.p_value)},
          {"variance_factor", Number(mk.variance_factor)},
          {"significant_lags", mk.significant_lags}};
}

json::object SignalJson(const series::GrowthEvidence& ev) {
  json::object o{{"signal", ev.signal},
                 {"trend", series::TrendName(ev.trend)},
                 {"reason", ev.reason},
                 {"samples", ev.samples},
                 {"n", ev.n}};
  // Samples left out as repeats of the last garbage collection's figure.
  if (ev.stale_repeats > 0) o["stale_repeats"] = ev.stale_repeats;
  if (ev.decide_window_s > 0) o["decide_window_s"] = Number(ev.decide_window_s);
  if (ev.trend == series::Trend::kInsufficient) return o;
  o["practical_growth"] = Number(ev.practical_growth);
  // How bad growth is: per hour, and the time it takes to add its level again.
  if (ev.trend == series::Trend::kGrowing && ev.fit.slope > 0) {
    o["growth_per_hour"] = Number(ev.fit.slope * 3600);
    o["doubling_time_s"] = Number(ev.level_bytes > 0 ? ev.level_bytes / ev.fit.slope : NAN);
  }
  o["window_s"] = json::array{ev.t_begin_s, ev.t_end_s};
  // The floor's points too, for drawing (report/): at most kFloorPointsKept,
  // evenly spaced, so a long run keeps verdict.json small.
  constexpr size_t kFloorPointsKept = 1000;
  json::array floor_t, floor_bytes;
  const size_t points = ev.floor.t_s.size();
  const size_t step =
      points > kFloorPointsKept ? (points + kFloorPointsKept - 1) / kFloorPointsKept : 1;
  for (size_t i = 0; i < points; i += step) {
    floor_t.push_back(Number(ev.floor.t_s[i]));
    floor_bytes.push_back(Number(ev.floor.values[i]));
  }
  o["floor"] = json::object{{"block", ev.block},
                            {"period_s", Number(ev.period_s)},
                            {"window_s", Number(ev.floor_window_s)},
                            {"t_s", std::move(floor_t)},
                            {"bytes", std::move(floor_bytes)}};
  // The line's value at t = 0 s of the series: with the slope, the fitted trend.
  o["intercept_bytes"] = Number(ev.fit.intercept);
  // Where the test window starts when a warm-up regime was skipped.
  if (ev.warmup_skipped) o["level_shift_t_s"] = Number(ev.t_begin_s);
  json::array changes;
  for (double t : ev.change_points_s) changes.push_back(Number(t));
  o["change_points_s"] = std::move(changes);
  o["warmup_skipped"] = ev.warmup_skipped;
  o["mann_kendall"] = MannKendallJson(ev.mk);
  o["slope_bytes_per_s"] = Number(ev.fit.slope);
  o["slope_ci95_bytes_per_s"] = json::array{Number(ev.fit.slope_low), Number(ev.fit.slope_high)};
  o["level_bytes"] = Number(ev.level_bytes);
  o["growth_bytes"] = Number(ev.growth_bytes);
  o["noise_bytes"] = Number(ev.noise_bytes);
  o["peak_bytes"] = Number(ev.peak_bytes);
  if (ev.trend == series::Trend::kGrowing || ev.trend == series::Trend::kPlateaued) {
    json::object plateau{{"last_third_slope_bytes_per_s", Number(ev.tail_slope_bytes_per_s)},
                         {"last_third_mann_kendall", MannKendallJson(ev.tail_mk)},
                         {"plateaued", ev.trend == series::Trend::kPlateaued}};
    if (ev.last_regime_begin_s > 0) {
      plateau["last_regime_begin_s"] = Number(ev.last_regime_begin_s);
      plateau["last_regime_slope_high_bytes_per_s"] = Number(ev.last_regime_slope_high_bytes_per_s);
    }
    o["plateau_check"] = std::move(plateau);
  }
  return o;
}

json::array FramesJson(const std::vector<pprof::Frame>& frames) {
  json::array out;
  for (const pprof::Frame& f : frames) out.push_back(json::string(f.ToString()));
  return out;
}

json::object GrowthJson(const pprof::Growth& g, const char* unit, bool timed) {
  return {{std::string("first_") + unit, Number(g.first)},
          {std::string("last_") + unit, Number(g.last)},
          {timed ? std::string("slope_") + unit + "_per_s"
                 : std::string("slope_") + unit + "_per_profile",
           Number(g.slope)},
          {std::string("growth_") + unit, Number(g.growth)},
          {"share", Number(g.share)}};
}

// Where the growth is, from profiles: the "growing allocation sites and
// worker groups" of DESIGN.md's verdict.json.
json::value ProfilesJson(const std::optional<ProfileEvidence>& e) {
  if (!e) return nullptr;
  json::object o;
  if (e->heap) {
    const pprof::HeapAttribution& h = *e->heap;
    json::array sites;
    for (const pprof::GrowingSite& s : h.sites) {
      json::object site = GrowthJson(s.bytes, "bytes", h.timed);
      site["site"] = s.site.ToString();
      site["stack"] = FramesJson(s.stack);
      sites.push_back(std::move(site));
    }
    json::array allocating;
    for (const pprof::AllocatingSite& a : h.allocating) {
      allocating.push_back(json::object{{"site", a.site.ToString()},
                                        {"allocated_bytes", Number(a.allocated)},
                                        {"share", Number(a.share)},
                                        {"growth_share", Number(a.growth_share)}});
    }
    o["heap"] = json::object{
        {"profiles", h.profiles},
        {"first", e->heap_first},
        {"last", e->heap_last},
        {"timed", h.timed},
        {"span", Number(h.span)},
        {"sample_type", h.sample_type},
        {"total", GrowthJson(h.total, "bytes", h.timed)},
        {"profiler", GrowthJson(h.profiler, "bytes", h.timed)},
        {"allocated", h.allocated ? json::value(GrowthJson(*h.allocated, "bytes", h.timed))
                                  : json::value(nullptr)},
        {"sites", std::move(sites)},
        {"allocating", std::move(allocating)}};
  }
  if (e->workers) {
    const pprof::WorkerAttribution& w = *e->workers;
    json::array groups;
    for (const pprof::GrowingWorkerGroup& g : w.groups) {
      json::object group = GrowthJson(g.workers, "workers", w.timed);
      group["wait_point"] = g.wait_point.ToString();
      group["blocked_in"] = g.blocked_in;
      group["spawn_site"] = g.spawn_site.ToString();
      group["stack"] = FramesJson(g.stack);
      groups.push_back(std::move(group));
    }
    o["workers"] = json::object{{"profiles", w.profiles},
                                {"timed", w.timed},
                                {"span", Number(w.span)},
                                {"total", GrowthJson(w.total, "workers", w.timed)},
                                {"groups", std::move(groups)}};
  }
  if (!e->diff_profile.empty()) o["diff_profile"] = e->diff_profile;
  return o;
}

}  // namespace

std::string VerdictToJson(const Verdict& v) {
  json::array signals;
  for (const auto& ev : v.signals) signals.push_back(SignalJson(ev));
  json::array work;
  for (const auto& w : v.work) {
    work.push_back(json::object{{"signal", w.signal},
                                {"counter", w.counter},
                                {"unit", w.unit},
                                {"bytes_per_unit", Number(w.bytes_per_unit)},
                                {"r_squared", Number(w.r_squared)},
                                {"units", Number(w.units)},
                                {"points", w.points}});
  }
  json::object release;
  if (v.release.checked) {
    const ReleaseEvidence& r = v.release;
    release = {{"heap_peak_bytes", Number(r.heap_peak_bytes)},
               {"heap_end_bytes", Number(r.heap_end_bytes)},
               {"released_bytes", Number(r.released_bytes)},
               {"rss_end_bytes", Number(r.rss_end_bytes)},
               {"kept_bytes", Number(r.kept_bytes)},
               {"lazyfree_bytes", Number(r.lazyfree_bytes)},
               {"allocator_free_bytes", Number(r.allocator_free_bytes)},
               {"runtime_released_bytes", Number(r.runtime_released_bytes)},
               {"heap_released", r.heap_released},
               {"peak_unseen", r.peak_unseen},
               {"rss_kept", r.rss_kept},
               {"accounted", r.accounted}};
  }
  json::value exhaustion = nullptr;
  if (v.exhaustion) {
    const Exhaustion& e = *v.exhaustion;
    exhaustion = json::object{
        {"limit_bytes", Number(e.limit_bytes)},
        {"signal", e.signal},
        {"predicted_t_s", Number(e.predicted_t_s)},
        {"time_left_s", Number(e.time_left_s)},
        {"observed_t_s", e.observed_t_s ? Number(*e.observed_t_s) : json::value(nullptr)}};
  }
  json::array missing;
  for (const auto& m : v.missing) missing.push_back(json::string(m));
  json::value bound = nullptr;
  if (v.bound) {
    const Bound& b = *v.bound;
    json::object o{{"signal", b.signal},
                   {"window_s", json::array{Number(b.t_begin_s), Number(b.t_end_s)}},
                   {"max_bytes_per_s", Number(b.max_bytes_per_s)},
                   {"max_bytes_per_hour", Number(b.max_bytes_per_s * 3600)}};
    if (!b.unit.empty()) {
      o["unit"] = b.unit;
      o["units"] = Number(b.units);
      o["max_bytes_per_unit"] = Number(b.max_bytes_per_unit);
      o["allocated_bytes_per_unit"] = Number(b.allocated_bytes_per_unit);
    }
    bound = std::move(o);
  }
  json::object o{{"schema_version", kVerdictSchemaVersion},
                 {"verdict", KindName(v.kind)},
                 {"source", v.source},
                 {"explanation", v.explanation},
                 {"evidence", json::object{{"signals", std::move(signals)},
                                           {"work", std::move(work)},
                                           {"release", std::move(release)},
                                           {"exhaustion", std::move(exhaustion)},
                                           {"bound", std::move(bound)},
                                           {"profiles", ProfilesJson(v.profiles)}}},
                 {"missing", std::move(missing)}};
  if (v.decide_window_s > 0) o["decide_window_s"] = Number(v.decide_window_s);
  return json::serialize(o) + "\n";
}

std::string VerdictSummary(const Verdict& v) {
  std::string out = "verdict: ";
  out += KindName(v.kind);
  out += "\n";
  for (const auto& ev : v.signals) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-17s %-12s %s\n", ev.signal.c_str(),
                  series::TrendName(ev.trend), ev.reason.c_str());
    out += line;
  }
  for (const auto& w : v.work) {
    // Only explanations of a leak worth reading (verdict.json keeps them all).
    if (v.kind != Kind::kLeak || !WorthQuoting(w)) continue;
    char fit[96];
    std::snprintf(fit, sizeof fit, " per %s (R^2 %.2f over %.0f %ss)\n", w.unit.c_str(),
                  w.r_squared, w.units, w.unit.c_str());
    char workers[32];
    std::snprintf(workers, sizeof workers, "%.2g workers", w.bytes_per_unit);
    const std::string line = "  " +
                             (w.signal == series::kWorkersColumn ? std::string(workers)
                                                                 : FormatBytes(w.bytes_per_unit)) +
                             fit;
    out += line;
  }
  if (v.bound) {
    const Bound& b = *v.bound;
    out += "  at most " + FormatBytes(b.max_bytes_per_s * 3600) + "/h growing unseen (" + b.signal +
           ")";
    if (!b.unit.empty()) {
      out += ", at most " + FormatBytes(b.max_bytes_per_unit) + " per " + b.unit;
      if (std::isfinite(b.allocated_bytes_per_unit)) {
        out += " of the " + FormatBytes(b.allocated_bytes_per_unit) + " each allocates";
      }
    }
    out += "\n";
  }
  // Growing sites and worker groups are evidence of a leak, or of one not
  // ruled out. Under a verdict that memory does not grow, a site that "grew"
  // is the heap's contents shifting at a level total, or the sampling noise
  // of a sampled heap profile (600 buffers of 8 KB drawn again at every
  // reload vary by a megabyte at Go's 512 KiB rate): verdict.json keeps them.
  const bool explain = MayGrow(v.kind);
  if (explain && v.profiles && v.profiles->heap) {
    const pprof::HeapAttribution& h = *v.profiles->heap;
    for (size_t i = 0; i < h.sites.size() && i < 3; ++i) {
      const pprof::GrowingSite& s = h.sites[i];
      char line[160];
      std::snprintf(line, sizeof line, "  grows at %3.0f %%  %+.0f bytes  ", 100 * s.bytes.share,
                    s.bytes.growth);
      out += line;
      out += s.site.ShortString();
      for (size_t f = 0, shown = 1; f < s.stack.size() && shown < 3; ++f) {
        // Callers of the site, from the program's own code.
        if (s.stack[f].IsLibrary() || s.stack[f] == s.site) continue;
        out += (shown++ ? " <- " : "") + s.stack[f].ShortString();
      }
      out += "\n";
    }
  }
  // What allocated most, when something grew and that is not what grew
  // most: the function a profile ranked by allocation sends people after
  // first.
  if (v.profiles && v.profiles->heap && !v.profiles->heap->allocating.empty()) {
    const pprof::HeapAttribution& h = *v.profiles->heap;
    const pprof::AllocatingSite& a = h.allocating.front();
    if (!h.sites.empty() && !(h.sites.front().site == a.site)) {
      char line[160];
      std::snprintf(line, sizeof line, "  allocated most %3.0f %%  %s  ", 100 * a.share,
                    FormatBytes(a.allocated).c_str());
      out += line + a.site.ShortString();
      std::snprintf(line, sizeof line, " (%.0f %% of the growth)\n", 100 * a.growth_share);
      out += line;
    }
  }
  if (explain && v.profiles && v.profiles->workers) {
    for (size_t i = 0; i < v.profiles->workers->groups.size() && i < 3; ++i) {
      const pprof::GrowingWorkerGroup& g = v.profiles->workers->groups[i];
      char line[160];
      std::snprintf(line, sizeof line, "  workers  %3.0f %%  %+.0f waiting in ",
                    100 * g.workers.share, g.workers.growth);
      out += line + g.wait_point.ShortString() + "\n";
    }
  }
  if (v.profiles && !v.profiles->diff_profile.empty()) {
    out += "  diff profile: " + v.profiles->diff_profile + " (go tool pprof -top it)\n";
  }
  out += v.explanation + "\n";
  return out;
}

}  // namespace leaklab::verdict
