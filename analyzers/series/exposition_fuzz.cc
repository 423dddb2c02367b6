// libFuzzer target: the Prometheus text exposition reader (`ci/fuzz
// exposition_fuzz SECONDS`): what `leaklab watch --metrics` reads from a
// target's /metrics, which may be any program's.

#include <cstdint>
#include <string_view>

#include "analyzers/series/exposition.h"
#include "common/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leaklab::series;
  try {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const ExpositionSample& sample : ParseExposition(text, "metrics")) (void)sample;
  } catch (const leaklab::InputError&) {
  }
  return 0;
}
