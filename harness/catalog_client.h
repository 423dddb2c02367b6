#ifndef LEAKLAB_HARNESS_CATALOG_CLIENT_H_
#define LEAKLAB_HARNESS_CATALOG_CLIENT_H_

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/loadgen.h"

namespace leaklab::harness {

// What the harness knows of a scenario: read from `leaklab-scenario --list
// --json`, because the harness never links scenario code.
struct ScenarioEntry {
  // What the scenario verdict test checks of a short run of a variant, as
  // scenarios/runtime/scenario.h's VariantCheck says; all empty and zero in
  // a catalog that gives none.
  struct Check {
    std::string duration = {};  // "6s"; empty: the test's default
    std::string counter = {};   // empty: any work counter
    double min_bytes_per_unit = 0;
    double max_bytes_per_unit = 0;  // 0: bytes per unit are not checked
  };
  struct Variant {
    std::string name, description;
    std::string expected_verdict = {};  // from the catalog; empty when it gives none
    Check check = {};
    // The variant's own load, when it has one (else the scenario's).
    std::optional<loadgen::Schedule> schedule = {};
  };
  std::string name, description;
  std::vector<Variant> variants;  // the first is the default
  std::string path_template;
  std::vector<std::string> headers;
  int connections = 4;  // 0 = no background load
  // The scenario's default load: phases and event requests (reloads, bursts).
  loadgen::Schedule schedule;

  bool HasVariant(const std::string& v) const;
  // The variant named `v`, or nullptr.
  const Variant* FindVariant(const std::string& v) const;
  // The load a default run of variant `v` follows: its own, else the
  // scenario's.
  const loadgen::Schedule& ScheduleOf(const std::string& v) const;
};

// Parses the --list --json document; throws std::runtime_error on bad JSON
// or a schedule the load generator cannot run (naming the scenario).
std::vector<ScenarioEntry> ParseCatalogJson(const std::string& text);

// Runs `scenario_binary --list --json` and parses it.
std::vector<ScenarioEntry> LoadCatalog(const std::filesystem::path& scenario_binary);

// leaklab-scenario beside the running executable (they are built together).
std::filesystem::path DefaultScenarioBinary();

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_CATALOG_CLIENT_H_
