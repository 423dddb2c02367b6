#include "common/duration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace leaklab {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("20s"), milliseconds(20'000));
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(ParseDuration("2m"), milliseconds(120'000));
  EXPECT_EQ(ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(ParseDuration("10"), milliseconds(10'000));
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "s", "ten", "-1s", "5x", "1.2.3s", "9999h"}) {
    EXPECT_THROW(ParseDuration(bad), std::invalid_argument) << bad;
  }
}

TEST(ParseDuration, MessageNamesTheText) {
  try {
    ParseDuration("5parsecs");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("5parsecs"), std::string::npos);
  }
}

TEST(FormatDuration, RoundTrips) {
  EXPECT_EQ(FormatDuration(milliseconds(20'000)), "20s");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(1'500))), milliseconds(1'500));
}

// The style of the explanations and the report alike. Carried over from the
// two formatters this one replaced (report/html_test.cc's Format.Seconds and
// analyzers/series/units_test.cc's FormatDuration.SecondsToDays).
TEST(FormatSeconds, MillisecondsToDays) {
  EXPECT_EQ(FormatSeconds(0.85), "850 ms");
  EXPECT_EQ(FormatSeconds(0.4), "400 ms");
  EXPECT_EQ(FormatSeconds(9.6), "9.6 s");
  EXPECT_EQ(FormatSeconds(12), "12 s");
  EXPECT_EQ(FormatSeconds(250), "4 min 10 s");
  EXPECT_EQ(FormatSeconds(300), "5 min 0 s");
  EXPECT_EQ(FormatSeconds(7500), "2 h 5 min");
  EXPECT_EQ(FormatSeconds(12'000), "3 h 20 min");
  EXPECT_EQ(FormatSeconds(187'200), "2 d 4 h");
  EXPECT_EQ(FormatSeconds(3 * 86400 + 4 * 3600), "3 d 4 h");
  EXPECT_EQ(FormatSeconds(std::numeric_limits<double>::infinity()), "forever");
  EXPECT_EQ(FormatSeconds(std::nan("")), "-");
}

TEST(FormatSeconds, ChoosesTheUnitAfterRounding) {
  EXPECT_EQ(FormatSeconds(59.97), "1 min 0 s");
  EXPECT_EQ(FormatSeconds(3599.7), "1 h 0 min");
  EXPECT_EQ(FormatSeconds(86'399), "1 d 0 h");
  EXPECT_EQ(FormatSeconds(0.9996), "1 s");
  EXPECT_EQ(FormatSeconds(9.97), "10 s");
}

TEST(FormatSeconds, NoTrailingZeroAndASign) {
  EXPECT_EQ(FormatSeconds(0), "0 s");
  EXPECT_EQ(FormatSeconds(1), "1 s");
  EXPECT_EQ(FormatSeconds(5.04), "5 s");
  EXPECT_EQ(FormatSeconds(2.5), "2.5 s");
  EXPECT_EQ(FormatSeconds(-1.5), "-1.5 s");
  EXPECT_EQ(FormatSeconds(-90), "-1 min 30 s");
}

}  // namespace
}  // namespace leaklab

namespace leaklab {
namespace {

// Spans beyond a century print in years: whole days overflowed lround.
TEST(FormatSeconds, BeyondACenturyInYears) {
  EXPECT_EQ(FormatSeconds(3 * 86400), "3 d 0 h");
  EXPECT_EQ(FormatSeconds(1.7e308), "5.4e+300 years");
  EXPECT_EQ(FormatSeconds(-1e300), "-3.2e+292 years");
}

}  // namespace
}  // namespace leaklab
