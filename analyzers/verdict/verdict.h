#ifndef LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_
#define LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_

// One verdict from the evidence: leak / no-leak / lazy-release / inconclusive
// (shared/DESIGN.md, "Verdicts"), with the evidence and a plain explanation.

#include <optional>
#include <string>
#include <vector>

#include "analyzers/series/growth.h"
#include "analyzers/series/series.h"

namespace leaklab::verdict {

inline constexpr int kVerdictSchemaVersion = 1;

enum class Kind { kLeak, kNoLeak, kLazyRelease, kInconclusive };
const char* KindName(Kind kind);  // "leak", "no-leak", ...
// Parses a verdict name; nullopt for anything else.
std::optional<Kind> ParseKind(std::string_view name);

// Growth of the memory signal explained by a work counter.
struct WorkExplanation {
  std::string counter;       // "requests_total", ...
  std::string unit;          // "request", "key", "reload"
  double bytes_per_unit = 0; // Theil-Sen slope of memory against the counter
  double r_squared = 0;      // of the least-squares fit: how well the counter explains it
  double units = 0;          // counter increase over the window
};

struct Verdict {
  Kind kind = Kind::kInconclusive;
  std::string source;
  std::vector<series::GrowthEvidence> signals;
  std::vector<WorkExplanation> work;  // best explanation first
  std::string explanation;            // one paragraph, plain words
  std::vector<std::string> missing;   // for inconclusive: what would decide it
};

struct AnalyzeOptions {
  series::GrowthOptions growth;
};

// Decides from a series alone. Never throws for odd data: too little, constant
// or disordered data gives kInconclusive with the reason.
Verdict AnalyzeSeries(const series::Series& series, const AnalyzeOptions& options);

// verdict.json: schema_version, verdict, evidence, explanation.
std::string VerdictToJson(const Verdict& verdict);
// A few lines for a terminal.
std::string VerdictSummary(const Verdict& verdict);

}  // namespace leaklab::verdict

#endif  // LEAKLAB_ANALYZERS_VERDICT_VERDICT_H_
