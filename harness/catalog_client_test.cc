#include "harness/catalog_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace leaklab::harness {
namespace {

// One scenario as `leaklab-scenario --list --json` prints it: a variant with
// a check (a run length and bounds per unit of work), one with a run length
// only, and one from an older server with neither, nor an expected verdict.
constexpr const char* kCatalog = R"({"scenarios":[{"name":"s","description":"d","variants":[
    {"name":"leaky","description":"l","expected_verdict":"leak","check":{"duration":"6s",
      "work":{"counter":"requests_total","min_bytes_per_unit":9500,"max_bytes_per_unit":11500}}},
    {"name":"fixed","description":"f","expected_verdict":"no-leak","check":{"duration":""}},
    {"name":"old","description":"o"}],
  "load":{"path_template":"/","connections":4,"schedule":"steady 10s at 1000/s"}}]})";

TEST(ParseCatalogJson, ReadsEachVariantsCheck) {
  const std::vector<ScenarioEntry> catalog = ParseCatalogJson(kCatalog);
  ASSERT_EQ(catalog.size(), 1u);
  ASSERT_EQ(catalog[0].variants.size(), 3u);
  const ScenarioEntry::Variant& leaky = catalog[0].variants[0];
  EXPECT_EQ(leaky.expected_verdict, "leak");
  EXPECT_EQ(leaky.check.duration, "6s");
  EXPECT_EQ(leaky.check.counter, "requests_total");
  EXPECT_EQ(leaky.check.min_bytes_per_unit, 9500);
  EXPECT_EQ(leaky.check.max_bytes_per_unit, 11500);
  const ScenarioEntry::Variant& fixed = catalog[0].variants[1];
  EXPECT_EQ(fixed.expected_verdict, "no-leak");
  EXPECT_EQ(fixed.check.duration, "");
  EXPECT_EQ(fixed.check.max_bytes_per_unit, 0);
  const ScenarioEntry::Variant& old = catalog[0].variants[2];
  EXPECT_EQ(old.expected_verdict, "");
  EXPECT_EQ(old.check.duration, "");
  EXPECT_EQ(old.check.max_bytes_per_unit, 0);
}

TEST(ParseCatalogJson, NamesTheScenarioOfABadSchedule) {
  std::string text = kCatalog;
  text.replace(text.find("steady 10s"), 10, "steady ten");
  try {
    ParseCatalogJson(text);
    FAIL() << "accepted a bad schedule";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("scenario s: schedule"), std::string::npos) << e.what();
  }
}

// A variant may bring its own load (a "fix" that only makes reloads rarer);
// the others, and unknown names, follow the scenario's.
TEST(ParseCatalogJson, AVariantsOwnScheduleReplacesTheScenarios) {
  std::string text = kCatalog;
  text.replace(text.find(R"({"name":"old","description":"o"})"), 32,
               R"({"name":"old","description":"o","schedule":"steady 13s at 50/s; )"
               R"(event reload POST /reload at 500ms every 4s"})");
  const std::vector<ScenarioEntry> catalog = ParseCatalogJson(text);
  ASSERT_EQ(catalog.size(), 1u);
  const ScenarioEntry& s = catalog[0];
  ASSERT_TRUE(s.variants[2].schedule.has_value());
  EXPECT_EQ(s.ScheduleOf("old").PhasesDuration(), std::chrono::seconds(13));
  EXPECT_EQ(s.ScheduleOf("old").events.size(), 1u);
  EXPECT_EQ(s.ScheduleOf("leaky").PhasesDuration(), std::chrono::seconds(10));
  EXPECT_EQ(s.ScheduleOf("nonesuch").PhasesDuration(), std::chrono::seconds(10));

  text.replace(text.find("steady 13s"), 10, "steady 13x");
  try {
    ParseCatalogJson(text);
    FAIL() << "accepted a bad schedule";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("scenario s, variant old: schedule"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace leaklab::harness
