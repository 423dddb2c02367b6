// libFuzzer target: the report's events.csv reader (`ci/fuzz events_csv_fuzz
// SECONDS`), and the event marks it draws on the chart.

#include <cstdint>
#include <string>

#include "report/report.h"
#include "report/report_fuzz_check.h"
#include "report/run_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::report;
  RunData d = SmallRun();
  try {
    d.events = ParseEventsCsv(std::string(reinterpret_cast<const char*>(data), size), "events.csv");
  } catch (const ReportError&) {
    return 0;
  }
  CheckRenderedReport(RenderReport(d));
  return 0;
}
