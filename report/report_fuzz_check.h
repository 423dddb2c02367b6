#ifndef LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_
#define LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_

// What every rendered report must satisfy, for the report's fuzz targets:
// whatever the folder's files hold, the page stays one HTML document with no
// markup of theirs (everything from a file is escaped) and no script. Aborts,
// which libFuzzer reports as a finding, when it does not hold.

#include <cstdlib>
#include <string>

namespace leaklab::report {

inline void CheckRenderedReport(const std::string& html) {
  auto check = [](bool ok) {
    if (!ok) std::abort();
  };
  check(html.starts_with("<!DOCTYPE html>"));
  check(html.find("<script") == std::string::npos);
  // One document: the closing tag appears once, at the end.
  const size_t close = html.find("</html>");
  check(close != std::string::npos && close + 8 == html.size());
}

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_REPORT_FUZZ_CHECK_H_
