#include "report/html.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "report/svg_chart.h"

namespace leaklab::report {
namespace {

TEST(Escape, MarkupCharactersBecomeEntities) {
  EXPECT_EQ(Escape("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
  EXPECT_EQ(Escape("say \"hi\" it's"), "say &quot;hi&quot; it&#39;s");
  EXPECT_EQ(Escape("std::vector<std::pair<int, char>>::operator<<"),
            "std::vector&lt;std::pair&lt;int, char&gt;&gt;::operator&lt;&lt;");
  EXPECT_EQ(Escape("</script><script>alert(1)</script>"),
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(Escape("&amp;"), "&amp;amp;");
}

TEST(Escape, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Escape("R² ≥ 0.5 → ✓ 😀"), "R² ≥ 0.5 → ✓ 😀");
  EXPECT_EQ(Escape("a\xFF"
                   "b"),
            "a\xEF\xBF\xBD"
            "b");                                                             // not UTF-8 at all
  EXPECT_EQ(Escape("\xC3"), "\xEF\xBF\xBD");                                  // truncated sequence
  EXPECT_EQ(Escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(Escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(Escape, DropsControlCharactersButKeepsTabAndNewline) {
  EXPECT_EQ(Escape(std::string("a\0b\x1b[31mc\td\n", 12)), "ab[31mc\td\n");
}

TEST(Format, Numbers) {
  EXPECT_EQ(FormatNumber(8907, 3), "8907");
  EXPECT_EQ(FormatNumber(0.25), "0.25");
  EXPECT_EQ(FormatNumber(3.14159), "3.14");
}

TEST(NiceTicks, ValuesUseStepsOfOneTwoOrFive) {
  EXPECT_EQ(NiceTicks(0, 100, 5, false), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(NiceTicks(0, 9.91, 8, true), (std::vector<double>{0, 2, 4, 6, 8}));
  // A day at 100 ms: ticks every few hours, not at 10,000 s.
  const std::vector<double> day = NiceTicks(0, 86'400, 8, true);
  ASSERT_FALSE(day.empty());
  EXPECT_EQ(day[1], 10'800);
  EXPECT_TRUE(NiceTicks(5, 1, 5, false).empty());
  // A range as wide as doubles go: a bounded number of ticks, all distinct.
  const std::vector<double> wide = NiceTicks(-1.7e308, 1.7e308, 5, false);
  EXPECT_LE(wide.size(), 1000u);
  EXPECT_TRUE(std::adjacent_find(wide.begin(), wide.end()) == wide.end());
}

}  // namespace
}  // namespace leaklab::report
