#include "analyzers/series/series.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/input_limits.h"

namespace leaklab::series {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parses `text` expecting an InputError whose message is exactly `message`.
void ExpectInputError(std::string_view text, std::string_view message) {
  try {
    ParseSeriesCsv(text, "run.csv");
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const InputError& error) {
    EXPECT_EQ(error.what(), message) << "for:\n" << text;
  }
}

TEST(ParseSeriesCsv, ReadsKnownColumns) {
  const Series series =
      ParseSeriesCsv("t_s,rss_bytes,heap_inuse_bytes\n0,1000,500\n0.5,2000,600\n", "run.csv");
  EXPECT_EQ(series.source, "run.csv");
  EXPECT_EQ(series.size(), 2u);
  EXPECT_EQ(series.t_s, (std::vector<double>{0, 0.5}));
  EXPECT_EQ(series.columns, (std::vector<std::string>{"rss_bytes", "heap_inuse_bytes"}));
  ASSERT_EQ(series.values.size(), 2u);
  EXPECT_EQ(series.values[0], (std::vector<double>{1000, 2000}));
  EXPECT_EQ(series.values[1], (std::vector<double>{500, 600}));
}

TEST(ParseSeriesCsv, FindsColumnsByName) {
  const Series series = ParseSeriesCsv("rss_bytes,t_s\n7,1\n", "run.csv");
  ASSERT_NE(series.Find("rss_bytes"), nullptr);
  EXPECT_EQ(*series.Find("rss_bytes"), std::vector<double>{7});
  EXPECT_EQ(series.Find("t_s"), &series.t_s);
  EXPECT_EQ(series.Find("workers"), nullptr);
  EXPECT_EQ(series.Find(""), nullptr);
}

TEST(ParseSeriesCsv, TimeColumnMayBeAnywhereAndUnknownColumnsAreKept) {
  const Series series = ParseSeriesCsv("my_gauge,workers,t_s\n1,2,3\n", "run.csv");
  EXPECT_EQ(series.t_s, std::vector<double>{3});
  EXPECT_EQ(series.columns, (std::vector<std::string>{"my_gauge", "workers"}));
  EXPECT_EQ(*series.Find("my_gauge"), std::vector<double>{1});
  EXPECT_EQ(*series.Find("workers"), std::vector<double>{2});
}

TEST(ParseSeriesCsv, EmptyCellsAreMissing) {
  const Series series = ParseSeriesCsv("t_s,a,b\n0,,1\n1,2,\n2, ,3\n", "run.csv");
  const std::vector<double>& a = *series.Find("a");
  const std::vector<double>& b = *series.Find("b");
  EXPECT_TRUE(std::isnan(a[0]));
  EXPECT_EQ(a[1], 2);
  EXPECT_TRUE(std::isnan(a[2]));  // a blank-only cell is empty too
  EXPECT_EQ(b[0], 1);
  EXPECT_TRUE(std::isnan(b[1]));
  EXPECT_EQ(b[2], 3);
}

TEST(ParseSeriesCsv, ToleratesCrlfBomBlanksAndTrailingBlankLines) {
  const Series series = ParseSeriesCsv(
      "\xEF\xBB\xBF t_s , rss_bytes\r\n0, 1e3\r\n 1 ,+2.5E3\r\n\r\n  \n\n", "run.csv");
  EXPECT_EQ(series.columns, std::vector<std::string>{"rss_bytes"});
  EXPECT_EQ(series.t_s, (std::vector<double>{0, 1}));
  EXPECT_EQ(series.values[0], (std::vector<double>{1000, 2500}));
}

TEST(ParseSeriesCsv, LastLineNeedNotEndWithNewline) {
  EXPECT_EQ(ParseSeriesCsv("t_s\n1\n2", "run.csv").t_s, (std::vector<double>{1, 2}));
}

TEST(ParseSeriesCsv, HeaderOnlyIsAnEmptySeries) {
  const Series series = ParseSeriesCsv("t_s,rss_bytes\n", "run.csv");
  EXPECT_EQ(series.size(), 0u);
  EXPECT_EQ(series.values, std::vector<std::vector<double>>{{}});
  EXPECT_EQ(ParseSeriesCsv("t_s", "run.csv").size(), 0u);  // not even a line break
}

TEST(ParseSeriesCsv, KeepsTimeThatGoesBackwards) {
  // Ordering is the analyzer's decision; the reader only reports what is there.
  const Series series = ParseSeriesCsv("t_s\n2\n1\n1\n", "run.csv");
  EXPECT_EQ(series.t_s, (std::vector<double>{2, 1, 1}));
  EXPECT_FALSE(IsStrictlyIncreasing(series.t_s));
}

TEST(ParseSeriesCsv, HeaderErrors) {
  ExpectInputError("", "run.csv: no header row; expected column names such as 't_s,rss_bytes'");
  ExpectInputError("\n\n", "run.csv: no header row; expected column names such as 't_s,rss_bytes'");
  ExpectInputError("time,rss_bytes\n0,1\n",
                   "run.csv:1: no 't_s' column; the header is 'time,rss_bytes'");
  ExpectInputError("t_s,a,a\n", "run.csv:1: column 'a' appears twice (columns 2 and 3)");
  ExpectInputError("t_s,,b\n", "run.csv:1: column 2 of the header has no name");
  ExpectInputError("t_s,a,t_s\n", "run.csv:1: column 't_s' appears twice (columns 1 and 3)");
}

TEST(ParseSeriesCsv, RowErrorsNameFileLineAndColumn) {
  const std::string header = "t_s,rss_bytes,workers\n0,1,2\n";
  ExpectInputError(header + "1,2\n", "run.csv:3: 2 cells, expected 3: column 'workers' is missing");
  ExpectInputError(
      header + "1,2,3,4\n",
      "run.csv:3: 4 cells, expected 3: extra cell '4' after the last column 'workers'");
  ExpectInputError(header + "1,abc,3\n", "run.csv:3: column 'rss_bytes': 'abc' is not a number");
  ExpectInputError(header + "1,12MB,3\n", "run.csv:3: column 'rss_bytes': '12MB' is not a number");
  ExpectInputError(header + "1,0x10,3\n", "run.csv:3: column 'rss_bytes': '0x10' is not a number");
  ExpectInputError(header + "1,2,\"3\"\n", "run.csv:3: column 'workers': '\"3\"' is not a number");
  ExpectInputError(header + "1,2,++3\n", "run.csv:3: column 'workers': '++3' is not a number");
  ExpectInputError(header + "1,inf,3\n",
                   "run.csv:3: column 'rss_bytes': 'inf' is not a finite number");
  ExpectInputError(header + "1,2,nan\n",
                   "run.csv:3: column 'workers': 'nan' is not a finite number");
  ExpectInputError(header + "1,1e999,3\n",
                   "run.csv:3: column 'rss_bytes': '1e999' is out of range");
  ExpectInputError(header + "x,2,3\n", "run.csv:3: column 't_s': 'x' is not a number");
  ExpectInputError(header + ",2,3\n", "run.csv:3: column 't_s' is empty; every row needs a time");
  ExpectInputError(header + "\n2,3,4\n",
                   "run.csv:3: blank line before the last row (line 4 has data)");
}

TEST(ParseSeriesCsv, LineNumbersCountCrlfLines) {
  ExpectInputError("t_s,a\r\n0,1\r\n1,2\r\n2,?\r\n", "run.csv:4: column 'a': '?' is not a number");
}

TEST(ParseSeriesCsv, LongCellsAreCutInMessages) {
  const std::string cell(1000, 'x');
  ExpectInputError("t_s,a\n0," + cell + "\n",
                   "run.csv:2: column 'a': '" + std::string(40, 'x') + "...' is not a number");
}

TEST(ReadSeriesCsv, ReadsFixture) {
  const Series series = ReadSeriesCsv(LEAKLAB_SERIES_TESTDATA_DIR "/good.csv");
  EXPECT_TRUE(series.source.ends_with("testdata/good.csv")) << series.source;
  EXPECT_EQ(series.t_s, (std::vector<double>{0, 0.5, 1, 1.5}));
  EXPECT_EQ(series.columns,
            (std::vector<std::string>{"rss_bytes", "heap_inuse_bytes", "workers", "gc_note"}));
  const std::vector<double>& rss = *series.Find("rss_bytes");
  EXPECT_EQ(rss[0], 10485760);
  EXPECT_EQ(rss[1], 10551296);
  EXPECT_TRUE(std::isnan(rss[2]));
  EXPECT_EQ(rss[3], 10682368);
  const std::vector<double>& heap = *series.Find("heap_inuse_bytes");
  EXPECT_EQ(heap[2], 4325376);
  EXPECT_TRUE(std::isnan(heap[3]));
  EXPECT_EQ(*series.Find("workers"), (std::vector<double>{4, 4, 5, 5}));
  const std::vector<double>& note = *series.Find("gc_note");
  EXPECT_TRUE(std::isnan(note[0]));
  EXPECT_EQ(note[1], 7);
  EXPECT_EQ(note[3], -1250);
}

TEST(ReadSeriesCsv, MissingFileNamesThePath) {
  try {
    ReadSeriesCsv("/nonexistent/leaklab/series.csv");
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/leaklab/series.csv: cannot open: No such file or directory");
  }
}

TEST(ReadSeriesCsv, DirectoryIsAnInputError) {
  try {
    ReadSeriesCsv(LEAKLAB_SERIES_TESTDATA_DIR);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              LEAKLAB_SERIES_TESTDATA_DIR ": cannot read: Is a directory");
  }
}

