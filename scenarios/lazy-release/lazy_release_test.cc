#include "scenarios/lazy-release/lazy_release.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scenarios/runtime/alloc_stats.h"

namespace leaklab::scenarios::lazy_release {
namespace {

constexpr size_t kSpan = PageHeap::kSpanBytes;

int64_t LiveBytes() { return runtime::CurrentLiveAllocations().bytes; }

// Pages of `span` the kernel has mapped for us (mincore), i.e. what it counts
// in RSS.
size_t ResidentPages(const char* span) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec(kSpan / page);
  if (::mincore(const_cast<char*>(span), kSpan, vec.data()) != 0) return SIZE_MAX;
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n;
}

size_t PagesPerSpan() { return kSpan / static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

bool AllZero(const char* span) {
  for (size_t i = 0; i < kSpan; ++i) {
    if (span[i] != 0) return false;
  }
  return true;
}

TEST(PageHeapTest, AccountsLiveBytesAndStates) {
  // This binary has no operator new hook: live bytes move only by the heap's
  // own AccountAllocation / AccountRelease.
  PageHeap heap(4 * kSpan, ReturnPolicy::kMadvFree);
  const int64_t before = LiveBytes();
  char* a = heap.Allocate();
  char* b = heap.Allocate();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(LiveBytes() - before, static_cast<int64_t>(2 * kSpan));
  EXPECT_EQ(heap.GetStats().in_use_bytes, 2 * kSpan);
  EXPECT_EQ(heap.GetStats().capacity_bytes, 4 * kSpan);

  heap.Free(a);
  EXPECT_EQ(LiveBytes() - before, static_cast<int64_t>(kSpan));
  PageHeap::Stats s = heap.GetStats();
  EXPECT_EQ(s.in_use_bytes, kSpan);
  if (s.madv_free_supported) {
    EXPECT_EQ(s.lazy_free_bytes, kSpan);
    EXPECT_EQ(s.released_bytes, 0u);
  }
  heap.Free(b);
  EXPECT_EQ(LiveBytes(), before);
}

int64_t ReturnedToOs() { return runtime::ReturnedToOsBytes(); }

TEST(PageHeapTest, CountsWhatItReturnedToTheOsAsGoCountsHeapReleased) {
  // Go's HeapReleased counts a span as released when it is advised, MADV_FREE
  // or not: the paradox of the incident, where it rose while RSS stayed.
  const int64_t before = ReturnedToOs();
  {
    PageHeap heap(2 * kSpan, ReturnPolicy::kMadvFree);
    char* a = heap.Allocate();
    char* b = heap.Allocate();
    EXPECT_EQ(ReturnedToOs(), before) << "nothing given back yet";
    heap.Free(a);
    heap.Free(b);
    EXPECT_EQ(ReturnedToOs() - before, static_cast<int64_t>(2 * kSpan));
    if (heap.GetStats().madv_free_supported) {
      EXPECT_EQ(ResidentPages(a), PagesPerSpan()) << "released, and still resident";
    }
    // Forcing the lazily freed pages out changes nothing in the count.
    heap.ReleaseLazilyFreed();
    EXPECT_EQ(ReturnedToOs() - before, static_cast<int64_t>(2 * kSpan));
    // Reuse takes a span back from the OS.
    ASSERT_EQ(heap.Allocate(), a);
    EXPECT_EQ(ReturnedToOs() - before, static_cast<int64_t>(kSpan));
    heap.Free(a);
  }
  EXPECT_EQ(ReturnedToOs(), before) << "an unmapped heap has nothing released left";
}

TEST(PageHeapTest, ReusesLowestFreedSpanAndRefusesWhenFull) {
  PageHeap heap(3 * kSpan, ReturnPolicy::kMadvDontneed);
  char* a = heap.Allocate();
  char* b = heap.Allocate();
  char* c = heap.Allocate();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(b, a + kSpan);
  EXPECT_EQ(c, b + kSpan);
  EXPECT_EQ(heap.Allocate(), nullptr) << "all three spans are in use";

  heap.Free(b);
  heap.Free(a);
  // Lowest address first: a, then b, never reaching past the used range.
  EXPECT_EQ(heap.Allocate(), a);
  EXPECT_EQ(heap.Allocate(), b);
  heap.Free(a);
  heap.Free(b);
  heap.Free(c);
  EXPECT_EQ(heap.GetStats().in_use_bytes, 0u);
  EXPECT_EQ(heap.GetStats().released_bytes, 3 * kSpan);
}

TEST(PageHeapTest, FreeRejectsForeignAndDoubleFreedPointers) {
  PageHeap heap(2 * kSpan, ReturnPolicy::kMadvDontneed);
  char* a = heap.Allocate();
  EXPECT_THROW(heap.Free(a + 1), std::invalid_argument);
  char local = 0;
  EXPECT_THROW(heap.Free(&local), std::invalid_argument);
  heap.Free(a);
  EXPECT_THROW(heap.Free(a), std::invalid_argument);
  EXPECT_THROW(PageHeap(kSpan + 1, ReturnPolicy::kMadvFree), std::invalid_argument);
}

TEST(PageHeapTest, DontneedDropsPagesAtOnceAndTheyComeBackZero) {
  PageHeap heap(2 * kSpan, ReturnPolicy::kMadvDontneed);
  char* a = heap.Allocate();
  EXPECT_EQ(ResidentPages(a), PagesPerSpan()) << "Allocate touches every page";
  std::memset(a, 0xAB, kSpan);
  heap.Free(a);
  EXPECT_EQ(ResidentPages(a), 0u) << "MADV_DONTNEED takes the pages out of RSS at once";

  char* again = heap.Allocate();
  ASSERT_EQ(again, a);
  EXPECT_EQ(ResidentPages(again), PagesPerSpan());
  EXPECT_TRUE(AllZero(again)) << "released pages fault back in as zero pages";
  heap.Free(again);
}

TEST(PageHeapTest, MadvFreeKeepsPagesResidentUntilReleased) {
  PageHeap heap(2 * kSpan, ReturnPolicy::kMadvFree);
  char* a = heap.Allocate();
  std::memset(a, 0xCD, kSpan);
  heap.Free(a);
  if (!heap.GetStats().madv_free_supported) GTEST_SKIP() << "kernel without MADV_FREE (< 4.5)";
  // Lazily freed pages stay mapped (and in RSS) until the kernel runs short of
  // memory; a 1 MB span freed a moment ago on a machine with room is not taken.
  EXPECT_EQ(ResidentPages(a), PagesPerSpan());
  EXPECT_EQ(heap.GetStats().lazy_free_bytes, kSpan);

  EXPECT_EQ(heap.ReleaseLazilyFreed(), kSpan);
  EXPECT_EQ(ResidentPages(a), 0u);
  PageHeap::Stats s = heap.GetStats();
  EXPECT_EQ(s.lazy_free_bytes, 0u);
  EXPECT_EQ(s.released_bytes, kSpan);
  EXPECT_EQ(heap.ReleaseLazilyFreed(), 0u) << "nothing left to release";

  char* again = heap.Allocate();
  ASSERT_EQ(again, a);
  EXPECT_TRUE(AllZero(again));
  heap.Free(again);
}

runtime::Request Get(std::string_view path, std::string_view query = {},
                     std::string_view method = "GET") {
  runtime::Request r;
  r.method = method;
  r.path = path;
  r.query = query;
  return r;
}

std::unique_ptr<runtime::Scenario> Create(std::string_view variant) {
  runtime::ScenarioInfo info = LazyReleaseInfo();
  return info.create(variant);
}

TEST(BurstTest, RefusesASecondBurstAndSizesOverTheCap) {
  auto scenario = Create("madv-dontneed");
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=513")).status, 400);
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=0")).status, 400);
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=12abc")).status, 400);
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=8", "DELETE")).status, 405);

  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=8")).status, 202);
  runtime::Response second = scenario->Handle(Get("/burst", "mb=8", "POST"));
  EXPECT_EQ(second.status, 409) << second.body;
  // Over the cap is refused as such, busy or not.
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=100000")).status, 400);
  // Destroying the scenario stops the running burst and frees its spans.
  const auto start = std::chrono::steady_clock::now();
  scenario.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

TEST(BurstTest, FreesEverythingWhenDoneAndMayRunAgain) {
  const int64_t before = LiveBytes();
  auto scenario = Create("madv-free");
  ASSERT_EQ(scenario->Handle(Get("/burst", "mb=4")).status, 202);
  // Allocation is paced over 0.8 s and the hold lasts 1 s: wait up to 10 s.
  std::string stats;
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stats = scenario->Handle(Get("/stats")).body;
    if (stats.find("\"burst\":\"idle\"") != std::string::npos) break;
  }
  EXPECT_NE(stats.find("\"burst\":\"idle\""), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"in_use_bytes\":0,"), std::string::npos) << stats;
  EXPECT_EQ(LiveBytes(), before);
  EXPECT_EQ(scenario->Handle(Get("/burst", "mb=4")).status, 202)
      << "the finished burst frees the slot";
  EXPECT_EQ(scenario->Handle(Get("/nope")).status, 404);
}

}  // namespace
}  // namespace leaklab::scenarios::lazy_release
