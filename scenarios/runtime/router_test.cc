#include "scenarios/runtime/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "scenarios/runtime/memstats.h"
#include "scenarios/runtime/worker_registry.h"

namespace leaklab::runtime {
namespace {

class EchoScenario : public Scenario {
 public:
  Response Handle(const Request& r) override {
    if (r.path == "/boom") throw std::runtime_error("kaput");
    return {200, "text/plain",
            std::string(r.path) + "|" + std::string(r.QueryParam("id").value_or("-"))};
  }
};

Request Get(std::string_view path, std::string_view query = "") {
  Request r;
  r.method = "GET";
  r.path = path;
  r.query = query;
  return r;
}

TEST(Router, HealthzAnswersOk) {
  EchoScenario s;
  Router router(s);
  Response r = router.Handle(Get("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST(Router, BusinessRequestsAreCountedDebugOnesAreNot) {
  EchoScenario s;
  Router router(s);
  uint64_t before = Counters().requests_total.load();
  EXPECT_EQ(router.Handle(Get("/track", "a=1&id=42")).body, "/track|42");
  router.Handle(Get("/healthz"));
  router.Handle(Get("/metrics"));
  EXPECT_EQ(Counters().requests_total.load(), before + 1);
}

TEST(Router, MetricsIsPrometheusText) {
  EchoScenario s;
  Router router(s);
  Response r = router.Handle(Get("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(
      r.body.find("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "),
      std::string::npos);
  EXPECT_NE(r.body.find("leaklab_heap_inuse_bytes "), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE leaklab_requests_total counter"), std::string::npos);
}

TEST(Router, MemstatsReportsAllocatorAndRss) {
  EchoScenario s;
  Router router(s);
  Response r = router.Handle(Get("/debug/memstats"));
  EXPECT_EQ(r.content_type, "application/json");
  for (const char* field :
       {"\"heap_inuse_bytes\":", "\"heap_free_bytes\":", "\"heap_mmapped_bytes\":",
        "\"live_bytes\":", "\"workers\":", "\"requests_total\":", "\"rss_bytes\":"}) {
    EXPECT_NE(r.body.find(field), std::string::npos) << field;
  }
  MemStats m = TakeMemStats();
  EXPECT_GT(m.rss_bytes, 0);
#if !defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer brings its own malloc, for which glibc's mallinfo2 reports zeros.
  EXPECT_GT(m.heap_inuse_bytes, 0);
#endif
}

TEST(Router, UnknownDebugPathIs404AndWrongMethodIs405) {
  EchoScenario s;
  Router router(s);
  EXPECT_EQ(router.Handle(Get("/debug/nope")).status, 404);
  Request post = Get("/healthz");
  post.method = "POST";
  EXPECT_EQ(router.Handle(post).status, 405);
}

TEST(Router, ScenarioExceptionBecomes500) {
  EchoScenario s;
  Router router(s);
  Response r = router.Handle(Get("/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("kaput"), std::string::npos);
}

TEST(Request, QueryParam) {
  Request r = Get("/", "a=1&b=&c&d=x=y");
  EXPECT_EQ(r.QueryParam("a"), "1");
  EXPECT_EQ(r.QueryParam("b"), "");
  EXPECT_EQ(r.QueryParam("c"), "");
  EXPECT_EQ(r.QueryParam("d"), "x=y");
  EXPECT_FALSE(r.QueryParam("e").has_value());
}

}  // namespace
}  // namespace leaklab::runtime

namespace leaklab::runtime {
namespace {

TEST(WorkerRegistry, CountsAndGroupsBySpawnSiteAndWaitPoint) {
  int64_t before = WorkerRegistry::Global().Count();
  {
    WorkerScope a("Discovery::Reload"), b("Discovery::Reload"), c("Janitor::Run");
    a.WaitingAt("SharedConnection::AcquireStream");
    b.WaitingAt("SharedConnection::AcquireStream");
    EXPECT_EQ(WorkerRegistry::Global().Count(), before + 3);
    auto groups = WorkerRegistry::Global().Groups();
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups.front().spawn_site, "Discovery::Reload");
    EXPECT_EQ(groups.front().wait_point, "SharedConnection::AcquireStream");
    EXPECT_EQ(groups.front().count, 2);

    EchoScenario s;
    Router router(s);
    Response r = router.Handle(Get("/debug/workers"));
    EXPECT_NE(r.body.find("{\"spawn_site\":\"Discovery::Reload\",\"wait_point\":\"SharedConnection:"
                          ":AcquireStream\","
                          "\"count\":2}"),
              std::string::npos)
        << r.body;
    EXPECT_NE(router.Handle(Get("/debug/memstats"))
                  .body.find("\"workers\":" + std::to_string(before + 3)),
              std::string::npos);
  }
  EXPECT_EQ(WorkerRegistry::Global().Count(), before);
}

TEST(Router, ReleaseAsksTheScenarioToo) {
  struct Releasing : EchoScenario {
    void ReleaseMemory() override { ++released; }
    int released = 0;
  } s;
  Router router(s);
  Response r = router.Handle(Get("/debug/release"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("rss_after_bytes"), std::string::npos);
  EXPECT_EQ(s.released, 1);
}

}  // namespace
}  // namespace leaklab::runtime
