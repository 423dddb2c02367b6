#include "analyzers/series/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace leaklab::series {
namespace {

TEST(FormatBytes, DecimalUnitsTwoDigitsBelowTen) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(950), "950 B");
  EXPECT_EQ(FormatBytes(1234), "1.2 KB");
  EXPECT_EQ(FormatBytes(412'000), "412 KB");
  EXPECT_EQ(FormatBytes(999'960), "1.0 MB");  // rounds up into the next unit, not "1000 KB"
  EXPECT_EQ(FormatBytes(-5.3e6), "-5.3 MB");
  EXPECT_EQ(FormatBytes(3.5e9), "3.5 GB");
  EXPECT_EQ(FormatBytes(std::numeric_limits<double>::infinity()), "unbounded");
}

TEST(FormatDuration, SecondsToDays) {
  EXPECT_EQ(FormatDuration(0.4), "0.4 s");
  EXPECT_EQ(FormatDuration(12), "12 s");
  EXPECT_EQ(FormatDuration(300), "5 min");
  EXPECT_EQ(FormatDuration(7500), "2 h 5 min");
  EXPECT_EQ(FormatDuration(3 * 86400 + 4 * 3600), "3 d 4 h");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "forever");
}

}  // namespace
}  // namespace leaklab::series
