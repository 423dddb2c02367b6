#include "harness/source_lines.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/read_file.h"

namespace leaklab::harness {
namespace {

namespace fs = std::filesystem;

TEST(ParseAddr2line, TakesEachAddressesOutermostFrame) {
  // As `addr2line -a -i -f -C` prints: an inlined frame first, then the
  // function it was inlined into; an address it knows nothing of; a
  // discriminator.
  const std::string out =
      "0x0000000000003c50\n"
      "std::vector<int>::push_back(int const&)\n"
      "/usr/include/c++/12/bits/stl_vector.h:1287\n"
      "ns::Track(int)\n"
      "/src/tracker.cc:42\n"
      "0x0000000000003d00\n"
      "??\n"
      "??:0\n"
      "0x0000000000003e10\n"
      "ns::Other()\n"
      "/src/other.cc:7 (discriminator 3)\n";
  const std::map<uint64_t, SourceLine> lines = ParseAddr2line(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines.at(0x3c50).file, "/src/tracker.cc");
  EXPECT_EQ(lines.at(0x3c50).line, 42);
  EXPECT_EQ(lines.at(0x3e10).file, "/src/other.cc");
  EXPECT_EQ(lines.at(0x3e10).line, 7);
  EXPECT_TRUE(ParseAddr2line("").empty());
  EXPECT_TRUE(ParseAddr2line("garbage\nmore\n").empty());
}

[[gnu::noinline]] uintptr_t ReturnAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

// The address of a call in this function, and the line it is on.
[[gnu::noinline]] uintptr_t AddressOfACall(int* line) {
  *line = __LINE__ + 1;
  const uintptr_t pc = ReturnAddress() - 1;  // in the call instruction
  asm volatile("" ::: "memory");             // keep the call where it is
  return pc;
}

// This test binary's executable mapping that holds `pc`, from /proc/self/maps.
std::optional<pprof::Mapping> MappingOf(uintptr_t pc, const fs::path& exe) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long start = 0, limit = 0, offset = 0;
    char perms[8] = {};
    char path[4096] = {};
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %4095s", &start, &limit, perms,
                    &offset, path) != 5) {
      continue;
    }
    if (pc >= start && pc < limit && fs::path(path) == exe) {
      pprof::Mapping m;
      m.memory_start = start;
      m.memory_limit = limit;
      m.file_offset = offset;
      m.filename = path;
      m.has_functions = true;
      return m;
    }
  }
  return std::nullopt;
}

class AddSourceLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("source_lines_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A profile with one sample at `pc` in `mapping`, named as the server names
  // functions (no file, no line).
  static pprof::Profile OneSample(const pprof::Mapping& mapping, uintptr_t pc) {
    pprof::Profile p;
    p.sample_types = {{"inuse_space", "bytes"}};
    const auto m = p.AddMapping(mapping);
    pprof::Function function;
    function.name = function.system_name = "AddressOfACall";
    const auto f = p.AddFunction(function);
    pprof::Location loc;
    loc.mapping_index = m;
    loc.address = pc;
    loc.lines.push_back({.function_index = f, .line = 0, .column = 0});
    const auto l = p.AddLocation(std::move(loc));
    pprof::Sample sample;
    sample.location_indexes = {l};
    sample.values = {4096};
    p.samples.push_back(std::move(sample));
    return p;
  }

  fs::path dir_;
};

TEST_F(AddSourceLinesTest, GivesOurProfilesTheFileAndLineOfEachCall) {
  if (std::system("command -v addr2line >/dev/null 2>&1") != 0) GTEST_SKIP() << "no binutils";
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  int line = 0;
  const uintptr_t pc = AddressOfACall(&line);
  const std::optional<pprof::Mapping> mapping = MappingOf(pc, exe);
  ASSERT_TRUE(mapping) << "no executable mapping of " << exe << " holds the call";
  WriteFileAtomically(dir_ / "heap-0001.pb.gz", pprof::EncodeProfile(OneSample(*mapping, pc)));
  // A profile of another program is not ours to touch.
  pprof::Mapping other = *mapping;
  other.filename = "/bin/true";
  const std::string foreign = pprof::EncodeProfile(OneSample(other, pc));
  WriteFileAtomically(dir_ / "heap-0002.pb.gz", foreign);

  const SourceLineResult r = AddSourceLines(dir_, exe);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.profiles, 1u);
  EXPECT_EQ(r.locations, 1u);
  const pprof::Profile p = pprof::ReadProfileFile(dir_ / "heap-0001.pb.gz");
  ASSERT_EQ(p.locations.size(), 1u);
  EXPECT_EQ(p.locations[0].lines.at(0).line, line);
  EXPECT_TRUE(p.functions.at(0).filename.ends_with("harness/source_lines_test.cc"))
      << p.functions.at(0).filename;
  EXPECT_EQ(p.functions.at(0).name, "AddressOfACall") << "names stay as the server wrote them";
  EXPECT_TRUE(p.mappings.at(0).has_line_numbers);
  EXPECT_EQ(ReadWholeFile(dir_ / "heap-0002.pb.gz", 1 << 20), foreign);
}

TEST_F(AddSourceLinesTest, SaysWhyWhenThereIsNoBinary) {
  const SourceLineResult r = AddSourceLines(dir_, dir_ / "no-such-binary");
  EXPECT_NE(r.error.find("no executable at"), std::string::npos) << r.error;
  EXPECT_EQ(r.profiles, 0u);
}

TEST(LinkTimeAddress, RefusesWhatIsNotAnElfObject) {
  const fs::path not_elf = fs::temp_directory_path() / "source_lines_test_not_elf";
  WriteFileAtomically(not_elf, "#!/bin/sh\n");
  EXPECT_FALSE(LinkTimeAddress(not_elf, pprof::Mapping{}, 0x1000));
  fs::remove(not_elf);
}

}  // namespace
}  // namespace leaklab::harness
