#ifndef LEAKLAB_SCENARIOS_UNBOUNDED_CACHE_CACHE_H_
#define LEAKLAB_SCENARIOS_UNBOUNDED_CACHE_CACHE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "scenarios/runtime/scenario.h"

namespace leaklab::scenarios {

// A query endpoint that caches every result per key: forever in effect
// (leaky), until a janitor sweeps it (janitor), or within a byte bound (lru).
// See README.md beside this file.
runtime::ScenarioInfo UnboundedCacheInfo();

namespace unbounded_cache {

using Clock = std::chrono::steady_clock;
using NowFunction = std::function<Clock::time_point()>;

// One row as the database driver hands it over: fixed-width columns only.
struct DataRow {
  int64_t id = 0;
  int32_t owner_id = 0;
  int32_t region_id = 0;
  double score = 0;
  int64_t updated_at_unix_s = 0;
  uint64_t tag_bits = 0;  // one bit per tag id 0..63
};

// The domain object the service works with: richer than the row, with
// owned, formatted text. ToDomain() makes one on the heap per row.
struct Record {
  int64_t id = 0;
  std::string owner;
  std::string title;
  std::string summary;
  double score = 0;
  int64_t updated_at_unix_s = 0;
  std::vector<int32_t> tag_ids;
};
using Records = std::vector<std::unique_ptr<Record>>;
// The same records by value: the incident's first, wrong fix (ToDomain
// returning domain.C instead of *domain.C, so that nothing "escapes").
using RecordValues = std::vector<Record>;

// The repository: "queries the database", i.e. derives the same rows from the
// same key every time, so a cached and a fresh answer can be compared.
class Repo {
 public:
  std::vector<DataRow> Datas(std::string_view key) const;
};

// The incident's pointer-returning conversion: a heap-allocated record per row.
std::unique_ptr<Record> ToDomain(const DataRow& row);

// What a response reports about a result, equal whether it came from the
// repository or from the cache.
struct Summary {
  size_t rows = 0;
  uint64_t checksum = 0;
};
Summary SummarizeRecords(const Records& records);
Summary SummarizeRecords(const RecordValues& records);
Summary SummarizeEncoded(std::string_view blob);

// The compact form a cache keeps: the fields the endpoint serves (id, score,
// title, tags), packed; not the domain objects.
std::string EncodeRecords(const Records& records);
std::string EncodeRecords(const RecordValues& records);

// One query's result as the usecase hands it to a cache (the domain objects,
// by pointer or by value) and as a cache holds it: those objects themselves,
// as the incident's go-cache held its `datas`, or their compact encoding.
using CachedResult = std::variant<std::string, Records, RecordValues>;
using Blob = std::shared_ptr<const CachedResult>;
Summary Summarize(const CachedResult& result);
// The heap bytes a result holds: its string or vector buffers, the records
// and their strings' buffers (capacities, not sizes).
int64_t ResultBytes(const CachedResult& result);

// What a cache keeps of a result it is given.
enum class Keep {
  kEncoded,  // EncodeRecords' compact copy; the objects die with the request
  kObjects,  // the domain objects themselves, moved in (the incident's cache)
};

// Heterogeneous lookup, so that Get(string_view) builds no std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// What the usecase needs from a cache. Implementations are thread-safe.
class ResultCache {
 public:
  virtual ~ResultCache() = default;
  // The entry for `key`, or null when there is none or it has expired.
  virtual Blob Get(std::string_view key) = 0;
  // Stores `result` under `key`: the objects or an encoded copy, as the
  // cache was made to keep (Keep). True when the cache did not hold `key`
  // before (expired entries it still holds count as held).
  virtual bool Set(std::string key, CachedResult result) = 0;
  // Entries held, expired ones included.
  virtual size_t size() const = 0;
  // The sum of EntryChargeBytes() over the entries held.
  virtual int64_t charged_bytes() const = 0;
};

// What one entry costs, as both caches count it: its key, its value
// (ResultBytes), and a fixed estimate for the bookkeeping around them.
int64_t EntryChargeBytes(std::string_view key, const CachedResult& value);

// A map with an expiry per entry, like Go's patrickmn/go-cache: Get() treats
// an expired entry as missing but leaves it in the map; only DeleteExpired()
// removes entries, and only the janitor calls it, when there is one.
class ExpiringCache final : public ResultCache {
 public:
  struct Options {
    std::chrono::milliseconds default_ttl{0};
    // How often the janitor sweeps; zero means no janitor (go-cache's
    // cleanupInterval <= 0).
    std::chrono::milliseconds cleanup_interval{0};
    NowFunction now = Clock::now;
    Keep keep = Keep::kEncoded;
  };

