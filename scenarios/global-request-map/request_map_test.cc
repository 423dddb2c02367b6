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
  request_map::App leaky({.clear_context = false});
  request_map::App fixed({.clear_context = true});
  // One request in 50 takes the error path (the handler throws).
  EXPECT_EQ(Drive(leaky, 200), 4);
  EXPECT_EQ(Drive(fixed, 200), 4);
  EXPECT_EQ(leaky.context().size(), 200u);
  EXPECT_EQ(fixed.context().size(), 0u);
}

TEST_F(ScenarioFixture, OnlineUsersAreBoundedByUsersAndDroppingThemKeepsTheLeak) {
  // Ids cycle over 500 users: 1,200 requests touch each user two or three
  // times, and the map holds each user once.
  request_map::App leaky({.clear_context = false});
  request_map::App fixed({.clear_context = true});
  request_map::App dropped({.clear_context = false, .track_online_users = false});
  Drive(leaky, 1'200);
  Drive(fixed, 1'200);
  Drive(dropped, 1'200);
  EXPECT_EQ(leaky.online_users(), 500u);
  EXPECT_EQ(fixed.online_users(), 500u);
  EXPECT_EQ(dropped.online_users(), 0u);
  // The wrong fix: the look-alike is gone, every request's entry still stays.
  EXPECT_EQ(dropped.context().size(), 1'200u);
  EXPECT_EQ(fixed.context().size(), 0u);
}

TEST(RequestContext, SetReplacesAValue) {
  RequestContext context;
  auto r = std::make_shared<ParsedRequest>();
  context.Set(r, "session", std::string(100, 'a'));
  context.Set(r, "session", "b");
  ASSERT_NE(context.Get(r.get(), "session"), nullptr);
  EXPECT_EQ(*context.Get(r.get(), "session"), "b");
  EXPECT_EQ(context.size(), 1u);
}

TEST(GlobalRequestMapInfo, VariantsAndDefaults) {
  runtime::ScenarioInfo info = GlobalRequestMapInfo();
  ASSERT_EQ(info.variants.size(), 3u);
  EXPECT_EQ(info.variants[0].name, "leaky");
  EXPECT_EQ(info.variants[1].name, "fixed");
  EXPECT_EQ(info.variants[2].name, "drop-online-users");
  EXPECT_EQ(info.variants[2].expected_verdict, "leak");
  EXPECT_FALSE(info.load.headers.empty());
  for (const auto& v : info.variants) EXPECT_NE(info.create(v.name), nullptr) << v.name;
}

}  // namespace
}  // namespace leaklab::scenarios
