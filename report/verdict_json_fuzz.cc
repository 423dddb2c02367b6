// libFuzzer target: the report's verdict.json reader (`ci/fuzz
// verdict_json_fuzz SECONDS`) and the tables drawn from it. `leaklab report
// DIR` reads the verdict.json of any folder: refused with ReportError naming
// the field, or rendered with everything it holds escaped.

#include <cstdint>
#include <string>

#include "report/report.h"
#include "report/report_fuzz_check.h"
#include "report/run_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::report;
  RunData d = SmallRun();
  try {
    d.verdict =
        ParseVerdictJson(std::string(reinterpret_cast<const char*>(data), size), "verdict.json");
  } catch (const ReportError&) {
    return 0;
  }
  CheckRenderedReport(RenderReport(d));
  return 0;
}
