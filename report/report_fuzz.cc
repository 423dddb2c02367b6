// libFuzzer target: the report over any series the CSV reader accepts
// (`ci/fuzz report_fuzz SECONDS`), as `leaklab analyze FILE --out DIR` makes
// it: the series is analyzed, the verdict written as verdict.json and read
// back, and the page rendered with its charts. Bounded time and memory for
// any accepted series, whatever its values (issue 13 found a chart loop that
// never ended on values of ±1.7e308).

#include <cstdint>
#include <string_view>

#include "analyzers/series/series.h"
#include "analyzers/series/series_fuzz_check.h"
#include "analyzers/verdict/verdict.h"
#include "report/report.h"
#include "report/report_fuzz_check.h"
#include "report/run_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab;
  series::Series s;
  try {
    s = series::ParseSeriesCsv(std::string_view(reinterpret_cast<const char*>(data), size),
                               "series.csv");
  } catch (const InputError&) {
    return 0;
  }
  series::CheckAcceptedSeries(s);
  const verdict::Verdict v = verdict::AnalyzeSeries(s, {});
  report::RunData d;
  d.title = "fuzz";
  report::AdoptSeries(d, std::move(s));
  d.verdict = report::ParseVerdictJson(verdict::VerdictToJson(v), "verdict.json");
  report::CheckRenderedReport(report::RenderReport(d));
  return 0;
}
