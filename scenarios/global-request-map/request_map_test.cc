#include "scenarios/global-request-map/request_map.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "scenarios/runtime/router.h"

namespace leaklab::scenarios {
namespace {

using request_map::ParsedRequest;
using request_map::RequestContext;

TEST(RequestContext, SetGetClear) {
  RequestContext context;
  auto r = std::make_shared<ParsedRequest>();
  context.Set(r, "session", "abc");
  ASSERT_NE(context.Get(r.get(), "session"), nullptr);
  EXPECT_EQ(*context.Get(r.get(), "session"), "abc");
  EXPECT_EQ(context.Get(r.get(), "other"), nullptr);
  context.Clear(r.get());
  EXPECT_EQ(context.Get(r.get(), "session"), nullptr);
  EXPECT_EQ(context.size(), 0u);
}

TEST(RequestContext, KeepsTheRequestAliveUntilCleared) {
  RequestContext context;
  std::weak_ptr<ParsedRequest> weak;
  const ParsedRequest* key = nullptr;
  {
    auto r = std::make_shared<ParsedRequest>();
    r->headers.emplace_back("Cookie", std::string(500, 'c'));
    context.Set(r, "session", "s");
    weak = r;
    key = r.get();
  }
  EXPECT_FALSE(weak.expired()) << "the map must pin the request, as Go's map key did";
  context.Clear(key);
  EXPECT_TRUE(weak.expired());
}

class ScenarioFixture : public ::testing::Test {
 protected:
  // Sends requests id = 0..n-1 through the scenario and returns the number of 500s.
  int Drive(runtime::Scenario& scenario, int n) {
    runtime::Header headers[] = {{"Cookie", "session=xyz"}, {"Accept", "*/*"}};
    int errors = 0;
    for (int i = 0; i < n; ++i) {
      std::string query = "id=" + std::to_string(i);
      runtime::Request r;
      r.method = "GET";
      r.path = "/page";
      r.query = query;
      r.headers = headers;
      runtime::Router router(scenario);
      if (router.Handle(r).status == 500) ++errors;
    }
    return errors;
  }
};

TEST_F(ScenarioFixture, LeakyKeepsEveryRequestFixedKeepsNoneEvenOnErrors) {
  request_map::App leaky(/*clear_context=*/false);
  request_map::App fixed(/*clear_context=*/true);
  // One request in 50 takes the error path (the handler throws).
  EXPECT_EQ(Drive(leaky, 200), 4);
  EXPECT_EQ(Drive(fixed, 200), 4);
  EXPECT_EQ(leaky.context().size(), 200u);
  EXPECT_EQ(fixed.context().size(), 0u);
}

TEST(GlobalRequestMapInfo, VariantsAndDefaults) {
  runtime::ScenarioInfo info = GlobalRequestMapInfo();
  ASSERT_EQ(info.variants.size(), 2u);
  EXPECT_EQ(info.variants[0].name, "leaky");
  EXPECT_EQ(info.variants[1].name, "fixed");
  EXPECT_FALSE(info.load.headers.empty());
  EXPECT_NE(info.create("leaky"), nullptr);
}

}  // namespace
}  // namespace leaklab::scenarios
