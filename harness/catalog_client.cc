#include "harness/catalog_client.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "harness/child_process.h"

namespace leaklab::harness {

namespace json = boost::json;

bool ScenarioEntry::HasVariant(const std::string& v) const { return FindVariant(v) != nullptr; }

const ScenarioEntry::Variant* ScenarioEntry::FindVariant(const std::string& v) const {
  for (const auto& variant : variants) {
    if (variant.name == v) return &variant;
  }
  return nullptr;
}

const loadgen::Schedule& ScenarioEntry::ScheduleOf(const std::string& v) const {
  const Variant* variant = FindVariant(v);
  return variant != nullptr && variant->schedule ? *variant->schedule : schedule;
}

namespace {

// expected_verdict and check are optional: a catalog from an older server
// has neither.
// A schedule from the catalog, checked as the load generator would run it;
// `what` names it in the error ("scenario X", "scenario X, variant Y").
loadgen::Schedule ParseCatalogSchedule(const std::string& text, const std::string& what) {
  loadgen::Schedule schedule;
  try {
    schedule = loadgen::ParseSchedule(text);
  } catch (const std::invalid_argument& bad) {
    throw std::runtime_error(what + ": schedule '" + text + "': " + bad.what());
  }
  if (schedule.phases.empty()) {
    throw std::runtime_error(what + ": schedule '" + text + "' has no phases, so no length");
  }
  return schedule;
}

ScenarioEntry::Variant ParseVariant(const json::object& v, const std::string& scenario) {
  ScenarioEntry::Variant out{json::value_to<std::string>(v.at("name")),
                             json::value_to<std::string>(v.at("description"))};
  if (const json::value* schedule = v.if_contains("schedule")) {
    out.schedule = ParseCatalogSchedule(json::value_to<std::string>(*schedule),
                                        "scenario " + scenario + ", variant " + out.name);
  }
  if (const json::value* expected = v.if_contains("expected_verdict")) {
    out.expected_verdict = json::value_to<std::string>(*expected);
  }
  const json::value* check = v.if_contains("check");
  if (check == nullptr) return out;
  if (const json::value* duration = check->as_object().if_contains("duration")) {
    out.check.duration = json::value_to<std::string>(*duration);
  }
  if (const json::value* work = check->as_object().if_contains("work")) {
    out.check.counter = json::value_to<std::string>(work->at("counter"));
    out.check.min_bytes_per_unit = work->at("min_bytes_per_unit").to_number<double>();
    out.check.max_bytes_per_unit = work->at("max_bytes_per_unit").to_number<double>();
  }
  return out;
}

}  // namespace

std::vector<ScenarioEntry> ParseCatalogJson(const std::string& text) {
  std::vector<ScenarioEntry> out;
  try {
    json::value doc = json::parse(text);
    for (const json::value& s : doc.at("scenarios").as_array()) {
      ScenarioEntry e;
      e.name = json::value_to<std::string>(s.at("name"));
      e.description = json::value_to<std::string>(s.at("description"));
      for (const json::value& v : s.at("variants").as_array()) {
        e.variants.push_back(ParseVariant(v.as_object(), e.name));
      }
      const json::object& load = s.at("load").as_object();
      e.path_template = json::value_to<std::string>(load.at("path_template"));
      e.connections = json::value_to<int>(load.at("connections"));
      // Optional: a scenario without headers may leave them out.
      static const json::array kNone;
      const json::value* headers = load.if_contains("headers");
      for (const json::value& h : headers ? headers->as_array() : kNone) {
        e.headers.push_back(json::value_to<std::string>(h));
      }
      e.schedule = ParseCatalogSchedule(json::value_to<std::string>(load.at("schedule")),
                                        "scenario " + e.name);
      if (e.variants.empty()) throw std::runtime_error("scenario " + e.name + " has no variants");
      out.push_back(std::move(e));
    }
  } catch (const std::exception& ex) {
    throw std::runtime_error(
        std::string("bad scenario catalog from leaklab-scenario --list --json: ") + ex.what());
  }
  return out;
}

std::vector<ScenarioEntry> LoadCatalog(const std::filesystem::path& scenario_binary) {
  if (!std::filesystem::exists(scenario_binary)) {
    throw std::runtime_error("scenario server binary not found: " + scenario_binary.string());
  }
  ChildProcess child(scenario_binary, {"--list", "--json"}, "/dev/null");
  // The catalog is one JSON line; a few seconds is ample even on a busy machine.
  auto line = child.ReadFirstLine(std::chrono::seconds(10), 1 << 20);
  child.Stop(std::chrono::seconds(2));
  if (!line) throw std::runtime_error(scenario_binary.string() + " --list --json printed nothing");
  return ParseCatalogJson(*line);
}

std::filesystem::path DefaultScenarioBinary() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "leaklab-scenario";
  return self.parent_path() / "leaklab-scenario";
}

}  // namespace leaklab::harness
