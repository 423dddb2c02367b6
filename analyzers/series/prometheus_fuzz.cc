// libFuzzer target: the Prometheus query_range reader (`ci/fuzz
// prometheus_fuzz SECONDS`): an engine's export, read by `leaklab analyze
// export.json`. Refused with InputError naming the field, or series the
// analysis can rely on.

#include <cstdint>
#include <string_view>

#include "analyzers/series/prometheus.h"
#include "analyzers/series/series_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::series;
  try {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    for (const Series& s : ParsePrometheusQueryRange(json, "export.json")) CheckAcceptedSeries(s);
  } catch (const InputError&) {
  }
  return 0;
}
