#include "scenarios/unbounded-cache/cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace leaklab::scenarios::unbounded_cache {
namespace {

using std::chrono::milliseconds;

// A clock the test moves by hand; safe to read from the janitor's thread.
class FakeClock {
 public:
  Clock::time_point Now() const { return Clock::time_point(milliseconds(now_ms_.load())); }
  void Advance(milliseconds d) { now_ms_ += d.count(); }
  NowFunction Function() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> now_ms_{1'000'000};
};

Records RecordsFor(std::string_view key) {
  Records records;
  for (const DataRow& row : Repo().Datas(key)) records.push_back(ToDomain(row));
  return records;
}

// Polls `done` for up to `limit`; the janitor runs on its own schedule.
template <typename F>
bool Eventually(F done, milliseconds limit = milliseconds(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return done();
}

TEST(Encoding, CachedAndFreshSummariesAgree) {
  Records records = RecordsFor("42");
  Summary fresh = SummarizeRecords(records);
  Summary cached = SummarizeEncoded(EncodeRecords(records));
  EXPECT_EQ(fresh.rows, 32u);
  EXPECT_EQ(cached.rows, fresh.rows);
  EXPECT_EQ(cached.checksum, fresh.checksum);
  EXPECT_NE(SummarizeRecords(RecordsFor("43")).checksum, fresh.checksum);
}

TEST(Encoding, CompactCopyIsAFewKilobytesAndSmallerThanTheDomainObjects) {
  Records records = RecordsFor("7");
  std::string blob = EncodeRecords(records);
  EXPECT_GT(blob.size(), 2'000u);
  EXPECT_LT(blob.size(), 4'000u);
  size_t domain_bytes = 0;
  for (const auto& r : records) {
    domain_bytes += sizeof(Record) + r->title.capacity() + r->summary.capacity() +
                    r->tag_ids.capacity() * sizeof(int32_t);
  }
  EXPECT_GT(domain_bytes, 3 * blob.size());
}

TEST(ExpiringCache, ExpiredEntryReadsAsMissingButStaysUntilDeleted) {
  FakeClock clock;
  ExpiringCache cache({milliseconds(1000), milliseconds(0), clock.Function()});
  EXPECT_TRUE(cache.Set("a", RecordsFor("a")));
  ASSERT_NE(cache.Get("a"), nullptr);
  const int64_t charged = cache.charged_bytes();
  EXPECT_GT(charged, 0);

  clock.Advance(milliseconds(999));
  EXPECT_NE(cache.Get("a"), nullptr);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(cache.Get("a"), nullptr);
  // Like go-cache: Get does not delete, so the entry still costs its bytes.
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.charged_bytes(), charged);
  // Setting it again refreshes it and is not a new key.
  EXPECT_FALSE(cache.Set("a", RecordsFor("a")));
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.charged_bytes(), charged);

  clock.Advance(milliseconds(1000));
  EXPECT_EQ(cache.DeleteExpired(), 1u);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.charged_bytes(), 0);
  EXPECT_TRUE(cache.Set("a", RecordsFor("a")));
}

TEST(ExpiringCache, WithoutJanitorNothingIsEverRemoved) {
  FakeClock clock;
  ExpiringCache cache({milliseconds(10), milliseconds(0), clock.Function()});
  for (int i = 0; i < 100; ++i) cache.Set(std::to_string(i), RecordsFor(std::to_string(i)));
  clock.Advance(milliseconds(60'000));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_EQ(cache.Get("0"), nullptr);
}

TEST(ExpiringCache, JanitorDeletesExpiredEntriesOnly) {
  FakeClock clock;
  ExpiringCache cache({milliseconds(1000), milliseconds(5), clock.Function()});
  cache.Set("old", RecordsFor("old"));
  clock.Advance(milliseconds(600));
  cache.Set("new", RecordsFor("new"));
  clock.Advance(milliseconds(600));  // "old" is 1.2 s old, "new" 0.6 s

  EXPECT_TRUE(Eventually([&] { return cache.size() == 1; }));
  EXPECT_EQ(cache.Get("old"), nullptr);
  EXPECT_NE(cache.Get("new"), nullptr);
  EXPECT_EQ(cache.charged_bytes(),
            EntryChargeBytes("new", CachedResult(EncodeRecords(RecordsFor("new")))));

  clock.Advance(milliseconds(600));
  EXPECT_TRUE(Eventually([&] { return cache.size() == 0; }));
  EXPECT_EQ(cache.charged_bytes(), 0);
}

TEST(ExpiringCache, DestructorStopsTheJanitorPromptly) {
  auto start = std::chrono::steady_clock::now();
  {
    ExpiringCache cache({milliseconds(1000), milliseconds(60'000)});
    cache.Set("a", RecordsFor("a"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
}

TEST(ExpiringCache, ConcurrentUseWithJanitorKeepsAccountsRight) {
  ExpiringCache cache({milliseconds(2), milliseconds(1)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 300; ++i) {
        std::string key = std::to_string(t * 1000 + i % 50);
        if (!cache.Get(key)) cache.Set(key, RecordsFor(key));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(Eventually([&] { return cache.size() == 0; }));
  EXPECT_EQ(cache.charged_bytes(), 0);
}

class LruCacheTest : public ::testing::Test {
 protected:
  // Entries differ in size by a few dozen bytes (titles and tag counts vary).
  static int64_t Charge(const std::string& key) {
    return EntryChargeBytes(key, CachedResult(EncodeRecords(RecordsFor(key))));
  }
};

TEST_F(LruCacheTest, NeverExceedsItsByteBound) {
  const int64_t bound = 10 * Charge("k10") + Charge("k10") / 2;
  LruCache cache(milliseconds(10'000'000), bound);
  for (int i = 10; i < 200; ++i) {
    std::string key = "k" + std::to_string(i);
    cache.Set(key, RecordsFor(key));
    ASSERT_LE(cache.charged_bytes(), bound) << "after " << key;
    if (i % 3 == 0) cache.Get("k" + std::to_string(i - 5));
  }
  EXPECT_GE(cache.size(), 9u);
  EXPECT_LE(cache.size(), 11u);
}

TEST_F(LruCacheTest, EvictsTheLeastRecentlyUsed) {
  // Room for any three of the four entries, never for four.
  const int64_t largest = std::max({Charge("a"), Charge("b"), Charge("c"), Charge("d")});
  const int64_t smallest = std::min({Charge("a"), Charge("b"), Charge("c"), Charge("d")});
  ASSERT_GT(4 * smallest, 3 * largest);
  LruCache cache(milliseconds(10'000'000), 3 * largest);
  cache.Set("a", RecordsFor("a"));
  cache.Set("b", RecordsFor("b"));
  cache.Set("c", RecordsFor("c"));
  ASSERT_NE(cache.Get("a"), nullptr);  // now "b" is the least recently used
  EXPECT_TRUE(cache.Set("d", RecordsFor("d")));
  EXPECT_EQ(cache.KeysByRecency(), (std::vector<std::string>{"d", "a", "c"}));
  EXPECT_EQ(cache.Get("b"), nullptr);

  // Setting an existing key makes it the most recent; nothing is evicted.
  EXPECT_FALSE(cache.Set("c", RecordsFor("c")));
  EXPECT_EQ(cache.KeysByRecency(), (std::vector<std::string>{"c", "d", "a"}));
  EXPECT_EQ(cache.charged_bytes(), Charge("a") + Charge("c") + Charge("d"));
}

TEST_F(LruCacheTest, EntryLargerThanTheBudgetIsNotStored) {
  LruCache cache(milliseconds(10'000'000), Charge("a") - 1);
  EXPECT_FALSE(cache.Set("a", RecordsFor("a")));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.charged_bytes(), 0);
}

TEST_F(LruCacheTest, ExpiredEntryIsRemovedWhenRead) {
  FakeClock clock;
  LruCache cache(milliseconds(100), 10 * Charge("a"), clock.Function());
  cache.Set("a", RecordsFor("a"));
  clock.Advance(milliseconds(100));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.charged_bytes(), 0);
}

TEST(QueryUsecase, SecondQueryIsServedFromTheCacheWithTheSameAnswer) {
  Repo repo;
  ExpiringCache cache({milliseconds(10'000'000), milliseconds(0)});
  QueryUsecase usecase(repo, cache, int64_t{1} << 30);
  const uint64_t keys_before = runtime::Counters().keys_total.load();

  QueryUsecase::Result first = usecase.GetDatas("1234");
  QueryUsecase::Result second = usecase.GetDatas("1234");
  EXPECT_EQ(first.source, QueryUsecase::Source::kRepo);
  EXPECT_EQ(second.source, QueryUsecase::Source::kCache);
  EXPECT_EQ(first.summary.rows, 32u);
  EXPECT_EQ(second.summary.rows, first.summary.rows);
  EXPECT_EQ(second.summary.checksum, first.summary.checksum);
  EXPECT_EQ(runtime::Counters().keys_total.load(), keys_before + 1);
}

TEST(QueryUsecase, StoresNothingPastItsLimit) {
  Repo repo;
  ExpiringCache cache({milliseconds(10'000'000), milliseconds(0)});
  QueryUsecase usecase(repo, cache, 1);
  usecase.GetDatas("1");
  usecase.GetDatas("2");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(usecase.GetDatas("2").source, QueryUsecase::Source::kRepo);
}

// The incident's cache kept the very objects ToDomain made (go-cache held
// `datas`): the entry is those records, moved in, not a copy of them.
TEST(ExpiringCache, KeepingObjectsHoldsTheRecordsThemselves) {
  ExpiringCache cache({.default_ttl = milliseconds(10'000'000),
                       .cleanup_interval = milliseconds(0),
                       .keep = Keep::kObjects});
  Records records = RecordsFor("5");
  const Record* first = records.front().get();
  const Summary fresh = SummarizeRecords(records);
  EXPECT_TRUE(cache.Set("5", std::move(records)));
  Blob kept = cache.Get("5");
  ASSERT_NE(kept, nullptr);
  const Records* held = std::get_if<Records>(kept.get());
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->front().get(), first);
  EXPECT_EQ(Summarize(*kept).checksum, fresh.checksum);
  // The charge counts the objects' buffers: several times the encoding.
  const int64_t encoded = EntryChargeBytes("5", CachedResult(EncodeRecords(RecordsFor("5"))));
  EXPECT_GT(cache.charged_bytes(), 3 * encoded);
  EXPECT_EQ(cache.charged_bytes(), EntryChargeBytes("5", *kept));
}

// The wrong fix converts by value; the answers, and what a cache holds, are
// the same records.
TEST(QueryUsecase, ConvertingByValueGivesTheSameAnswers) {
  Repo repo;
  ExpiringCache pointers_cache({.default_ttl = milliseconds(10'000'000),
                                .cleanup_interval = milliseconds(0),
                                .keep = Keep::kObjects});
  ExpiringCache values_cache({.default_ttl = milliseconds(10'000'000),
                              .cleanup_interval = milliseconds(0),
                              .keep = Keep::kObjects});
  QueryUsecase pointers(repo, pointers_cache, int64_t{1} << 30);
  QueryUsecase values(repo, values_cache, int64_t{1} << 30, QueryUsecase::Convert::kValues);
  const QueryUsecase::Result a = pointers.GetDatas("17");
  const QueryUsecase::Result b = values.GetDatas("17");
  EXPECT_EQ(a.summary.checksum, b.summary.checksum);
  EXPECT_EQ(a.summary.rows, 32u);
  ASSERT_NE(values_cache.Get("17"), nullptr);
  EXPECT_TRUE(std::holds_alternative<RecordValues>(*values_cache.Get("17")));
  EXPECT_EQ(values.GetDatas("17").source, QueryUsecase::Source::kCache);
  EXPECT_EQ(values.GetDatas("17").summary.checksum, a.summary.checksum);
  // By value or by pointer, the records cost about the same.
  const double ratio = static_cast<double>(values_cache.charged_bytes()) /
                       static_cast<double>(pointers_cache.charged_bytes());
  EXPECT_GT(ratio, 0.8);
  EXPECT_LT(ratio, 1.2);
}

TEST(Scenario, HandlesQueriesAndRejectsBadKeys) {
  runtime::ScenarioInfo info = UnboundedCacheInfo();
  ASSERT_EQ(info.variants.size(), 5u);
  for (const auto& v : info.variants) {
    std::unique_ptr<runtime::Scenario> s = info.create(v.name);
    ASSERT_NE(s, nullptr) << v.name;
    runtime::Request request;
    request.method = "GET";
    request.path = "/query";
    request.query = "key=99";
    runtime::Response first = s->Handle(request);
    EXPECT_EQ(first.status, 200) << first.body;
    EXPECT_NE(first.body.find("\"source\":\"db\""), std::string::npos) << first.body;
    runtime::Response second = s->Handle(request);
    EXPECT_NE(second.body.find("\"source\":\"cache\""), std::string::npos) << second.body;
    // Whatever the cache keeps, it answers as the repository did.
    EXPECT_EQ(first.body.substr(0, first.body.find("\"source\"")),
              second.body.substr(0, second.body.find("\"source\"")))
        << v.name;

    request.query = "";
    EXPECT_EQ(s->Handle(request).status, 400);
    const std::string too_long = "key=" + std::string(65, '1');
    request.query = too_long;
    EXPECT_EQ(s->Handle(request).status, 400);
    request.query = "key=a%20b";
    EXPECT_EQ(s->Handle(request).status, 400);
    request.path = "/other";
    EXPECT_EQ(s->Handle(request).status, 404);
  }
}

}  // namespace
}  // namespace leaklab::scenarios::unbounded_cache
