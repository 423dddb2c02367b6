// libFuzzer target: the two readers of a results folder's manifest.json
// (`ci/fuzz manifest_fuzz SECONDS`): the verdict's (how the run ended, its
// memory limit, where the heap column came from) and the report's (its rows
// and title). `leaklab analyze DIR` and `leaklab report DIR` read them from
// any folder a user points at.

#include <cstdint>
#include <string>

#include "analyzers/verdict/folder.h"
#include "report/report.h"
#include "report/run_data.h"

namespace {

using namespace leaklab;

// Verdicts the end of a run qualifies: none, and one with a predicted
// exhaustion that an out-of-memory kill dates.
verdict::Verdict NoLeak() {
  verdict::Verdict v;
  v.kind = verdict::Kind::kNoLeak;
  return v;
}

verdict::Verdict LeakWithExhaustion() {
  verdict::Verdict v;
  v.kind = verdict::Kind::kLeak;
  v.exhaustion.emplace();
  v.exhaustion->predicted_t_s = 20;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const verdict::ManifestFacts facts = verdict::ParseManifestFacts(text, "manifest.json");
    for (verdict::Verdict v : {NoLeak(), LeakWithExhaustion()}) verdict::JudgeRunEnd(&facts, v);
  } catch (const InputError&) {
  }
  try {
    report::RunData d;
    report::ReadManifestInto(d, text, "manifest.json");
  } catch (const InputError&) {
  }
  return 0;
}
