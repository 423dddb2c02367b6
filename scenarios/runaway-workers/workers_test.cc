#include "scenarios/runaway-workers/workers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "scenarios/runtime/worker_registry.h"

namespace leaklab::scenarios::runaway_workers {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

int64_t RegisteredWatchers(const char* wait_point = nullptr) {
  int64_t n = 0;
  for (const auto& g : runtime::WorkerRegistry::Global().Groups()) {
    if (g.spawn_site == "Discovery::Reload" &&
        (wait_point == nullptr || g.wait_point == wait_point)) {
      n += g.count;
    }
  }
  return n;
}

// Polls the discovery thread until `done` holds or 5 s pass; returns the last
// snapshot. Workers start and unwind asynchronously, a little after a reload.
Discovery::Snapshot WaitFor(Discovery& d,
                            const std::function<bool(const Discovery::Snapshot&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Discovery::Snapshot s = d.TakeSnapshot();
  while (!done(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
    s = d.TakeSnapshot();
  }
  return s;
}

// Small generations and long watches: nothing gives a stream back during a test.
DiscoveryOptions SmallOptions(bool fixed) {
  DiscoveryOptions o;
  o.stop_previous_generation = fixed;
  o.watchers_per_kind = 10;  // 30 workers a generation
  o.max_streams = 50;
  o.watch_min = std::chrono::seconds(30);
  o.watch_spread = std::chrono::seconds(1);
  return o;
}

TEST(SharedConnectionTest, NeverGrantsMoreThanItsStreamsAndWakesInArrivalOrder) {
  asio::io_context io;
  SharedConnection connection(3);
  int in_use = 0, max_in_use = 0;
  std::vector<int> granted;
  for (int i = 0; i < 10; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          asio::steady_timer timer(io);
          bool ok = co_await connection.AcquireStream(timer);
          EXPECT_TRUE(ok);
          granted.push_back(i);
          max_in_use = std::max(max_in_use, ++in_use);
          EXPECT_LE(connection.streams_in_use(), 3);
          // Hold the stream a moment, then give it back.
          timer.expires_after(milliseconds(1 + i % 3));
          co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          --in_use;
          connection.ReleaseStream();
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(max_in_use, 3);
  EXPECT_EQ(granted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(connection.streams_in_use(), 0);
  EXPECT_EQ(connection.waiting(), 0);
}

TEST(SharedConnectionTest, ACancelledWaiterLeavesTheQueueWithoutAStream) {
  asio::io_context io;
  SharedConnection connection(1);
  asio::steady_timer timer_a(io), timer_b(io), timer_c(io);
  std::vector<std::string> log;
  auto worker = [&](std::string name, asio::steady_timer& timer) -> asio::awaitable<void> {
    bool ok = co_await connection.AcquireStream(timer);
    log.push_back(name + (ok ? " got a stream" : " cancelled"));
    if (ok && name == "a") {
      // Hold until b and c are queued and b is cancelled, then give it back.
      timer.expires_after(milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (ok) connection.ReleaseStream();
  };
  asio::co_spawn(io, worker("a", timer_a), asio::detached);
  asio::co_spawn(io, worker("b", timer_b), asio::detached);
  asio::co_spawn(io, worker("c", timer_c), asio::detached);
  io.run_for(milliseconds(5));  // a holds the stream, b and c wait
  EXPECT_EQ(connection.waiting(), 2);
  timer_b.cancel();
  io.run();
  EXPECT_EQ(log, (std::vector<std::string>{"a got a stream", "b cancelled", "c got a stream"}));
  EXPECT_EQ(connection.streams_in_use(), 0);
  EXPECT_EQ(connection.waiting(), 0);
}

TEST(DiscoveryTest, LeakyKeepsEveryGeneration) {
  Discovery d(SmallOptions(/*fixed=*/false));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(d.Reload().has_value());
  // Generation 0 (startup) plus 4 reloads, 30 workers each; 50 streams.
  auto s = WaitFor(
      d, [](const auto& s) { return s.workers_live == 150 && s.waiting_for_stream == 100; });
  EXPECT_EQ(s.current_generation, 4);
  EXPECT_EQ(s.generations_live, 5);
  EXPECT_EQ(s.workers_live, 150);
  EXPECT_EQ(s.streams_in_use, 50);
  EXPECT_EQ(s.waiting_for_stream, 100);
  // The runtime sees them too, grouped by where they wait.
  EXPECT_EQ(RegisteredWatchers(), 150);
  EXPECT_EQ(RegisteredWatchers("SharedConnection::AcquireStream"), 100);
  EXPECT_EQ(RegisteredWatchers("SharedConnection::Watch"), 50);
}

TEST(DiscoveryTest, FixedKeepsExactlyOneGeneration) {
  Discovery d(SmallOptions(/*fixed=*/true));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(d.Reload().has_value());
  auto s = WaitFor(
      d, [](const auto& s) { return s.current_generation == 5 && s.generations_live == 1; });
  EXPECT_EQ(s.current_generation, 5);
  EXPECT_EQ(s.generations_live, 1);
  EXPECT_EQ(s.workers_live, 30);
  EXPECT_EQ(s.streams_in_use, 30);
  EXPECT_EQ(s.waiting_for_stream, 0);
  EXPECT_EQ(RegisteredWatchers(), 30);
  // The current generation got its streams at once: every watcher synced.
  const std::string all_synced =
      "{\"generation\":5,\"watchers_per_kind\":10,\"synced\":{\"pods\":10,\"services\":10,"
      "\"endpoints\":10}}\n";
  WaitFor(d, [&](const auto&) { return d.TargetsJson() == all_synced; });
  EXPECT_EQ(d.TargetsJson(), all_synced);
}

TEST(DiscoveryTest, FixedKeepsOneGenerationUnderConcurrentReloads) {
  Discovery d(SmallOptions(/*fixed=*/true));
  std::vector<std::thread> reloaders;
  for (int t = 0; t < 4; ++t) {
    reloaders.emplace_back([&d] {
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(d.Reload().has_value());
    });
  }
  for (auto& t : reloaders) t.join();
  auto s =
      WaitFor(d, [](const auto& s) { return s.generations_live == 1 && s.workers_live == 30; });
  EXPECT_EQ(s.current_generation, 20);
  EXPECT_EQ(s.generations_live, 1);
  EXPECT_EQ(s.workers_live, 30);
  EXPECT_EQ(s.streams_in_use, 30);
}

TEST(DiscoveryTest, DefaultSizesExhaustTheStreamsOnTheFirstReload) {
  Discovery d(DiscoveryOptions{});
  ASSERT_TRUE(d.Reload().has_value());
  // 2 x 600 workers for 1000 streams: the newest 200 queue.
  auto s = WaitFor(d, [](const auto& s) { return s.workers_live == 1200; });
  EXPECT_EQ(s.streams_in_use, 1000);
  EXPECT_EQ(s.waiting_for_stream, 200);
}

TEST(DiscoveryTest, ReloadsStopAtTheWorkerLimit) {
  DiscoveryOptions o = SmallOptions(/*fixed=*/false);
  o.max_workers = 100;
  Discovery d(o);
  EXPECT_EQ(d.Reload(), 1);  // 60 workers
  EXPECT_EQ(d.Reload(), 2);  // 90
  EXPECT_EQ(d.Reload(), std::nullopt);
  auto s = WaitFor(d, [](const auto& s) { return s.workers_live == 90; });
  EXPECT_EQ(s.workers_live, 90);
}

TEST(DiscoveryTest, DestructorReturnsPromptlyWithWorkersWaiting) {
  const int64_t before = runtime::WorkerRegistry::Global().Count();
  auto start = std::chrono::steady_clock::now();
  {
    DiscoveryOptions o;  // default sizes: 600 a generation, 1000 streams
    Discovery d(o);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(d.Reload().has_value());
    auto s = WaitFor(d, [](const auto& s) { return s.workers_live == 3600; });
    ASSERT_EQ(s.waiting_for_stream, 2600);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  // Every worker unwound and unregistered.
  EXPECT_EQ(runtime::WorkerRegistry::Global().Count(), before);
}

TEST(RunawayWorkersScenarioTest, ReloadEndpointCountsReloads) {
  runtime::ScenarioInfo info = RunawayWorkersInfo();
  auto scenario = info.create("fixed");
  uint64_t before = runtime::Counters().reloads_total.load();
  runtime::Request reload;
  reload.method = "POST";
  reload.path = "/reload";
  runtime::Response r = scenario->Handle(reload);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "reloaded: generation 1 starting\n");
  EXPECT_EQ(runtime::Counters().reloads_total.load(), before + 1);
  runtime::Request targets;
  targets.method = "GET";
  targets.path = "/targets";
  EXPECT_EQ(scenario->Handle(targets).status, 200);
  targets.path = "/nope";
  EXPECT_EQ(scenario->Handle(targets).status, 404);
}

}  // namespace
}  // namespace leaklab::scenarios::runaway_workers
