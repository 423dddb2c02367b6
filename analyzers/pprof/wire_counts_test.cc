#include "analyzers/pprof/wire_counts.h"

#include <gtest/gtest.h>

#include <string>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/wire_test_util.h"

namespace leaklab::pprof {
namespace {

TEST(CountWire, CountsEntriesAndTheirRepeatedFields) {
  const std::string sample =
      PackedField(1, {1, 2, 3}) + PackedField(2, {100, 2000}) + BytesField(3, "");
  const std::string unpacked = UnpackedField(1, {1, 2}) + UnpackedField(2, {5});
  const std::string location = VarintField(1, 1) + BytesField(4, "") + BytesField(4, "");
  const std::string message = StringTable({"", "inuse_space", "bytes"}) + BytesField(2, sample) +
                              BytesField(2, unpacked) + BytesField(4, location) +
                              BytesField(5, VarintField(1, 1)) + BytesField(3, "");
  const internal::WireCounts c = internal::CountWire(message);
  EXPECT_EQ(c.strings, 3u);
  EXPECT_EQ(c.samples, 2u);
  EXPECT_EQ(c.locations, 1u);
  EXPECT_EQ(c.functions, 1u);
  EXPECT_EQ(c.mappings, 1u);
  EXPECT_EQ(c.elements, 6u + 3u + 2u);  // 3 ids, 2 values, 1 label; 2 + 1; 2 lines
}

TEST(CountWire, MalformedWireIsAProfileError) {
  EXPECT_THROW(internal::CountWire("\x12\x05\x01"), ProfileError);  // length past the end
  EXPECT_THROW(internal::CountWire("\x10\xff"), ProfileError);      // truncated varint
  EXPECT_THROW(internal::CountWire("\x13"), ProfileError);          // a group
}

// A profile of a million and one empty samples (2 bytes each on the wire,
// about 100 bytes each once parsed) is refused before it is parsed: 260 KB
// of such a file took 6.3 GB.
TEST(DecodeLimits, TooManyEntriesAreRefusedBeforeParsing) {
  std::string message = StringTable({""});
  message.reserve(2 * 1'000'001 + 16);
  for (int i = 0; i < 1'000'001; ++i) message += BytesField(2, "");
  try {
    DecodeProfile(message);
    FAIL() << "accepted 1000001 samples";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("1000001 samples, more than the limit of 1000000"),
              std::string::npos)
        << e.what();
  }
  DecodeLimits small;
  small.max_elements = 4;
  const std::string sample = BytesField(2, PackedField(2, {1, 2, 3, 4, 5}));
  EXPECT_THROW(DecodeProfile(StringTable({""}) + sample, small), ProfileError);
}

}  // namespace
}  // namespace leaklab::pprof
