#include "common/duration.h"

#include <gtest/gtest.h>

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

TEST(ParseBytes, Suffixes) {
  EXPECT_EQ(ParseBytes("4096"), 4096);
  EXPECT_EQ(ParseBytes("200M"), 200LL * 1024 * 1024);
  EXPECT_EQ(ParseBytes("512KiB"), 512LL * 1024);
  EXPECT_EQ(ParseBytes("1G"), 1LL << 30);
  EXPECT_THROW(ParseBytes("12Q"), std::invalid_argument);
  EXPECT_THROW(ParseBytes("M"), std::invalid_argument);
}

}  // namespace
}  // namespace leaklab
