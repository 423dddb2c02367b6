// The unbounded-cache incident (shared/seeds/unbounded-cache-incident.txt): a
// one-endpoint Go service put every query result into an in-process cache
// (patrickmn/go-cache) with a 10,000 s TTL and no cleanup interval. go-cache
// only deletes expired entries from its janitor, so with unbounded key
// cardinality the map only grew: 20 GB RSS, peaks of 40 GB. The first suspect,
// a pointer-returning ToDomain() that "escapes to the heap", was a red herring.
//
// The layering follows the incident: handler -> usecase (GetDatas) -> repo
// (Datas) -> ToDomain. ToDomain makes most of the allocations, and they all die
// with the request; what grows is the compact copy the cache's Set() keeps.

#include "scenarios/unbounded-cache/cache.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <utility>

#include "scenarios/runtime/worker_registry.h"

namespace leaklab::scenarios {
namespace unbounded_cache {
namespace {

// Rows per query: with the encoding below, about 2.6 KB cached per key (the
// incident's "a few KB of records"), while ToDomain allocates about 15 KB per
// query. Fixed, so that the bytes per key are the same for every key.
constexpr int kRowsPerQuery = 32;
// Tags per row, drawn from ids 0..63 (duplicates merge, so up to this many).
constexpr int kTagsPerRow = 8;
// Titles are length-prefixed with one byte in the encoding.
constexpr size_t kMaxTitleBytes = 255;
// The bookkeeping around one entry beyond its key and value bytes: the hash
// node, its bucket slot, the shared value's control block and string object,
// the list node for the LRU; about 150 to 200 bytes with libstdc++ layouts.
constexpr int64_t kEntryOverheadBytes = 192;

// splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): a deterministic stream of rows per key.
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// FNV-1a, 64-bit (http://www.isthe.com/chongo/tech/comp/fnv/): the response's
// checksum, so a cached answer can be checked against a fresh one.
class Fnv1a {
 public:
  void Bytes(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash_ = (hash_ ^ p[i]) * 1099511628211ULL;
  }
  template <typename T>
  void Value(T value) {
    Bytes(&value, sizeof value);
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 1469598103934665603ULL;
};

// The fields the endpoint serves, hashed in one order for both forms of a
// result (SummarizeRecords and SummarizeEncoded must agree).
void HashRow(Fnv1a& h, int64_t id, double score, std::string_view title, uint8_t tag_count,
             const int32_t* tags) {
  h.Value(id);
  h.Value(std::bit_cast<uint64_t>(score));
  h.Value(static_cast<uint8_t>(title.size()));
  h.Bytes(title.data(), title.size());
  h.Value(tag_count);
  h.Bytes(tags, tag_count * sizeof(int32_t));
}

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Reads a T at `pos` and advances it; false when the blob is too short.
template <typename T>
bool Take(std::string_view blob, size_t& pos, T& value) {
  if (blob.size() - pos < sizeof value) return false;
  std::memcpy(&value, blob.data() + pos, sizeof value);
  pos += sizeof value;
  return true;
}

std::string_view ClampTitle(const std::string& title) {
  return std::string_view(title).substr(0, kMaxTitleBytes);
}

}  // namespace

std::vector<DataRow> Repo::Datas(std::string_view key) const {
  Fnv1a seed;
  seed.Bytes(key.data(), key.size());
  uint64_t state = seed.hash();
  std::vector<DataRow> rows(kRowsPerQuery);
  for (DataRow& row : rows) {
    row.id = static_cast<int64_t>(SplitMix64(state) >> 1);
    row.owner_id = static_cast<int32_t>(SplitMix64(state) % 100'000);
    row.region_id = static_cast<int32_t>(SplitMix64(state) % 12);
    row.score = static_cast<double>(SplitMix64(state) % 10'000) / 100.0;
    row.updated_at_unix_s = 1'600'000'000 + static_cast<int64_t>(SplitMix64(state) % 100'000'000);
    uint64_t r = SplitMix64(state);
    for (int t = 0; t < kTagsPerRow; ++t) row.tag_bits |= uint64_t{1} << ((r >> (6 * t)) & 63);
  }
  return rows;
}

namespace {

// ToDomain's body, inlined into both conversions, so that the allocations it
// makes are charged to whichever function calls it.
[[gnu::always_inline]] inline void FillRecord(Record& record, const DataRow& row) {
  static constexpr const char* kRegions[] = {"eu-west",    "eu-north",   "us-east",    "us-west",
                                             "ap-south",   "ap-east",    "sa-east",    "af-south",
                                             "me-central", "ca-central", "eu-central", "ap-north"};
  record.id = row.id;
  record.score = row.score;
  record.updated_at_unix_s = row.updated_at_unix_s;

  char buf[320];
  std::snprintf(buf, sizeof buf, "user-%05d", row.owner_id);
  record.owner = buf;
  std::snprintf(buf, sizeof buf, "%s quarterly report #%lld", record.owner.c_str(),
                static_cast<long long>(row.id % 1'000'000'000));
  record.title = buf;

  record.tag_ids.reserve(static_cast<size_t>(std::popcount(row.tag_bits)));
  for (int tag = 0; tag < 64; ++tag) {
    if (row.tag_bits & (uint64_t{1} << tag)) record.tag_ids.push_back(tag);
  }
  std::snprintf(buf, sizeof buf,
                "Report %lld by %s, region %s: score %.2f out of 100, last updated at unix time "
                "%lld, carrying %zu tags. Generated from the reporting database for display in "
                "the query results list.",
                static_cast<long long>(row.id), record.owner.c_str(), kRegions[row.region_id % 12],
                row.score, static_cast<long long>(row.updated_at_unix_s), record.tag_ids.size());
  record.summary = buf;
}

// The wrong fix's conversion, returning by value. Always inlined, as Go's
// compiler inlined the incident's ToDomain: the record's strings are then
// allocated in the caller's frame, so the in-use profile stops naming a
// ToDomain while the leak goes on, as the team saw after their "fix".
[[gnu::always_inline]] inline Record ToDomainValue(const DataRow& row) {
  Record record;
  FillRecord(record, row);
  return record;
}

}  // namespace

// Not inlined, so that it is a frame of its own in heap profiles, as in the
// incident's pprof graph.
[[gnu::noinline]] std::unique_ptr<Record> ToDomain(const DataRow& row) {
  auto record = std::make_unique<Record>();
  FillRecord(*record, row);
  return record;
}

namespace {

const Record& Deref(const std::unique_ptr<Record>& r) { return *r; }
const Record& Deref(const Record& r) { return r; }

template <typename Range>
Summary SummarizeRange(const Range& records) {
  Fnv1a h;
  for (const auto& element : records) {
    const Record& r = Deref(element);
    HashRow(h, r.id, r.score, ClampTitle(r.title), static_cast<uint8_t>(r.tag_ids.size()),
            r.tag_ids.data());
  }
  return {records.size(), h.hash()};
}

// Layout: uint32 row count, then per row: int64 id, double score, uint8 title
// length, the title, uint8 tag count, int32 tags. Native byte order: the blob
// never leaves the process.
template <typename Range>
[[gnu::always_inline]] inline std::string EncodeRange(const Range& records) {
  size_t size = sizeof(uint32_t);
  for (const auto& element : records) {
    const Record& r = Deref(element);
    size += sizeof r.id + sizeof r.score + 1 + ClampTitle(r.title).size() + 1 +
            r.tag_ids.size() * sizeof(int32_t);
  }
  std::string out;
  // Sized once, so the blob holds no growth slack.
  out.reserve(size);
  Put(out, static_cast<uint32_t>(records.size()));
  for (const auto& element : records) {
    const Record& r = Deref(element);
    std::string_view title = ClampTitle(r.title);
    Put(out, r.id);
    Put(out, r.score);
    Put(out, static_cast<uint8_t>(title.size()));
    out.append(title);
    // At most 64 distinct tag ids (Repo draws them from 0..63).
    Put(out, static_cast<uint8_t>(r.tag_ids.size()));
    out.append(reinterpret_cast<const char*>(r.tag_ids.data()), r.tag_ids.size() * sizeof(int32_t));
  }
  return out;
}

int64_t RecordBytes(const Record& r) {
  auto heap = [](const std::string& text) {
    // Short strings live inside the object (libstdc++'s 15-byte buffer).
    return text.capacity() > 15 ? text.capacity() + 1 : 0;
  };
  return static_cast<int64_t>(heap(r.owner) + heap(r.title) + heap(r.summary) +
                              r.tag_ids.capacity() * sizeof(int32_t));
}

}  // namespace

Summary SummarizeRecords(const Records& records) { return SummarizeRange(records); }
Summary SummarizeRecords(const RecordValues& records) { return SummarizeRange(records); }

[[gnu::noinline]] std::string EncodeRecords(const Records& records) { return EncodeRange(records); }
[[gnu::noinline]] std::string EncodeRecords(const RecordValues& records) {
  return EncodeRange(records);
}

Summary SummarizeEncoded(std::string_view blob) {
  Fnv1a h;
  size_t pos = 0;
  uint32_t count = 0;
  if (!Take(blob, pos, count)) return {};
  Summary summary;
  for (uint32_t i = 0; i < count; ++i) {
    int64_t id;
    double score;
    uint8_t title_size, tag_count;
    if (!Take(blob, pos, id) || !Take(blob, pos, score) || !Take(blob, pos, title_size)) break;
    if (blob.size() - pos < title_size) break;
    std::string_view title = blob.substr(pos, title_size);
    pos += title_size;
    if (!Take(blob, pos, tag_count)) break;
    int32_t tags[64];
    if (tag_count > std::size(tags) || blob.size() - pos < tag_count * sizeof(int32_t)) break;
    std::memcpy(tags, blob.data() + pos, tag_count * sizeof(int32_t));
    pos += tag_count * sizeof(int32_t);
    HashRow(h, id, score, title, tag_count, tags);
    ++summary.rows;
  }
  summary.checksum = h.hash();
  return summary;
}

Summary Summarize(const CachedResult& result) {
  if (const auto* blob = std::get_if<std::string>(&result)) return SummarizeEncoded(*blob);
  if (const auto* records = std::get_if<Records>(&result)) return SummarizeRecords(*records);
  return SummarizeRecords(std::get<RecordValues>(result));
}

int64_t ResultBytes(const CachedResult& result) {
  if (const auto* blob = std::get_if<std::string>(&result)) {
    return static_cast<int64_t>(blob->capacity());
  }
  int64_t bytes = 0;
  if (const auto* records = std::get_if<Records>(&result)) {
    bytes += static_cast<int64_t>(records->capacity() * sizeof(std::unique_ptr<Record>));
    for (const auto& r : *records) bytes += static_cast<int64_t>(sizeof(Record)) + RecordBytes(*r);
    return bytes;
  }
  const auto& values = std::get<RecordValues>(result);
  bytes += static_cast<int64_t>(values.capacity() * sizeof(Record));
  for (const Record& r : values) bytes += RecordBytes(r);
  return bytes;
}

int64_t EntryChargeBytes(std::string_view key, const CachedResult& value) {
  return static_cast<int64_t>(key.size()) + ResultBytes(value) + kEntryOverheadBytes;
}

namespace {

// The compact copy of a result, made in the caller's frame (the caches' Set),
// so that profiles read EncodeRecords <- ExpiringCache::Set.
[[gnu::always_inline]] inline Blob EncodedCopy(const CachedResult& result) {
  if (const auto* records = std::get_if<Records>(&result)) {
    return std::make_shared<const CachedResult>(EncodeRecords(*records));
  }
  if (const auto* values = std::get_if<RecordValues>(&result)) {
    return std::make_shared<const CachedResult>(EncodeRecords(*values));
  }
  return std::make_shared<const CachedResult>(std::get<std::string>(result));  // already encoded
}

}  // namespace

// ---- ExpiringCache: go-cache's semantics -----------------------------------

ExpiringCache::ExpiringCache(Options options) : options_(std::move(options)) {
  if (options_.cleanup_interval.count() > 0) {
    janitor_ = std::jthread([this](std::stop_token stop) { RunJanitor(std::move(stop)); });
  }
}

ExpiringCache::~ExpiringCache() {
  if (janitor_.joinable()) {
    janitor_.request_stop();  // wakes the janitor's wait at once
    janitor_.join();
  }
}

Blob ExpiringCache::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  // Expired entries read as missing but stay in the map: go-cache's Get does
  // not delete; only DeleteExpired (the janitor) does.
  if (options_.now() >= it->second.expires_at) return nullptr;
  return it->second.blob;
}

bool ExpiringCache::Set(std::string key, CachedResult result) {
  // Encoding and the copy it makes happen here, outside the lock: this
  // allocation is what the cache keeps. Keeping the objects instead, as the
  // incident's cache did, keeps what the conversion allocated.
  Blob blob = options_.keep == Keep::kObjects
                  ? std::make_shared<const CachedResult>(std::move(result))
                  : EncodedCopy(result);
  const int64_t charge = EntryChargeBytes(key, *blob);
  Blob replaced;  // freed after the lock is released
  std::lock_guard lock(mu_);
  const Clock::time_point expires_at = options_.now() + options_.default_ttl;
  auto [it, inserted] = entries_.try_emplace(std::move(key));
  if (!inserted) {
    charged_bytes_ -= it->second.charge_bytes;
    replaced = std::move(it->second.blob);
  }
  it->second = Entry{std::move(blob), expires_at, charge};
  charged_bytes_ += charge;
  return inserted;
}

size_t ExpiringCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

int64_t ExpiringCache::charged_bytes() const {
  std::lock_guard lock(mu_);
  return charged_bytes_;
}

size_t ExpiringCache::DeleteExpired() {
  // The values are freed after the lock is released, so that handlers do not
  // wait on a sweep's frees.
  std::vector<Blob> expired;
  std::lock_guard lock(mu_);
  const Clock::time_point now = options_.now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now >= it->second.expires_at) {
      charged_bytes_ -= it->second.charge_bytes;
      expired.push_back(std::move(it->second.blob));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return expired.size();
}

void ExpiringCache::RunJanitor(std::stop_token stop) {
  runtime::WorkerScope worker("unbounded_cache::ExpiringCache::RunJanitor");
  std::unique_lock lock(janitor_mu_);
  while (!stop.stop_requested()) {
    worker.WaitingAt("ExpiringCache::RunJanitor: waiting for the next sweep");
    // Returns early when a stop is requested (the stop token wakes the wait).
    janitor_cv_.wait_for(lock, stop, options_.cleanup_interval, [] { return false; });
    if (stop.stop_requested()) break;
    worker.Running();
    DeleteExpired();
  }
}

// ---- LruCache ----------------------------------------------------------------

LruCache::LruCache(std::chrono::milliseconds ttl, int64_t max_bytes, NowFunction now)
    : ttl_(ttl), max_bytes_(max_bytes), now_(std::move(now)) {}

Blob LruCache::Get(std::string_view key) {
  std::list<Node> expired;  // freed after the lock is released
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  auto node = it->second;
  if (now_() >= node->expires_at) {
    charged_bytes_ -= node->charge_bytes;
    index_.erase(it);
    expired.splice(expired.end(), order_, node);
    return nullptr;
  }
  order_.splice(order_.begin(), order_, node);
  return node->blob;
}

bool LruCache::Set(std::string key, CachedResult result) {
  Blob blob = EncodedCopy(result);
  const int64_t charge = EntryChargeBytes(key, *blob);
  if (charge > max_bytes_) return false;
  Blob replaced;            // freed after the lock is released,
  std::list<Node> evicted;  // as are these
  std::lock_guard lock(mu_);
  const Clock::time_point expires_at = now_() + ttl_;
  auto it = index_.find(key);
  const bool inserted = it == index_.end();
  if (inserted) {
    order_.push_front(Node{std::move(key), std::move(blob), expires_at, charge});
    index_.emplace(order_.front().key, order_.begin());
  } else {
    // Updated in place: the index's key views the node's key.
    auto node = it->second;
    charged_bytes_ -= node->charge_bytes;
    replaced = std::exchange(node->blob, std::move(blob));
    node->expires_at = expires_at;
    node->charge_bytes = charge;
    order_.splice(order_.begin(), order_, node);
  }
  charged_bytes_ += charge;
  // The newest entry fits the budget on its own, so this stops before it.
  while (charged_bytes_ > max_bytes_) {
    auto last = std::prev(order_.end());
    charged_bytes_ -= last->charge_bytes;
    index_.erase(last->key);
    evicted.splice(evicted.end(), order_, last);
  }
  return inserted;
}

size_t LruCache::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

int64_t LruCache::charged_bytes() const {
  std::lock_guard lock(mu_);
  return charged_bytes_;
}

std::vector<std::string> LruCache::KeysByRecency() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(order_.size());
  for (const Node& n : order_) keys.push_back(n.key);
  return keys;
}

// ---- usecase -------------------------------------------------------------------

QueryUsecase::QueryUsecase(const Repo& repo, ResultCache& cache, int64_t store_limit_bytes,
                           Convert convert)
    : repo_(repo), cache_(cache), store_limit_bytes_(store_limit_bytes), convert_(convert) {}

QueryUsecase::Result QueryUsecase::GetDatas(std::string_view key) {
  if (Blob cached = cache_.Get(key)) return {Summarize(*cached), Source::kCache};

  std::vector<DataRow> rows = repo_.Datas(key);
  CachedResult fetched;
  if (convert_ == Convert::kValues) {
    RecordValues values;
    values.reserve(rows.size());
    for (const DataRow& row : rows) values.push_back(ToDomainValue(row));
    fetched = std::move(values);
  } else {
    Records records;
    records.reserve(rows.size());
    for (const DataRow& row : rows) records.push_back(ToDomain(row));
    fetched = std::move(records);
  }
  Result result{Summarize(fetched), Source::kRepo};
  // As in the incident: every result goes into the cache before it is
  // returned. The limit is the lab's guard, not part of the incident.
  if (cache_.charged_bytes() < store_limit_bytes_ &&
      cache_.Set(std::string(key), std::move(fetched))) {
    runtime::Counters().keys_total.fetch_add(1, std::memory_order_relaxed);
  }
  // Unless the cache kept them, the records, and everything ToDomain
  // allocated, die here.
  return result;
}

}  // namespace unbounded_cache

namespace {

using unbounded_cache::ExpiringCache;
using unbounded_cache::LruCache;
using unbounded_cache::QueryUsecase;

// The incident's TTL; nothing expires within a run, and without a janitor
// nothing would be removed even if it did.
constexpr std::chrono::milliseconds kIncidentTtl = std::chrono::seconds(10'000);
// The janitor variant compresses the incident's fix (a 1 h cleanup interval)
// into a 10 s run: entries live 1 s and are swept every 250 ms, so the cache
// holds 1 to 1.25 s of distinct keys, 3 to 3.7 MB at the default load.
constexpr std::chrono::milliseconds kJanitorTtl = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kJanitorInterval = std::chrono::milliseconds(250);
// The LRU's budget: about 1,060 entries, full after about 1.1 s of the default
// load and then flat, comparable to the janitor variant's level.
constexpr int64_t kLruMaxBytes = int64_t{3} << 20;
// Lab guard: past 256 MiB of cached entries the usecase stores nothing more,
// so that a long leaky run (--duration 10m) cannot exhaust a shared machine.
// At the default load this is reached after about 90 s, far beyond a run.
constexpr int64_t kStoreLimitBytes = int64_t{256} << 20;
// Keys are ids; the bound keeps one request from making a large entry.
constexpr size_t kMaxKeyBytes = 64;

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

class UnboundedCache : public runtime::Scenario {
 public:
  UnboundedCache(std::unique_ptr<unbounded_cache::ResultCache> cache, QueryUsecase::Convert convert)
      : cache_(std::move(cache)), usecase_(repo_, *cache_, kStoreLimitBytes, convert) {}

  runtime::Response Handle(const runtime::Request& request) override {
    if (request.path != "/query") return {404, "text/plain", "try /query?key=42\n"};
    if (request.method != "GET" && request.method != "HEAD") {
      return {405, "text/plain", "/query takes GET\n"};
    }
    std::optional<std::string_view> key = request.QueryParam("key");
    if (!key || key->empty()) {
      return {400, "text/plain", "missing query parameter `key`, e.g. /query?key=42\n"};
    }
    if (key->size() > kMaxKeyBytes) {
      return {400, "text/plain",
              "query parameter `key` is " + std::to_string(key->size()) + " bytes; at most " +
                  std::to_string(kMaxKeyBytes) + " are allowed\n"};
    }
    for (char c : *key) {
      if (!IsKeyChar(c)) {
        return {400, "text/plain", "query parameter `key` may hold only A-Z a-z 0-9 - _ .\n"};
      }
    }

    QueryUsecase::Result result = usecase_.GetDatas(*key);
    // A summary rather than the rows: the load generator reads no further, and
    // a small body keeps the loopback cheap on shared cores.
    char body[192];
    std::snprintf(body, sizeof body,
                  "{\"key\":\"%.*s\",\"rows\":%zu,\"checksum\":\"%016llx\",\"source\":\"%s\"}\n",
                  static_cast<int>(key->size()), key->data(), result.summary.rows,
                  static_cast<unsigned long long>(result.summary.checksum),
                  result.source == QueryUsecase::Source::kCache ? "cache" : "db");
    return {200, "application/json", body};
  }

 private:
  unbounded_cache::Repo repo_;
  std::unique_ptr<unbounded_cache::ResultCache> cache_;
  QueryUsecase usecase_;
};

}  // namespace

runtime::ScenarioInfo UnboundedCacheInfo() {
  runtime::ScenarioInfo info;
  info.name = "unbounded-cache";
  info.description = "every query result is cached per key with a 10,000 s TTL and no janitor";
  info.variants = {
      // About 2.9 KB per key: the cache's encoded copy of a 32-record result.
      // Every request is a new key, so keys and requests explain it equally
      // well and either may come first.
      {"leaky",
       "go-cache-like map, TTL 10,000 s, no janitor: every distinct key stays",
       "leak",
       {.duration = "6s", .min_bytes_per_unit = 2'500, .max_bytes_per_unit = 3'300}},
      // About 14 KB per key: the 32 records ToDomain made, their title and
      // summary strings and tag lists, kept as the incident's cache kept its
      // `datas`; the in-use profile names ToDomain, as the team's did.
      {"as-incident",
       "the same map keeping ToDomain's records themselves, as the incident's cache did",
       "leak",
       {.duration = "6s", .min_bytes_per_unit = 12'000, .max_bytes_per_unit = 17'000}},
      // The team's first fix: ToDomain returns by value, so nothing "escapes"
      // from it; it is inlined, and the records are now allocated by
      // GetDatas. The profile stops naming ToDomain; the leak is unchanged.
      {"by-value",
       "wrong fix: ToDomain returns records by value; the cache still keeps them all",
       "leak",
       {.duration = "6s", .min_bytes_per_unit = 12'000, .max_bytes_per_unit = 17'000}},
      {"janitor", "same map, TTL 1 s, a janitor deletes expired entries every 250 ms", "no-leak"},
      {"lru", "least-recently-used cache bounded at 3 MiB (TTL 10,000 s kept)", "no-leak"},
  };
  // By default every request is a new key (`--keys unique`, key = request
  // number): 1000 keys/s x about 2.9 KB = about 2.9 MB/s of leak, about 29 MB
  // over the 10 s run. `--keys uniform:1000` repeats keys, and the same cache
  // stops growing once it holds them all: growth per key, not per request.
  info.load.path_template = "/query?key={key}";
  info.load.connections = 4;
  info.load.schedule = "steady 10s at 1000/s";
  info.create = [](std::string_view variant) -> std::unique_ptr<runtime::Scenario> {
    using unbounded_cache::Keep;
    std::unique_ptr<unbounded_cache::ResultCache> cache;
    auto convert = QueryUsecase::Convert::kPointers;
    if (variant == "lru") {
      cache = std::make_unique<LruCache>(kIncidentTtl, kLruMaxBytes);
    } else if (variant == "janitor") {
      cache =
          std::make_unique<ExpiringCache>(ExpiringCache::Options{kJanitorTtl, kJanitorInterval});
    } else {
      const bool objects = variant == "as-incident" || variant == "by-value";
      if (variant == "by-value") convert = QueryUsecase::Convert::kValues;
      cache = std::make_unique<ExpiringCache>(
          ExpiringCache::Options{.default_ttl = kIncidentTtl,
                                 .cleanup_interval = std::chrono::milliseconds(0),
                                 .keep = objects ? Keep::kObjects : Keep::kEncoded});
    }
    return std::make_unique<UnboundedCache>(std::move(cache), convert);
  };
  return info;
}

}  // namespace leaklab::scenarios
