#include "common/bytes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace leaklab {
namespace {

TEST(ParseBytes, Suffixes) {
  EXPECT_EQ(ParseBytes("4096"), 4096);
  EXPECT_EQ(ParseBytes("200M"), 200LL * 1024 * 1024);
  EXPECT_EQ(ParseBytes("512KiB"), 512LL * 1024);
  EXPECT_EQ(ParseBytes("1G"), 1LL << 30);
  EXPECT_THROW(ParseBytes("12Q"), std::invalid_argument);
  EXPECT_THROW(ParseBytes("M"), std::invalid_argument);
}

// The style of the explanations and the report alike. Carried over from the
// two formatters this one replaced (analyzers/series/units_test.cc's
// FormatBytes.DecimalUnitsTwoDigitsBelowTen and report/html_test.cc's
// Format.Bytes).
TEST(FormatBytes, DecimalUnitsTwoDigitsBelowTen) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(950), "950 B");
  EXPECT_EQ(FormatBytes(1234), "1.2 KB");
  EXPECT_EQ(FormatBytes(1500), "1.5 KB");
  EXPECT_EQ(FormatBytes(412'000), "412 KB");
  EXPECT_EQ(FormatBytes(97'300'000), "97 MB");
  EXPECT_EQ(FormatBytes(268'000'000), "268 MB");
  EXPECT_EQ(FormatBytes(2.1e9), "2.1 GB");
  EXPECT_EQ(FormatBytes(3.5e9), "3.5 GB");
  EXPECT_EQ(FormatBytes(-3'200), "-3.2 KB");
  EXPECT_EQ(FormatBytes(-5.3e6), "-5.3 MB");
}

TEST(FormatBytes, ChoosesTheUnitAfterRounding) {
  EXPECT_EQ(FormatBytes(999'960), "1.0 MB");  // not "1000 KB"
  EXPECT_EQ(FormatBytes(9'960), "10 KB");     // not "10.0 KB"
}

TEST(FormatBytes, InfiniteAndMissing) {
  EXPECT_EQ(FormatBytes(std::numeric_limits<double>::infinity()), "unbounded");
  EXPECT_EQ(FormatBytes(std::nan("")), "-");
}

TEST(FormatBytesPerSecond, Signed) {
  EXPECT_EQ(FormatBytesPerSecond(10'054'793), "+10 MB/s");
  EXPECT_EQ(FormatBytesPerSecond(-3'200), "-3.2 KB/s");
  EXPECT_EQ(FormatBytesPerSecond(0), "0 B/s");
  EXPECT_EQ(FormatBytesPerSecond(std::nan("")), "-");
}

}  // namespace
}  // namespace leaklab

namespace leaklab {
namespace {

// Figures beyond any heap (hostile input) print short and with a unit; they
// used to print 60 digits and no unit.
TEST(FormatBytes, BeyondTheLargestUnitIsShortWithAUnit) {
  EXPECT_EQ(FormatBytes(990e15), "990 PB");
  EXPECT_EQ(FormatBytes(1e66), "1e+66 B");
  EXPECT_EQ(FormatBytes(-1.7e308), "-1.7e+308 B");
}

}  // namespace
}  // namespace leaklab
