#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "common/bytes.h"
#include "common/duration.h"
#include "report/downsample.h"
#include "report/html.h"

namespace leaklab::report {

namespace {

// Geometry in SVG user units. The plot is kPlotColumns wide (one column per
// unit, see MinMaxPerColumn); the margins hold the axis labels.
constexpr double kLeft = 125, kRight = 30, kTop = 46, kPlotHeight = 300, kBottom = 62;
constexpr double kWidth = kLeft + kPlotColumns + kRight;
constexpr double kHeight = kTop + kPlotHeight + kBottom;
// Up to this many events of one kind get a line across the plot; more (a
// reload a second for a day) get a tick on the top edge, one per column.
constexpr size_t kMaxFullHeightMarkers = 40;

std::string Fixed(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

double NiceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

double NiceTimeStep(double raw) {
  // Steps a clock reads in: seconds, minutes, hours, days.
  static const double kSteps[] = {1,     2,     5,     10,    15,     30,     60,
                                  120,   300,   600,   900,   1800,   3600,   7200,
                                  10800, 21600, 43200, 86400, 172800, 432000, 864000};
  if (raw < 1) return NiceStep(raw);
  for (double s : kSteps) {
    if (s >= raw) return s;
  }
  return NiceStep(raw / 86400) * 86400;
}

struct Unit {
  double scale;
  const char* name;
};

Unit ByteUnit(double max_abs) {
  static const Unit kUnits[] = {{1, "B"}, {1e3, "KB"}, {1e6, "MB"}, {1e9, "GB"}, {1e12, "TB"}};
  Unit u = kUnits[0];
  for (const Unit& k : kUnits) {
    if (max_abs >= k.scale) u = k;
  }
  return u;
}

Unit TimeUnit(double span_s) {
  if (span_s <= 180) return {1, "s"};
  if (span_s <= 3 * 3600) return {60, "min"};
  if (span_s <= 3 * 86400) return {3600, "h"};
  return {86400, "d"};
}

bool Finite(double x) { return std::isfinite(x); }

// A grid's values: from, from + step, ... up to `to`, at most kMaxGridLines
// of them. Counted, not accumulated: near the double range a sum stops
// moving (1e308 + 1 == 1e308), and a loop on it never ended.
constexpr int kMaxGridLines = 1000;
std::vector<double> StepValues(double from, double to, double step) {
  std::vector<double> out;
  if (!Finite(from) || !Finite(to) || !(step > 0) || !Finite(step)) return out;
  for (int i = 0; i < kMaxGridLines; ++i) {
    const double v = from + i * step;
    if (!(v <= to + step * 1e-9) || (!out.empty() && v == out.back())) break;
    out.push_back(v);
  }
  return out;
}

class Chart {
 public:
  explicit Chart(const ChartSpec& spec) : spec_(spec) {
    t_min_ = spec.t_min;
    t_max_ = spec.t_max > spec.t_min ? spec.t_max : spec.t_min + 1;
    YRange();
  }

  double X(double t) const { return kLeft + (t - t_min_) / (t_max_ - t_min_) * kPlotColumns; }
  double Y(double v) const {
    return kTop + kPlotHeight - (v - y_lo_) / (y_hi_ - y_lo_) * kPlotHeight;
  }

  std::string Render() {
    std::string svg;
    const std::string& id = spec_.id;
    svg += "<svg class=\"plot\" id=\"" + Escape(id) + "\" viewBox=\"0 0 " + Fixed(kWidth) + " " +
           Fixed(kHeight) + "\" role=\"img\" aria-labelledby=\"" + Escape(id) +
           "-title\" xmlns=\"http://www.w3.org/2000/svg\">";
    svg += "<title id=\"" + Escape(id) + "-title\">" + Escape(spec_.title) + "</title>";
    svg += "<defs><clipPath id=\"" + Escape(id) + "-clip\"><rect x=\"" + Fixed(kLeft) + "\" y=\"" +
           Fixed(kTop) + "\" width=\"" + Fixed(kPlotColumns) + "\" height=\"" + Fixed(kPlotHeight) +
           "\"/></clipPath></defs>";
    Spans(svg);
    Grid(svg);
    svg += "<g clip-path=\"url(#" + Escape(id) + "-clip)\">";
    Fits(svg, /*bands=*/true);
    HLines(svg);
    Lines(svg);
    Floors(svg);
    Fits(svg, /*bands=*/false);
    svg += "</g>";
    Markers(svg);
    svg += "<line class=\"axis\" x1=\"" + Fixed(kLeft) + "\" y1=\"" + Fixed(kTop + kPlotHeight) +
           "\" x2=\"" + Fixed(kLeft + kPlotColumns) + "\" y2=\"" + Fixed(kTop + kPlotHeight) +
           "\"/>";
    svg += "<line class=\"axis\" x1=\"" + Fixed(kLeft) + "\" y1=\"" + Fixed(kTop) + "\" x2=\"" +
           Fixed(kLeft) + "\" y2=\"" + Fixed(kTop + kPlotHeight) + "\"/>";
    svg += "</svg>";

    std::string out = "<figure class=\"chart\" id=\"" + Escape(id) + "-figure\"><figcaption>" +
                      Escape(spec_.title) + "<div class=\"legend\">" + Legend() +
                      "</div></figcaption>";
    return out + svg + "</figure>\n";
  }

 private:
  // The y axis starts at zero for positive data, so that a flat curve looks
  // flat and noise is not magnified into a trend.
  void YRange() {
    double lo = 0, hi = 0;
    bool any = false;
    const auto take = [&](double v) {
      if (!Finite(v)) return;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      any = true;
    };
    for (const ChartLine& l : spec_.lines) {
      if (l.t == nullptr || l.v == nullptr) continue;
      const size_t n = std::min(l.t->size(), l.v->size());
      for (size_t i = 0; i < n; ++i) {
        if ((*l.t)[i] >= t_min_ && (*l.t)[i] <= t_max_) take((*l.v)[i]);
      }
    }
    for (const ChartFloor& f : spec_.floors) {
      for (double v : f.v) take(v);
    }
    for (const ChartFit& f : spec_.fits) {
      take(f.v_anchor + f.slope * (f.t_begin - f.t_anchor));
      take(f.v_anchor + f.slope * (f.t_end - f.t_anchor));
    }
    double data_hi = hi;
    for (const ChartHLine& h : spec_.hlines) {
      // A limit far above the data would flatten it; it is then only named.
      if (Finite(h.v) && (!any || h.v <= 4 * std::max(data_hi, 1.0))) take(h.v);
    }
    if (!any || hi <= lo) hi = lo + (spec_.bytes ? 1e6 : 1);
    // hi/5 - lo/5, not (hi - lo)/5: the difference of values near the double
    // range (±1.7e308) is infinite, and a step of infinity draws no grid.
    step_ = NiceStep(hi / 5 - lo / 5);
    if (!spec_.bytes) step_ = std::max(step_, 1.0);  // counts are whole numbers
    y_lo_ = std::floor(lo / step_) * step_;
    y_hi_ = std::ceil(hi / step_) * step_;
    if (y_hi_ - hi < 0.02 * (y_hi_ - y_lo_)) y_hi_ += step_;  // room above the highest point
    // Rounding outward can pass the double range; the axis stops at its edge.
    y_lo_ = std::max(y_lo_, -std::numeric_limits<double>::max());
    y_hi_ = std::min(y_hi_, std::numeric_limits<double>::max());
  }

  void Spans(std::string& svg) {
    for (const ChartSpan& s : spec_.spans) {
      const double a = std::clamp(X(s.t_begin), kLeft, kLeft + kPlotColumns);
      const double b = std::clamp(X(s.t_end), kLeft, kLeft + kPlotColumns);
      if (b <= a) continue;
      svg += "<rect class=\"load\" x=\"" + Fixed(a) + "\" y=\"" + Fixed(kTop) + "\" width=\"" +
             Fixed(b - a) + "\" height=\"" + Fixed(kPlotHeight) + "\"><title>" + Escape(s.label) +
             ": " + Escape(FormatSeconds(s.t_begin)) + " to " + Escape(FormatSeconds(s.t_end)) +
             "</title></rect>";
    }
  }

  void Grid(std::string& svg) {
    const Unit yu =
        spec_.bytes ? ByteUnit(std::max(std::fabs(y_lo_), std::fabs(y_hi_))) : Unit{1, ""};
    for (double v : StepValues(y_lo_, y_hi_, step_)) {
      const double y = Y(v);
      svg += "<line class=\"grid\" x1=\"" + Fixed(kLeft) + "\" y1=\"" + Fixed(y) + "\" x2=\"" +
             Fixed(kLeft + kPlotColumns) + "\" y2=\"" + Fixed(y) + "\"/>";
      std::string label = FormatNumber(std::fabs(v) < step_ * 1e-9 ? 0 : v / yu.scale, 4);
      if (spec_.bytes) label += std::string(" ") + yu.name;
      svg += "<text class=\"tick\" x=\"" + Fixed(kLeft - 10) + "\" y=\"" + Fixed(y + 6) +
             "\" text-anchor=\"end\">" + Escape(label) + "</text>";
    }
    const Unit tu = TimeUnit(t_max_ - t_min_);
    for (double t : NiceTicks(t_min_, t_max_, 8, true)) {
      const double x = X(t);
      svg += "<line class=\"grid\" x1=\"" + Fixed(x) + "\" y1=\"" + Fixed(kTop) + "\" x2=\"" +
             Fixed(x) + "\" y2=\"" + Fixed(kTop + kPlotHeight) + "\"/>";
      svg += "<text class=\"tick\" x=\"" + Fixed(x) + "\" y=\"" + Fixed(kTop + kPlotHeight + 24) +
             "\" text-anchor=\"middle\">" + Escape(FormatNumber(t / tu.scale, 4)) + "</text>";
    }
    svg += "<text class=\"label\" x=\"" + Fixed(kLeft + kPlotColumns / 2) + "\" y=\"" +
           Fixed(kHeight - 8) + "\" text-anchor=\"middle\">time since start (" +
           std::string(tu.name) + ")</text>";
  }

  static std::string PathOf(const std::vector<Point>& points, const Chart& c) {
    std::string d;
    d.reserve(points.size() * 14);
    bool pen_down = false;
    size_t segment_points = 0;
    for (const Point& p : points) {
      if (!Finite(p.v)) {
        if (segment_points == 1) d += "h0.01";  // a lone sample still shows as a dot
        pen_down = false;
        segment_points = 0;
        continue;
      }
      d += pen_down ? "L" : "M";
      d += Fixed(c.X(p.t)) + " " + Fixed(c.Y(p.v));
      pen_down = true;
      ++segment_points;
    }
    if (segment_points == 1) d += "h0.01";
    return d;
  }

  void Lines(std::string& svg) {
    for (const ChartLine& l : spec_.lines) {
      if (l.t == nullptr || l.v == nullptr) continue;
      const std::vector<Point> points = MinMaxPerColumn(*l.t, *l.v, t_min_, t_max_, kPlotColumns);
      if (points.empty()) continue;
      svg += "<path class=\"line " + Escape(l.css) + "\" d=\"" + PathOf(points, *this) +
             "\"><title>" + Escape(l.name) + "</title></path>";
    }
  }

  void Floors(std::string& svg) {
    for (const ChartFloor& f : spec_.floors) {
      const std::vector<Point> points = MinMaxPerColumn(f.t, f.v, t_min_, t_max_, kPlotColumns);
      if (points.empty()) continue;
      svg += "<path class=\"floor " + Escape(f.css) + "\" d=\"" + PathOf(points, *this) +
             "\"><title>" + Escape(f.name) + "</title></path>";
    }
  }

  void Fits(std::string& svg, bool bands) {
    for (const ChartFit& f : spec_.fits) {
      if (!Finite(f.slope) || !Finite(f.v_anchor) || !(f.t_end > f.t_begin)) continue;
      const auto at = [&](double slope, double t) { return f.v_anchor + slope * (t - f.t_anchor); };
      const auto xy = [&](double t, double v) { return Fixed(X(t)) + " " + Fixed(Y(v)); };
      if (bands) {
        if (!Finite(f.slope_low) || !Finite(f.slope_high)) continue;
        // Two triangles meeting at the anchor: every line through it with a
        // slope inside the interval lies in the band.
        const double ta = std::clamp(f.t_anchor, f.t_begin, f.t_end);
        const double va = at(f.slope, ta);
        std::string d = "M" + xy(f.t_begin, at(f.slope_low, f.t_begin)) + "L" + xy(ta, va) + "L" +
                        xy(f.t_begin, at(f.slope_high, f.t_begin)) + "Z";
        d += "M" + xy(f.t_end, at(f.slope_high, f.t_end)) + "L" + xy(ta, va) + "L" +
             xy(f.t_end, at(f.slope_low, f.t_end)) + "Z";
        svg += "<path class=\"band " + Escape(f.css) + "\" d=\"" + d + "\"><title>" +
               Escape(f.name) + ": 95 % interval of the slope, " +
               Escape(FormatSlope(f.slope_low)) + " to " + Escape(FormatSlope(f.slope_high)) +
               "</title></path>";
      } else {
        svg += "<path class=\"fit " + Escape(f.css) + "\" d=\"M" +
               xy(f.t_begin, at(f.slope, f.t_begin)) + "L" + xy(f.t_end, at(f.slope, f.t_end)) +
               "\"><title>" + Escape(f.name) + ": " + Escape(FormatSlope(f.slope)) +
               "</title></path>";
      }
    }
  }

  std::string FormatSlope(double slope) const {
    return spec_.bytes ? FormatBytesPerSecond(slope) : FormatNumber(slope) + " per s";
  }

  void HLines(std::string& svg) {
    for (const ChartHLine& h : spec_.hlines) {
      if (!Finite(h.v) || h.v > y_hi_ || h.v < y_lo_) continue;
      const double y = Y(h.v);
      svg += "<line class=\"" + Escape(h.css) + "\" x1=\"" + Fixed(kLeft) + "\" y1=\"" + Fixed(y) +
             "\" x2=\"" + Fixed(kLeft + kPlotColumns) + "\" y2=\"" + Fixed(y) + "\"><title>" +
             Escape(h.label) + "</title></line>";
      svg += "<text class=\"tick\" x=\"" + Fixed(kLeft + kPlotColumns - 6) + "\" y=\"" +
             Fixed(y - 8) + "\" text-anchor=\"end\">" + Escape(h.label) + "</text>";
    }
  }

  static std::string MarkerClass(const std::string& kind) {
    if (kind == "reload" || kind == "burst" || kind == "exit" || kind == "shift")
      return "ev-" + kind;
    return "ev-other";
  }

  void Markers(std::string& svg) {
    std::map<std::string, std::vector<const ChartMarker*>> by_kind;
    for (const ChartMarker& m : spec_.markers) {
      if (Finite(m.t) && m.t >= t_min_ && m.t <= t_max_) by_kind[m.kind].push_back(&m);
    }
    for (const auto& [kind, markers] : by_kind) {
      const std::string css = "event " + MarkerClass(kind);
      const bool full = markers.size() <= kMaxFullHeightMarkers;
      if (!full) {
        // One path of ticks, one per column that holds any, and one tooltip.
        std::set<long> columns;
        for (const ChartMarker* m : markers) columns.insert(std::lround(X(m->t)));
        std::string d;
        for (long x : columns) d += "M" + std::to_string(x) + " " + Fixed(kTop - 16) + "v16";
        svg += "<path class=\"" + css + "\" d=\"" + d + "\"><title>" + Escape(kind) + ": " +
               std::to_string(markers.size()) + " events, from " +
               Escape(FormatSeconds(markers.front()->t)) + " to " +
               Escape(FormatSeconds(markers.back()->t)) + "</title></path>";
        continue;
      }
      for (const ChartMarker* m : markers) {
        const double x = X(m->t);
        svg += "<line class=\"" + css + "\" x1=\"" + Fixed(x) + "\" y1=\"" + Fixed(kTop - 16) +
               "\" x2=\"" + Fixed(x) + "\" y2=\"" + Fixed(kTop + kPlotHeight) + "\"" +
               (kind != "exit" && kind != "shift" ? " opacity=\"0.55\"" : "") + "><title>" +
               Escape(m->label) + "</title></line>";
        if (kind == "exit" || kind == "shift") {
          svg += "<text class=\"tick\" x=\"" + Fixed(x + 6) + "\" y=\"" + Fixed(kTop - 20) + "\">" +
                 Escape(kind == "exit" ? "server exited" : "level shift") + "</text>";
        }
      }
    }
  }

  std::string Legend() const {
    std::string out;
    const auto key = [&](const std::string& sample, const std::string& text) {
      out +=
          "<span class=\"key\"><svg class=\"key\" width=\"44\" height=\"18\" "
          "aria-hidden=\"true\">" +
          sample + "</svg> " + Escape(text) + "</span>";
    };
    for (const ChartLine& l : spec_.lines) {
      key("<line class=\"line " + Escape(l.css) + "\" x1=\"3\" y1=\"9\" x2=\"41\" y2=\"9\"/>",
          l.name);
    }
    for (const ChartFit& f : spec_.fits) {
      if (!Finite(f.slope)) continue;
      key("<rect class=\"band " + Escape(f.css) +
              "\" x=\"1\" y=\"2\" width=\"42\" height=\"14\"/><line class=\"fit " + Escape(f.css) +
              "\" x1=\"1\" y1=\"9\" x2=\"43\" y2=\"9\"/>",
          f.name + " " + FormatSlope(f.slope));
    }
    for (const ChartFloor& f : spec_.floors) {
      key("<line class=\"floor " + Escape(f.css) + "\" x1=\"3\" y1=\"9\" x2=\"41\" y2=\"9\"/>",
          f.name);
    }
    std::set<std::string> kinds;
    for (const ChartMarker& m : spec_.markers) kinds.insert(m.kind);
    for (const std::string& k : kinds) {
      key("<line class=\"event " + MarkerClass(k) + "\" x1=\"22\" y1=\"1\" x2=\"22\" y2=\"17\"/>",
          k == "exit"    ? "server exited"
          : k == "shift" ? "level shift"
                         : k);
    }
    if (!spec_.spans.empty()) {
      key("<rect class=\"load\" x=\"1\" y=\"1\" width=\"42\" height=\"16\" stroke=\"#99a\"/>",
          spec_.spans.front().label);
    }
    return out;
  }

  const ChartSpec& spec_;
  double t_min_ = 0, t_max_ = 1;
  double y_lo_ = 0, y_hi_ = 1, step_ = 1;
};

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target, bool time) {
  std::vector<double> out;
  if (!Finite(lo) || !Finite(hi) || hi < lo || target < 1) return out;
  const double range = hi > lo ? hi - lo : std::max(std::fabs(hi), 1.0);
  const double step = time ? NiceTimeStep(range / target) : NiceStep(range / target);
  for (double v : StepValues(std::ceil(lo / step) * step, hi, step))
    out.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return out;
}

std::string RenderChart(const ChartSpec& spec) { return Chart(spec).Render(); }

std::string RenderSparkline(const std::vector<double>& t, const std::vector<double>& v,
                            const std::string& css, int width, int height) {
  std::string svg = "<svg class=\"spark\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" aria-hidden=\"true\">";
  double t_min = INFINITY, t_max = -INFINITY, hi = 0, lo = 0;
  for (size_t i = 0; i < t.size() && i < v.size(); ++i) {
    if (!Finite(t[i]) || !Finite(v[i])) continue;
    t_min = std::min(t_min, t[i]);
    t_max = std::max(t_max, t[i]);
    hi = std::max(hi, v[i]);
    lo = std::min(lo, v[i]);
  }
  if (t_max > t_min && hi > lo) {
    const std::vector<Point> points =
        MinMaxPerColumn(t, v, t_min, t_max, static_cast<size_t>(width));
    std::string d;
    bool pen_down = false;
    for (const Point& p : points) {
      if (!Finite(p.v)) {
        pen_down = false;
        continue;
      }
      const double x = 1 + (p.t - t_min) / (t_max - t_min) * (width - 2);
      const double y = height - 2 - (p.v - lo) / (hi - lo) * (height - 4);
      d += (pen_down ? "L" : "M") + Fixed(x) + " " + Fixed(y);
      pen_down = true;
    }
    svg += "<path class=\"line " + Escape(css) + "\" style=\"stroke-width:2\" d=\"" + d + "\"/>";
  }
  return svg + "</svg>";
}

}  // namespace leaklab::report