  explicit ExpiringCache(Options options);
  // Stops the janitor and waits for it.
  ~ExpiringCache() override;
  ExpiringCache(const ExpiringCache&) = delete;
  ExpiringCache& operator=(const ExpiringCache&) = delete;

  Blob Get(std::string_view key) override;
  bool Set(std::string key, CachedResult result) override;
  size_t size() const override;
  int64_t charged_bytes() const override;

  // Removes every expired entry; returns how many it removed.
  size_t DeleteExpired();

 private:
  struct Entry {
    Blob blob;
    Clock::time_point expires_at;
    int64_t charge_bytes = 0;
  };
  void RunJanitor(std::stop_token stop);

  const Options options_;
  mutable std::mutex mu_;
  // Both guarded by mu_.
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
  int64_t charged_bytes_ = 0;

  std::mutex janitor_mu_;
  std::condition_variable_any janitor_cv_;
  // Declared last: it must stop before the members it sweeps go away.
  std::jthread janitor_;
};

// Least-recently-used eviction within a byte budget (counted with
// EntryChargeBytes). Entries also expire after `ttl`; an expired entry is
// removed when Get() finds it.
class LruCache final : public ResultCache {
 public:
  LruCache(std::chrono::milliseconds ttl, int64_t max_bytes, NowFunction now = Clock::now);

  Blob Get(std::string_view key) override;
  // Keeps the encoded copy. An entry larger than the whole budget is not
  // stored (returns false).
  bool Set(std::string key, CachedResult result) override;
  size_t size() const override;
  int64_t charged_bytes() const override;

  // Keys from most to least recently used (for tests and debugging).
  std::vector<std::string> KeysByRecency() const;

 private:
  struct Node {
    std::string key;
    Blob blob;
    Clock::time_point expires_at;
    int64_t charge_bytes = 0;
  };

  const std::chrono::milliseconds ttl_;
  const int64_t max_bytes_;
  const NowFunction now_;
  mutable std::mutex mu_;
  std::list<Node> order_;  // most recently used first; guarded by mu_
  // Keys view the key held in their node, which never moves.
  std::unordered_map<std::string_view, std::list<Node>::iterator> index_;  // guarded by mu_
  int64_t charged_bytes_ = 0;                                              // guarded by mu_
};

// The usecase layer: the cache in front of the repository.
class QueryUsecase {
 public:
  enum class Source { kRepo, kCache };
  struct Result {
    Summary summary;
    Source source = Source::kRepo;
  };

  // How the repository's rows become domain objects.
  enum class Convert { kPointers, kValues };
  // Past `store_limit_bytes` of cached entries nothing more is stored.
  QueryUsecase(const Repo& repo, ResultCache& cache, int64_t store_limit_bytes,
               Convert convert = Convert::kPointers);

  Result GetDatas(std::string_view key);

 private:
  const Repo& repo_;
  ResultCache& cache_;
  const int64_t store_limit_bytes_;
  const Convert convert_;
};

}  // namespace unbounded_cache
}  // namespace leaklab::scenarios

#endif  // LEAKLAB_SCENARIOS_UNBOUNDED_CACHE_CACHE_H_