TEST(IsKnownColumn, MatchesTheContract) {
  EXPECT_TRUE(IsKnownColumn("rss_bytes"));
  EXPECT_TRUE(IsKnownColumn("reloads_total"));
  EXPECT_FALSE(IsKnownColumn("t_s"));
  EXPECT_FALSE(IsKnownColumn("RSS_BYTES"));
  EXPECT_FALSE(IsKnownColumn("my_gauge"));
}

TEST(IsStrictlyIncreasing, Cases) {
  EXPECT_TRUE(IsStrictlyIncreasing(std::vector<double>{}));
  EXPECT_TRUE(IsStrictlyIncreasing(std::vector<double>{5}));
  EXPECT_TRUE(IsStrictlyIncreasing(std::vector<double>{-1, 0, 0.5, 100}));
  EXPECT_FALSE(IsStrictlyIncreasing(std::vector<double>{0, 1, 1}));
  EXPECT_FALSE(IsStrictlyIncreasing(std::vector<double>{0, 2, 1}));
  EXPECT_FALSE(IsStrictlyIncreasing(std::vector<double>{0, kNaN, 1}));
  EXPECT_FALSE(IsStrictlyIncreasing(std::vector<double>{kNaN}));
}

TEST(FormatCsvHeader, JoinsNames) {
  EXPECT_EQ(FormatCsvHeader({"t_s", "rss_bytes", "my gauge"}), "t_s,rss_bytes,my gauge\n");
}

