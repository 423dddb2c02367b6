#include "analyzers/verdict/explain.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/duration.h"

namespace leaklab::verdict {
namespace {

TEST(ExplainTest, NamesAndFigures) {
  EXPECT_EQ(Describe("heap_inuse_bytes"), "the heap in use (heap_inuse_bytes)");
  EXPECT_EQ(Describe("rss_bytes"), "resident memory (rss_bytes)");
  EXPECT_EQ(Describe("workers"), "workers");
  EXPECT_EQ(Capitalized("resident memory"), "Resident memory");
  EXPECT_EQ(Capitalized(""), "");
  EXPECT_EQ(Count(9891.6), "9892");
}

TEST(ExplainTest, WorkSentenceOnlyForAGoodFitThatGrows) {
  WorkExplanation request{.signal = "heap_inuse_bytes",
                          .counter = "requests_total",
                          .unit = "request",
                          .bytes_per_unit = 10e3,
                          .r_squared = 0.995,
                          .units = 9892,
                          .points = 90};
  EXPECT_EQ(WorkSentence({request}, false),
            " The growth follows the work done: about " + FormatBytes(10e3) +
                " per request (R\xC2\xB2 0.99), so something keeps memory for every request and "
                "never lets go.");
  WorkExplanation key = request;
  key.counter = "keys_total";
  key.unit = "key";
  const std::string both = WorkSentence({request, key}, true);
  EXPECT_NE(both.find("It fits " + FormatBytes(10e3) + " per key just as well"), std::string::npos)
      << both;
  EXPECT_EQ(WorkSentence({request, key}, false), WorkSentence({request}, false));
  request.r_squared = 0.5;
  EXPECT_EQ(WorkSentence({request}, false), "");
  EXPECT_EQ(WorkSentence({}, false), "");
}

TEST(ExplainTest, NothingToSayIsEmpty) {
  EXPECT_EQ(BoundSentence(std::nullopt), "");
  series::GrowthEvidence flat;
  EXPECT_EQ(Severity(flat), "");
  EXPECT_EQ(FloorNote(flat), "");
  // Without a window that would decide, the advice is general.
  EXPECT_EQ(WatchLonger(series::Series{}, 0), " Watch longer or sample more often.");
}

TEST(ExplainTest, BoundSentenceNamesSignalWindowAndUnit) {
  Bound b;
  b.signal = "heap_inuse_bytes";
  b.t_begin_s = 2;
  b.t_end_s = 10;
  b.max_bytes_per_s = 100;
  EXPECT_EQ(BoundSentence(b), " How much could grow unseen: at most " + FormatBytes(360e3) +
                                  " an hour (the upper end of the 95 % interval of the heap in "
                                  "use (heap_inuse_bytes)'s slope since t = " +
                                  FormatSeconds(2) + ").");
  b.unit = "request";
  b.units = 400;
  b.max_bytes_per_unit = 2;
  EXPECT_NE(BoundSentence(b).find(", that is at most " + FormatBytes(2) +
                                  " kept per request over 400 requests."),
            std::string::npos);
}

// A signal that grew 10 MB/s from 1 MB over 10 s.
series::GrowthEvidence Growing(std::string signal) {
  series::GrowthEvidence ev;
  ev.signal = std::move(signal);
  ev.trend = series::Trend::kGrowing;
  ev.reason = "grows";
  ev.t_begin_s = 0;
  ev.t_end_s = 10;
  ev.fit.intercept = 1e6;
  ev.fit.slope = 10e6;
  ev.fit.slope_low = 9e6;
  ev.fit.slope_high = 11e6;
  ev.growth_bytes = 100e6;
  return ev;
}

series::GrowthEvidence Level(std::string signal, series::Trend trend, std::string reason) {
  series::GrowthEvidence ev;
  ev.signal = std::move(signal);
  ev.trend = trend;
  ev.reason = std::move(reason);
  return ev;
}

TEST(ExplainTest, SeriesThatCannotBeRead) {
  const Undecided few = TooLittleData(3, 1);
  EXPECT_EQ(few.missing, "a series of at least 3 samples (this one has 1)");
  EXPECT_EQ(few.explanation, "There is too little data to say anything: " + few.missing + ".");
  EXPECT_EQ(OutOfOrder(4, TimeFault::kSameTime).explanation,
            "The samples are not in time order, so no trend can be read from them: time (t_s) "
            "that increases from sample to sample; sample 4 has the same time as the one before "
            "(a duplicate timestamp).");
  EXPECT_EQ(OutOfOrder(1, TimeFault::kNoTime).missing,
            "time (t_s) that increases from sample to sample; sample 1 has no valid time");
  EXPECT_NE(OutOfOrder(2, TimeFault::kEarlier)
                .missing.find("sample 2 is earlier than the one "
                              "before"),
            std::string::npos);
  EXPECT_EQ(NoSignal().explanation,
            "The series has no memory or worker signal to test: a memory column "
            "(heap_inuse_bytes or rss_bytes) or a worker count (workers).");
}

TEST(ExplainTest, ReasonsKeepTheReasonTheyQualify) {
  KeptPerUnit k{
      .kept_bytes = 100, .unit = "request", .allocated_bytes = 10e3, .since_s = std::nullopt};
  EXPECT_EQ(KeptPerUnitReason(k, "flat"), "keeps at most " + FormatBytes(100) +
                                              " per request of the " + FormatBytes(10e3) +
                                              " each allocates (1 %), too little to matter (flat)");
  k.since_s = 4;
  EXPECT_NE(KeptPerUnitReason(k, "flat").find("(1 %) since t = " + FormatSeconds(4) + ", too"),
            std::string::npos);
  EXPECT_EQ(CoarseSamplingReason(512 << 10, 1.5e6, 1e6, "flat"),
            "its profiles take one sample per " + FormatBytes(512 << 10) +
                " allocated, so growth under about " + FormatBytes(1.5e6) +
                " leaves no trace in them, where " + FormatBytes(1e6) + " would matter (flat)");
  const std::string generational = GenerationalReason(8e6, 5, "grows");
  EXPECT_EQ(generational.substr(0, generational.find(':')),
            "rose " + FormatBytes(8e6) + " over 5 collections and never fell");
  EXPECT_TRUE(generational.ends_with("cannot be told apart yet (grows)")) << generational;
  EXPECT_EQ(FirstTouchReason(64e6, "grows"),
            "rises into the heap the runtime had already committed (" + FormatBytes(64e6) +
                ", unchanged): first touches of reserved memory, not new demand (grows)");
  EXPECT_EQ(SignalMissing(Level("rss_bytes", series::Trend::kInsufficient, "too noisy")),
            "rss_bytes: too noisy");
}

TEST(ExplainTest, LazyReleaseNamesWhoKeepsTheMemory) {
  ReleaseEvidence r;
  r.heap_peak_bytes = 256e6;
  r.heap_end_bytes = 1e6;
  r.kept_bytes = 250e6;
  r.rss_end_bytes = 260e6;
  r.lazyfree_bytes = 240e6;
  EXPECT_EQ(LazyReleaseExplanation(r),
            "Not a leak, lazy release: the heap in use fell from " + FormatBytes(256e6) + " to " +
                FormatBytes(1e6) + ", but RSS still holds " + FormatBytes(250e6) + " of it (RSS " +
                FormatBytes(260e6) + " at the end). " + FormatBytes(240e6) +
                " of it is LazyFree (pages freed with MADV_FREE, which the kernel takes back only "
                "under memory pressure). RSS will fall when the memory is needed elsewhere, or at "
                "once with a forced release (/debug/release, malloc_trim, Go's "
                "debug.FreeOSMemory). High RSS alone is not a leak: memory that is not growing is "
                "not leaking.");
  r.runtime_released_bytes = 240e6;
  EXPECT_NE(LazyReleaseExplanation(r).find(
                "under memory pressure). The runtime counts " + FormatBytes(240e6) +
                " as returned to the OS (heap_released_bytes, Go's HeapReleased) while RSS holds "
                "it"),
            std::string::npos)
      << LazyReleaseExplanation(r);
  r.runtime_released_bytes = 0;
  r.allocator_free_bytes = 5e6;
  EXPECT_NE(LazyReleaseExplanation(r).find("under memory pressure), and " + FormatBytes(5e6) +
                                           " is free memory the allocator keeps for reuse. RSS"),
            std::string::npos);
  r.peak_unseen = true;
  r.released_bytes = 245e6;
  const Undecided unaccounted = ReleaseUnaccounted(r);
  EXPECT_EQ(
      unaccounted.explanation,
      "Memory is not growing, but " + FormatBytes(245e6) +
          " was allocated and freed between two samples (the heap in use is " + FormatBytes(1e6) +
          " at the end; the freed memory shows as LazyFree or as the allocator's free "
          "bytes), and RSS still holds " +
          FormatBytes(250e6) + " of it (RSS " + FormatBytes(260e6) +
          " at the end), and nothing in the data says who holds it: " + unaccounted.missing + ".");
}

TEST(ExplainTest, LeakOfMemoryWithItsLimitAndWhereItGrows) {
  const series::GrowthEvidence rss = Growing("rss_bytes");
  LeakFacts f;
  f.growing = &rss;
  f.exhaustion = Exhaustion{.limit_bytes = 200e6,
                            .signal = "rss_bytes",
                            .predicted_t_s = 19.94,
                            .time_left_s = 9.94,
                            .observed_t_s = std::nullopt};
  f.level_heap = series::Trend::kFlat;
  EXPECT_EQ(LeakExplanation(f, {}),
            "Memory is leaking: resident memory (rss_bytes) grew from " + FormatBytes(1e6) +
                " to " + FormatBytes(101e6) + " in " + FormatSeconds(10) + " (" +
                RateWithInterval(rss.fit) +
                "), and it was still growing at the end, with no sign of levelling off." +
                Severity(rss) + " At this rate rss_bytes reaches the " + FormatBytes(200e6) +
                " limit at t = 19.9 s (" + FormatSeconds(9.94) +
                " after the last sample). The heap in use is flat, so the growth is outside the "
                "heap: thread or fiber stacks, memory mapped directly, or allocator "
                "fragmentation.");
  f.exhaustion->time_left_s = -1;
  EXPECT_NE(LeakExplanation(f, {}).find("limit at t = 19.9 s. The heap"), std::string::npos);
}

TEST(ExplainTest, LeakOfWorkersSaysWhatMemoryDoes) {
  series::GrowthEvidence workers = Growing("workers");
  workers.fit = {};
  workers.fit.intercept = 8;
  workers.fit.slope = 100;
  workers.growth_bytes = 1000;
  const series::GrowthEvidence heap = Level("heap_inuse_bytes", series::Trend::kFlat, "flat");
  LeakFacts f;
  f.workers = &workers;
  f.memory = &heap;
  EXPECT_EQ(LeakExplanation(f, {}),
            "Workers are leaking: " + WorkerGrowth(workers) +
                ", and their number was still growing at the end, with no sign of levelling "
                "off. Each one keeps its stack and everything it references. The heap in use "
                "(heap_inuse_bytes) is flat so far: at this size the workers cost little memory, "
                "but they do not stop.");
  const series::GrowthEvidence memory = Growing("heap_inuse_bytes");
  f.growing = &memory;
  const std::string both = LeakExplanation(f, {});
  EXPECT_TRUE(both.starts_with("Memory is leaking: the heap in use")) << both;
  EXPECT_TRUE(both.ends_with(" Workers pile up as well: " + WorkerGrowth(workers) + ".")) << both;
}

TEST(ExplainTest, NoLeakListsSignalsAndWhatWasWeighed) {
  const std::vector<series::GrowthEvidence> signals = {
      Level("heap_inuse_bytes", series::Trend::kFlat, "no steady trend"),
      Level("rss_bytes", series::Trend::kInsufficient, "too noisy")};
  NoLeakFacts f;
  f.weighed = {&signals[1]};
  EXPECT_EQ(NoLeakExplanation(signals, f),
            "No leak: heap_inuse_bytes is flat (no steady trend); rss_bytes is insufficient "
            "(too noisy). Resident memory alone cannot decide, but it shows no trend of its own "
            "(it moves with the collector and the allocator), and the heap it holds does not "
            "grow.");
  f.weighed = {};
  f.memory_decided = false;
  EXPECT_TRUE(NoLeakExplanation(signals, f)
                  .ends_with(" Memory itself was not measured: give --pid or a heap profile to "
                             "judge it too."));
  f.memory_decided = true;
  f.kept_free = KeptFree{.rss_growth_bytes = 8e6,
                         .kept_free_bytes = 7e6,
                         .held = Level("held", series::Trend::kFlat, "flat")};
  EXPECT_TRUE(NoLeakExplanation(signals, f)
                  .ends_with(" " + KeptFreeSentence(8e6, 7e6, f.kept_free->held) +
                             " That is the allocator's, not a leak of the program's: malloc_trim "
                             "or a release returns it."));
}

TEST(ExplainTest, InconclusiveParagraphsSayWhatWouldDecide) {
  const series::Series none;
  const std::vector<series::GrowthEvidence> signals = {
      Level("heap_inuse_bytes", series::Trend::kInsufficient, "too noisy"),
      Level("rss_bytes", series::Trend::kFlat, "no steady trend")};
  EXPECT_EQ(CannotWeigh(signals, true, none, 0),
            "The data cannot decide: heap_inuse_bytes is insufficient (too noisy); rss_bytes is "
            "flat (no steady trend). Resident memory does not grow, but the heap can grow inside "
            "it, in memory already resident that the allocator or the runtime reuses, so it does "
            "not settle the heap. Watch longer or sample more often.");
  EXPECT_NE(CannotWeigh(signals, false, none, 0)
                .find(" The heap does not grow, but resident memory rises outside it, which it "
                      "does not settle."),
            std::string::npos);
  EXPECT_EQ(NothingDecided(signals[0], none, 0),
            "The data cannot decide: too noisy. Watch longer or sample more often.");
  const Undecided keys = KeysFilling(Growing("rss_bytes"), none, 0);
  EXPECT_EQ(keys.explanation,
            "Memory grows with the number of distinct keys (resident memory (rss_bytes) grows), "
            "but new keys come ever more rarely: a cache over a bounded key space fills up this "
            "way and then stops, while one that keeps every key grows for as long as keys keep "
            "coming. Watch longer or sample more often.");
  const Undecided outside = RssOutsideHeap(Growing("rss_bytes"), none, 0);
  EXPECT_EQ(outside.explanation,
            "The heap in use does not grow, but resident memory does: rss_bytes grows. Growth "
            "outside the heap (a runtime settling, code pages touched, fragmentation, or now and "
            "then a leak of mapped memory) that a heap saying otherwise does not settle. Watch "
            "longer or sample more often.");
  EXPECT_EQ(outside.missing,
            "RSS that either levels off or keeps rising at the end, over a longer watch");
}

}  // namespace
}  // namespace leaklab::verdict
