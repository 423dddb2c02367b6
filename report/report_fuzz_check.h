#ifndef LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_
#define LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_

// What every rendered report must satisfy, for the report's fuzz targets:
// whatever the folder's files hold, the page stays one HTML document with no
// markup of theirs (everything from a file is escaped) and no script. Aborts,
// which libFuzzer reports as a finding, when it does not hold.

#include <string>

#include "common/fuzz_check.h"
#include "report/run_data.h"

namespace leaklab::report {

inline void CheckRenderedReport(const std::string& html) {
  FuzzCheck(html.starts_with("<!DOCTYPE html>"));
  FuzzCheck(html.find("<script") == std::string::npos);
  // One document: the closing tag appears once, at the end.
  const size_t close = html.find("</html>");
  FuzzCheck(close != std::string::npos && close + 8 == html.size());
}

// A run of three samples to draw the pieces a target read from a file
// beside (a verdict, events).
inline RunData SmallRun() {
  RunData d;
  d.title = "fuzz";
  d.series.t_s = {0, 1, 2};
  d.series.columns = {"rss_bytes"};
  d.series.values = {{1e6, 2e6, 3e6}};
  return d;
}

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_
