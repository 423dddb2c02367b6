#include "analyzers/verdict/explain.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
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

}  // namespace
}  // namespace leaklab::verdict
