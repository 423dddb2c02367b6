#include "common/printable.h"

#include <gtest/gtest.h>

namespace leaklab {
namespace {

TEST(Printable, ControlBytesAreShownNotSent) {
  EXPECT_EQ(Printable("rss_bytes"), "rss_bytes");
  EXPECT_EQ(Printable("a\x1b]0;pwned\x07z"), "a\\x1b]0;pwned\\x07z");
  EXPECT_EQ(Printable(std::string_view("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(Printable("cr\rdel\x7f"), "cr\\x0ddel\\x7f");
  // Line feeds and tabs lay out messages; UTF-8 is text.
  EXPECT_EQ(Printable("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace leaklab