TEST(FormatCsvHeader, RejectsNamesThatCannotBeReadBack) {
  for (const char* bad : {"", "a,b", "a\"", "a\nb", "a\r", " a", "a\t"}) {
    EXPECT_THROW(FormatCsvHeader({"t_s", bad}), std::invalid_argument) << bad;
  }
  EXPECT_THROW(FormatCsvHeader({"t_s", "a", "a"}), std::invalid_argument);
}

TEST(AppendCsvRow, WritesShortestFormAndEmptyCellsForNaN) {
  std::string out = "x";
  AppendCsvRow(out, std::vector<double>{0, 1.5, kNaN, 1e21, 0.1, -2, 123456789});
  EXPECT_EQ(out, "x0,1.5,,1e+21,0.1,-2,123456789\n");
  out.clear();
  AppendCsvRow(out, std::vector<double>{kNaN});
  EXPECT_EQ(out, "\n");
}

TEST(AppendCsvRow, RejectsInfinityWithoutWriting) {
  std::string out = "kept";
  EXPECT_THROW(AppendCsvRow(out, std::vector<double>{1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  EXPECT_EQ(out, "kept");
}

TEST(SeriesCsv, WriteThenReadRoundTripsEveryBit) {
  // Random bit patterns cover every exponent, subnormals and -0; NaN and
  // infinity patterns are replaced, NaN by a missing cell.
  std::mt19937_64 random(20240601);
  const std::vector<std::string> header = {"rss_bytes", "t_s", "heap_inuse_bytes", "my_gauge"};
  std::string text = FormatCsvHeader(header);
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 2000; ++i) {
    std::vector<double> row;
    for (size_t c = 0; c < header.size(); ++c) {
      double value = std::bit_cast<double>(random());
      if (!std::isfinite(value)) value = i % 2 ? -0.0 : 4.9e-324;
      if (c != 1 && random() % 5 == 0) value = kNaN;
      // Time is bounded (kMaxTimeSeconds); its bits within the bound still vary.
      if (c == 1 && std::fabs(value) > kMaxTimeSeconds) value = std::fmod(value, kMaxTimeSeconds);
      row.push_back(value);
    }
    AppendCsvRow(text, row);
    rows.push_back(row);
  }
  const Series series = ParseSeriesCsv(text, "round-trip");
  ASSERT_EQ(series.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t c = 0; c < header.size(); ++c) {
      const double read = (*series.Find(header[c]))[i];
      const double written = rows[i][c];
      if (std::isnan(written)) {
        EXPECT_TRUE(std::isnan(read)) << "row " << i << " column " << header[c];
      } else {
        EXPECT_EQ(std::bit_cast<uint64_t>(read), std::bit_cast<uint64_t>(written))
            << "row " << i << " column " << header[c] << ": " << written << " read as " << read;
      }
    }
  }
}

}  // namespace
}  // namespace leaklab::series

