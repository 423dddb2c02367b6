#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "common/errors.h"
#include "common/read_file.h"

namespace leaklab {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("leaklab-atomic-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t Entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesWholeAndReplaces) {
  WriteFileAtomically(dir_ / "a.txt", "one");
  WriteFileAtomically(dir_ / "a.txt", "two");
  EXPECT_EQ(ReadWholeFile(dir_ / "a.txt", 100), "two");
  EXPECT_EQ(Entries(), 1u);  // no temporary file left behind
}

// A file of the user's that happens to have the old temporary name is
// never touched.
TEST_F(AtomicFileTest, NeverTouchesAUsersFileOfATemporaryLookingName) {
  std::ofstream(dir_ / "a.txt.tmp") << "precious";
  WriteFileAtomically(dir_ / "a.txt", "data");
  EXPECT_EQ(ReadWholeFile(dir_ / "a.txt.tmp", 100), "precious");
}

// A folder where the file should go: an IoError naming the path, and no
// stray temporary file (it used to leave DIR.tmp).
TEST_F(AtomicFileTest, FailureLeavesNothingBehind) {
  fs::create_directories(dir_ / "taken");
  try {
    WriteFileAtomically(dir_ / "taken", "data");
    FAIL() << "wrote over a folder";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find((dir_ / "taken").string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(Entries(), 1u);
  EXPECT_THROW(WriteFileAtomically(dir_ / "no" / "such" / "folder.txt", "x"), IoError);
}

}  // namespace
}  // namespace leaklab
