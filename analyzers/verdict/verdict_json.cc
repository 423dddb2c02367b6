#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "analyzers/verdict/verdict.h"

namespace leaklab::verdict {
namespace {

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
  if (ev.trend == series::Trend::kInsufficient) return o;
  o["window_s"] = json::array{ev.t_begin_s, ev.t_end_s};
  o["floor"] = json::object{{"block", ev.block},
                            {"period_s", Number(ev.period_s)},
                            {"window_s", Number(ev.floor_window_s)}};
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

}  // namespace

std::string VerdictToJson(const Verdict& v) {
  json::array signals;
  for (const auto& ev : v.signals) signals.push_back(SignalJson(ev));
  json::array work;
  for (const auto& w : v.work) {
    work.push_back(json::object{{"counter", w.counter},
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
               {"heap_released", r.heap_released},
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
  json::object o{{"schema_version", kVerdictSchemaVersion},
                 {"verdict", KindName(v.kind)},
                 {"source", v.source},
                 {"explanation", v.explanation},
                 {"evidence", json::object{{"signals", std::move(signals)},
                                           {"work", std::move(work)},
                                           {"release", std::move(release)},
                                           {"exhaustion", std::move(exhaustion)}}},
                 {"missing", std::move(missing)}};
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
    // Only explanations worth reading; verdict.json keeps them all.
    if (w.r_squared < 0.5 || w.units < 2) continue;
    char line[256];
    std::snprintf(line, sizeof line, "  %.0f bytes per %s (R^2 %.2f over %.0f %ss)\n",
                  w.bytes_per_unit, w.unit.c_str(), w.r_squared, w.units, w.unit.c_str());
    out += line;
  }
  out += v.explanation + "\n";
  return out;
}

}  // namespace leaklab::verdict