namespace leaklab::series {
namespace {

// A hostile header (400,000 columns, 3.9 MB) used to take minutes in a
// quadratic duplicate check; it is now refused by its size, naming the
// limit, and a header at the limit is checked in one pass.
TEST(ParseSeriesCsv, HeaderOfTooManyColumnsIsRefusedNamingTheLimit) {
  std::string text = "t_s";
  for (int c = 0; c < 400'000; ++c) text += ",c" + std::to_string(c);
  text += "\n";
  try {
    ParseSeriesCsv(text, "wide.csv");
    FAIL() << "accepted 400,001 columns";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("wide.csv:1: the header has 400001 columns, more than "
                                         "10000"),
              std::string::npos)
        << e.what();
  }
  std::string at_limit = "t_s";
  for (size_t c = 1; c + 1 < limits::kSeriesCsvColumns; ++c) at_limit += ",c" + std::to_string(c);
  at_limit += ",c1\n0";
  for (size_t c = 1; c < limits::kSeriesCsvColumns; ++c) at_limit += ",1";
  try {
    ParseSeriesCsv(at_limit + "\n", "limit.csv");
    FAIL() << "a duplicate column was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'c1' appears twice (columns 2 and 10000)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace leaklab::series

namespace leaklab::series {
namespace {

// Times near the double range used to come out as "duplicate timestamps"
// further on; they are refused where they are read, naming file and line.
TEST(ParseSeriesCsv, TimeBeyondTheRangeOfSecondsIsRefused) {
  try {
    ParseSeriesCsv("t_s,rss_bytes\n0,1\n1e308,2\n", "far.csv");
    FAIL() << "accepted t_s = 1e308";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("far.csv:3: t_s '1e308' is beyond 1e12 s"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(ParseSeriesCsv("t_s,rss_bytes\n1700000000,1\n1700000001.5,2\n", "unix.csv").size(), 2u);
}

// The rows, and the cells of a wide file, are bounded (here scaled down; the
// stated limits are 10^7 rows and 10^8 cells): the row past the limit is
// refused naming its line and the limit, before its memory is taken.
TEST(ParseSeriesCsv, RowsAndCellsPastTheLimitAreRefusedNamingTheLine) {
  const SeriesCsvLimits bounds{.rows = 3, .cells = 8};
  EXPECT_EQ(ParseSeriesCsv("t_s,a\n0,1\n1,2\n2,3\n", "ok.csv", bounds).size(), 3u);
  try {
    ParseSeriesCsv("t_s,a\n0,1\n1,2\n2,3\n3,4\n", "long.csv", bounds);
    FAIL() << "accepted 4 rows";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "long.csv:5: more than 3 rows of 2 columns, the limit for a series CSV (3 rows, "
                 "8 cells)");
  }
  try {
    ParseSeriesCsv("t_s,a,b,c\n0,1,1,1\n1,2,2,2\n2,3,3,3\n", "wide.csv", bounds);
    FAIL() << "accepted 12 cells";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "wide.csv:4: more than 2 rows of 4 columns, the limit for a series CSV (3 rows, "
                 "8 cells)");
  }
  EXPECT_EQ(SeriesCsvLimits{}.rows, limits::kSeriesCsvRows);
  EXPECT_EQ(SeriesCsvLimits{}.cells, limits::kSeriesCsvCells);
}

}  // namespace
}  // namespace leaklab::series
