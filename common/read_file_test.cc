#include "common/read_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace leaklab {
namespace {

namespace fs = std::filesystem;

fs::path Scratch(const std::string& name, const std::string& contents) {
  const fs::path dir =
      fs::temp_directory_path() / ("leaklab_read_file_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(ReadWholeFile, ReadsEveryByte) {
  std::string contents(200'000, 'x');
  contents[123'456] = '\0';
  EXPECT_EQ(ReadWholeFile(Scratch("whole", contents), 1 << 20), contents);
  EXPECT_EQ(ReadWholeFile(Scratch("empty", ""), 1), "");
}

TEST(ReadWholeFile, RefusesAFileOverTheLimitNamingIt) {
  const fs::path path = Scratch("big", std::string(3 << 20, 'x'));
  try {
    ReadWholeFile(path, 2 << 20, "a series file");
    FAIL() << "read a file over the limit";
  } catch (const ReadFileError& e) {
    EXPECT_EQ(e.reason(), ReadFileError::Reason::kTooLarge);
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": larger than 2 MiB, the limit for a series file");
  }
  EXPECT_EQ(ReadWholeFile(path, 3 << 20).size(), size_t{3} << 20);  // at the limit: read
}

TEST(ReadWholeFile, StopsAnEndlessFileAtTheLimit) {
  // /dev/zero reports size 0 and never ends.
  EXPECT_THROW(ReadWholeFile("/dev/zero", 1 << 20), ReadFileError);
}

TEST(ReadWholeFile, MissingAndFolderSayWhy) {
  try {
    ReadWholeFile("/nonexistent/leaklab/x.csv", 100);
    FAIL();
  } catch (const ReadFileError& e) {
    EXPECT_EQ(e.reason(), ReadFileError::Reason::kMissing);
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/leaklab/x.csv: cannot open: No such file or directory");
    EXPECT_EQ(e.problem(), "cannot open: No such file or directory");
  }
  try {
    ReadWholeFile(fs::temp_directory_path(), 100);
    FAIL();
  } catch (const ReadFileError& e) {
    EXPECT_EQ(e.reason(), ReadFileError::Reason::kUnreadable);
    EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
  }
}

TEST(ReadFileTail, KeepsTheEndWithoutLineEnds) {
  std::string log;
  for (int i = 0; i < 1000; ++i) log += "line " + std::to_string(i) + "\n";
  const std::string tail = ReadFileTail(Scratch("log", log), 20);
  EXPECT_EQ(tail.size(), 19u);
  EXPECT_TRUE(log.substr(0, log.size() - 1).ends_with(tail)) << tail;
  EXPECT_EQ(ReadFileTail("/nonexistent/leaklab/log", 20), "");
}

TEST(ReadFileHead, FirstBytesOrNothing) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "leaklab-head.txt";
  std::ofstream(path) << "0123456789";
  EXPECT_EQ(ReadFileHead(path, 4), "0123");
  EXPECT_EQ(ReadFileHead(path, 100), "0123456789");
  EXPECT_EQ(ReadFileHead("/no/such/file", 4), "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace leaklab
