#include "harness/procfs_sampler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/read_file.h"

namespace leaklab::harness {
namespace {

std::string ReadTestdata(const char* name) {
  return ReadWholeFile(std::filesystem::path(LEAKLAB_HARNESS_TESTDATA_DIR) / name, 1 << 20);
}

TEST(FindKilobytesField, ReadsRecordedStatusFile) {
  std::string status = ReadTestdata("status.txt");
  ASSERT_FALSE(status.empty());
  EXPECT_EQ(FindKilobytesField(status, "VmRSS"), 2200 * 1024);
  EXPECT_EQ(FindKilobytesField(status, "VmHWM"), 2200 * 1024);
  EXPECT_EQ(FindKilobytesField(status, "RssAnon"), 180 * 1024);
}

TEST(FindKilobytesField, ReadsRecordedSmapsRollup) {
  std::string smaps = ReadTestdata("smaps_rollup.txt");
  ASSERT_FALSE(smaps.empty());
  EXPECT_EQ(FindKilobytesField(smaps, "Anonymous"), 112 * 1024);
  EXPECT_EQ(FindKilobytesField(smaps, "LazyFree"), 0);
  EXPECT_EQ(FindKilobytesField(smaps, "Rss"), 1756 * 1024);
}

TEST(FindKilobytesField, KeyMustMatchWholeName) {
  // "Rss" must not match "RssAnon:" and "Pss" must not match "Pss_Anon:".
  EXPECT_EQ(FindKilobytesField("RssAnon:\t 5 kB\nRss:  7 kB\n", "Rss"), 7 * 1024);
  EXPECT_FALSE(FindKilobytesField("Pss_Anon:  5 kB\n", "Pss").has_value());
}

TEST(FindKilobytesField, MalformedValuesAreMissing) {
  EXPECT_FALSE(FindKilobytesField("VmRSS:\n", "VmRSS").has_value());
  EXPECT_FALSE(FindKilobytesField("VmRSS:  12 MB\n", "VmRSS").has_value());
  EXPECT_FALSE(FindKilobytesField("VmRSS:  abc kB\n", "VmRSS").has_value());
  EXPECT_FALSE(FindKilobytesField("", "VmRSS").has_value());
  EXPECT_EQ(FindKilobytesField("VmRSS:  12 kB", "VmRSS"), 12 * 1024);  // no trailing newline
}

TEST(ProcfsSampler, SeesThisProcessGrow) {
  ProcfsSampler sampler(::getpid());
  ASSERT_TRUE(sampler.ok());
  ProcMemory before = sampler.Sample();
  ASSERT_GT(before.rss_bytes, 0);
  ASSERT_GE(before.anon_bytes, 0);
  ASSERT_GE(before.lazyfree_bytes, 0);
  // Touch 64 MB so that RSS and anonymous memory must rise by most of it.
  std::vector<char> big(64 << 20, 1);
  ProcMemory after = sampler.Sample();
  EXPECT_GT(after.rss_bytes - before.rss_bytes, 48 << 20);
  EXPECT_GT(after.anon_bytes - before.anon_bytes, 48 << 20);
  EXPECT_EQ(big[12345], 1);
}

TEST(ProcfsSampler, MissingProcessIsNotOk) {
  ProcfsSampler sampler(999'999'999);
  EXPECT_FALSE(sampler.ok());
  EXPECT_EQ(sampler.Sample().rss_bytes, -1);
}

}  // namespace
}  // namespace leaklab::harness
