#include "harness/sample_row.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

namespace leaklab::harness {
namespace {

TEST(SampleRow, PutsEachFigureUnderItsColumn) {
  ProcMemory proc;
  proc.rss_bytes = 16'000'000;
  proc.anon_bytes = 9'000'000;
  proc.lazyfree_bytes = -1;  // smaps_rollup could not be read
  const boost::json::object memstats =
      boost::json::parse(R"({"heap_inuse_bytes":5000000,"heap_free_bytes":400000,"workers":600,)"
                         R"("requests_total":504,"reloads_total":"ten","live_bytes":5000000})")
          .as_object();
  const std::vector<std::string> columns = RunSeriesColumns();
  const std::vector<double> row = SampleRow(2.5, proc, memstats);
  ASSERT_EQ(row.size(), columns.size());
  auto at = [&](const char* column) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == column) return row[i];
    }
    ADD_FAILURE() << "no column " << column;
    return 0.0;
  };
  EXPECT_EQ(columns.front(), "t_s");
  EXPECT_EQ(at("t_s"), 2.5);
  EXPECT_EQ(at("rss_bytes"), 16e6);
  EXPECT_EQ(at("anon_bytes"), 9e6);
  EXPECT_TRUE(std::isnan(at("lazyfree_bytes")));
  EXPECT_EQ(at("heap_inuse_bytes"), 5e6);
  EXPECT_EQ(at("heap_free_bytes"), 4e5);
  EXPECT_EQ(at("workers"), 600);
  EXPECT_EQ(at("requests_total"), 504);
  EXPECT_TRUE(std::isnan(at("keys_total")));     // absent
  EXPECT_TRUE(std::isnan(at("reloads_total")));  // not a number
  EXPECT_TRUE(std::isnan(at("malloc_inuse_bytes")));
}

TEST(SampleRow, NoMemstatsLeavesOnlyProc) {
  ProcMemory proc;
  proc.rss_bytes = 1;
  const std::vector<double> row = SampleRow(0, proc, {});
  EXPECT_EQ(row[1], 1);
  for (size_t i = 4; i < row.size(); ++i) EXPECT_TRUE(std::isnan(row[i])) << i;
}

}  // namespace
}  // namespace leaklab::harness
