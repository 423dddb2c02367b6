#ifndef LEAKLAB_REPORT_SVG_CHART_H_
#define LEAKLAB_REPORT_SVG_CHART_H_

// One time-series chart as inline SVG, with its legend: the lines of a
// series, the fitted trend with the confidence band of its slope, a floor,
// events and the load phase. Written by hand; no chart library.

#include <cstddef>
#include <string>
#include <vector>

namespace leaklab::report {

// The plot area is this many SVG user units wide, and each line is reduced
// to at most two points per unit (report/downsample.h): whatever the run's
// length, a line costs at most ~2 x 1000 points, about 30 KB of path data.
inline constexpr size_t kPlotColumns = 1000;

struct ChartLine {
  std::string name;  // legend text, e.g. "RSS"
  std::string css;   // colour class, e.g. "c-rss"
  const std::vector<double>* t = nullptr;
  const std::vector<double>* v = nullptr;
};

// A fitted straight line over the analysed window, and the band between the
// lines of the slope's confidence bounds, pivoting on the anchor point.
struct ChartFit {
  std::string name, css;
  double t_begin = 0, t_end = 0;
  double t_anchor = 0, v_anchor = 0;
  double slope = 0;
  double slope_low = 0, slope_high = 0;  // NaN or infinite: no band drawn
};

struct ChartFloor {
  std::string name, css;
  std::vector<double> t, v;
};

struct ChartMarker {
  double t = 0;
  std::string kind;   // "reload", "burst", "exit", "shift", anything else
  std::string label;  // tooltip
};

struct ChartSpan {
  double t_begin = 0, t_end = 0;
  std::string label;
};

struct ChartHLine {
  double v = 0;
  std::string label, css;
};

struct ChartSpec {
  std::string id;  // unique in the page; used for ids and the clip path
  std::string title;
  bool bytes = true;  // the y axis shows bytes (else a count)
  double t_min = 0, t_max = 1;
  std::vector<ChartLine> lines;
  std::vector<ChartFit> fits;
  std::vector<ChartFloor> floors;
  std::vector<ChartMarker> markers;
  std::vector<ChartSpan> spans;
  std::vector<ChartHLine> hlines;
};

// A <figure> holding a caption with the legend, and the <svg>. Every text is
// escaped. Lines without a finite value are left out of the chart.
std::string RenderChart(const ChartSpec& spec);

// "Nice" tick positions covering [lo, hi]: multiples of 1, 2 or 5 x 10^k,
// about `target` of them. Times use steps people count in (seconds, minutes,
// hours, days) when `time` is set.
std::vector<double> NiceTicks(double lo, double hi, int target, bool time);

// A small sparkline (polyline of one series) for the index page.
std::string RenderSparkline(const std::vector<double>& t, const std::vector<double>& v,
                            const std::string& css, int width, int height);

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_SVG_CHART_H_
