// libFuzzer target: the Series CSV reader (`ci/fuzz series_csv_fuzz
// SECONDS`). Any bytes either are refused with InputError naming the line,
// or give a series the analysis can rely on (CheckAcceptedSeries).

#include <cstdint>
#include <string_view>

#include "analyzers/series/series.h"
#include "analyzers/series/series_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::series;
  try {
    const Series s =
        ParseSeriesCsv(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    CheckAcceptedSeries(s);
  } catch (const InputError&) {
  }
  return 0;
}
