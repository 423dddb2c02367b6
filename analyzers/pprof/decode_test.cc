// DecodeProfile and ReadProfileFile: the format's rules, each refused with
// its message; damaged, hostile and oversized input; the golden fixture and
// real profiles written by Go.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_test_util.h"
#include "analyzers/pprof/wire_test_util.h"

namespace leaklab::pprof {
namespace {

const std::filesystem::path kTestdata = LEAKLAB_PPROF_TESTDATA_DIR;

TEST(ProfileRoundTrip, RawUncompressedInputIsAccepted) {
  Profile profile = BuildHeapProfile();
  std::string raw = GunzipForTest(EncodeProfile(profile));
  EXPECT_EQ(DecodeProfile(raw), profile);
}

// ---------------------------------------------------------------------------
// The committed fixture testdata/golden.pb.gz, made by protoc from
// testdata/golden.textproto (see testdata/README.md), independently of the
// encoder.

Profile ExpectedGolden() {
  Profile p;
  p.sample_types = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  p.mappings = {{.memory_start = 4194304,
                 .memory_limit = 8388608,
                 .file_offset = 4096,
                 .filename = "/usr/bin/leaklab-scenario",
                 .build_id = "ab12cd34",
                 .has_functions = true,
                 .has_filenames = true,
                 .has_line_numbers = true,
                 .has_inline_frames = true}};
  p.functions = {
      {"main", "main", "main.cc", 40},
      {"Cache::Put(std::string)",
       "_ZN5Cache3PutENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE", "cache.cc", 15},
      {"Hash", "Hash", "cache.cc", 5},
  };
  // Ids 100, 200, 300 become indexes 0, 1, 2; function ids 10, 20, 30 too.
  p.locations = {
      {.mapping_index = MappingIndex{0},
       .address = 4198400,
       .lines = {{.function_index = FunctionIndex{0}, .line = 42}}},
      {.mapping_index = MappingIndex{0},
       .address = 4198656,
       .lines = {{.function_index = FunctionIndex{2}, .line = 7, .column = 5},
                 {.function_index = FunctionIndex{1}, .line = 19}}},
      {.address = 4198912,
       .lines = {{.function_index = FunctionIndex{1}, .line = 21}},
       .is_folded = true},
  };
  p.samples = {
      {.location_indexes = {LocationIndex{2}, LocationIndex{0}},
       .values = {3, 3072},
       .string_labels = {{"handler", "/cache"}},
       .numeric_labels = {{"bytes_requested", 1024, "bytes"}}},
      {.location_indexes = {LocationIndex{1}, LocationIndex{0}}, .values = {1, 64}},
  };
  p.drop_frames = "go\\.runtime.*";
  p.keep_frames = "Cache::.*";
  p.time_nanos = 1700000000123456789;
  p.duration_nanos = 20000000000;
  p.period_type = {"space", "bytes"};
  p.period = 524288;
  p.comments = {"leaklab golden fixture", "Cache::Put(std::string)"};
  p.default_sample_type = "inuse_space";
  return p;
}

TEST(ProfileGolden, FixtureDecodesToExpectedValues) {
  Profile decoded = ReadProfileFile(kTestdata / "golden.pb.gz");
  Profile expected = ExpectedGolden();
  EXPECT_EQ(decoded.sample_types, expected.sample_types);
  EXPECT_EQ(decoded.mappings, expected.mappings);
  EXPECT_EQ(decoded.functions, expected.functions);
  EXPECT_EQ(decoded.locations, expected.locations);
  EXPECT_EQ(decoded.samples, expected.samples);
  EXPECT_EQ(decoded.comments, expected.comments);
  EXPECT_EQ(decoded, expected);
  // And back: our encoding of it decodes to the same model.
  EXPECT_EQ(DecodeProfile(EncodeProfile(decoded)), expected);
}

// ---------------------------------------------------------------------------
// Packed and unpacked repeated fields (protobuf encoding guide: parsers must
// accept both for packable repeated scalars).

TEST(ProfileWire, PackedAndUnpackedRepeatedFieldsDecodeAlike) {
  std::string common_tail = LocationMsg(7, 1) + LocationMsg(8, 1) + FunctionMsg(1) +
                            MinimalStrings() + PackedField(13, {3, 4});
  std::string packed =
      SampleTypeMsg() + SampleTypeMsg(5, 2) +
      BytesField(kProfileSample, PackedField(1, {7, 8, 7}) + PackedField(2, {5, -300})) +
      common_tail;
  std::string unpacked =
      SampleTypeMsg() + SampleTypeMsg(5, 2) +
      BytesField(kProfileSample, UnpackedField(1, {7, 8, 7}) + UnpackedField(2, {5, -300})) +
      UnpackedField(13, {3, 4}) + LocationMsg(7, 1) + LocationMsg(8, 1) + FunctionMsg(1) +
      MinimalStrings();
  ASSERT_NE(packed, unpacked);
  Profile from_packed = DecodeProfile(packed);
  Profile from_unpacked = DecodeProfile(unpacked);
  EXPECT_EQ(from_packed, from_unpacked);
  ASSERT_EQ(from_unpacked.samples.size(), 1u);
  EXPECT_EQ(from_unpacked.samples[0].location_indexes,
            (std::vector<LocationIndex>{LocationIndex{0}, LocationIndex{1}, LocationIndex{0}}));
  EXPECT_EQ(from_unpacked.samples[0].values, (std::vector<int64_t>{5, -300}));
  EXPECT_EQ(from_unpacked.comments, (std::vector<std::string>{"leak", "leak.cc"}));
}

TEST(ProfileWire, MinimalProfileIsValid) {
  Profile p = DecodeProfile(MinimalProfile());
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.function(p.location(p.samples[0].location_indexes[0]).lines[0].function_index).name,
            "leak");
}

TEST(ProfileWire, UnknownFieldNumbersAreIgnored) {
  // A newer producer may add fields; they must not break reading.
  EXPECT_NO_THROW(DecodeProfile(MinimalProfile() + VarintField(99, 1) + BytesField(15, "x")));
}

TEST(ProfileWire, StringsNeedNotBeUtf8) {
  // Producers copy symbol and file names as bytes; Latin-1 must not be refused.
  Profile p = DecodeProfile(SampleTypeMsg() + LocationMsg(7, 1) + FunctionMsg(1) +
                            StringTable({"", "objects", "count", "caf\xe9", "f\xfc.cc"}));
  EXPECT_EQ(p.functions[0].name, "caf\xe9");
  EXPECT_EQ(DecodeProfile(EncodeProfile(p)), p);
}

// ---------------------------------------------------------------------------
// Validation: every rule of the format, each with the message it gives.

void ExpectError(std::string_view bytes, std::string_view expected) {
  std::string message = DecodeError(bytes);
  EXPECT_NE(message.find(expected), std::string::npos)
      << "message: " << message << "\nexpected to contain: " << expected;
}

TEST(ProfileValidation, StringTableMustStartWithEmptyString) {
  ExpectError(SampleTypeMsg() + StringTable({"oops", "objects", "count"}),
              "string_table[0] is \"oops\"; the format requires it to be the empty string");
  ExpectError(SampleTypeMsg(0, 0), "string_table is empty");
}

TEST(ProfileValidation, IdsMustBeNonZero) {
  ExpectError(MinimalProfile() + FunctionMsg(0), "function at position 1 has id 0");
  ExpectError(MinimalProfile() + LocationMsg(0, 1), "location at position 1 has id 0");
  ExpectError(MinimalProfile() + MappingMsg(0), "mapping at position 0 has id 0");
}

TEST(ProfileValidation, IdsMustBeUnique) {
  ExpectError(MinimalProfile() + FunctionMsg(1),
              "function id 1 is used twice, at positions 0 and 1");
  ExpectError(MinimalProfile() + LocationMsg(7, 1),
              "location id 7 is used twice, at positions 0 and 1");
  ExpectError(MinimalProfile() + MappingMsg(4) + MappingMsg(4),
              "mapping id 4 is used twice, at positions 0 and 1");
}

TEST(ProfileValidation, SampleLocationMustExist) {
  ExpectError(SampleTypeMsg() + SampleMsg({7, 12}, {5}) + LocationMsg(7, 1) + FunctionMsg(1) +
                  MinimalStrings(),
              "sample 0: frame 1 refers to location 12, which does not exist");
}

TEST(ProfileValidation, LocationMappingMustExist) {
  ExpectError(
      SampleTypeMsg() + LocationMsg(7, 1, /*mapping_id=*/3) + FunctionMsg(1) + MinimalStrings(),
      "location 7 refers to mapping 3, which does not exist");
  // Mapping id 0 means "unknown mapping" and is allowed.
  EXPECT_NO_THROW(DecodeProfile(MinimalProfile() + MappingMsg(3) + LocationMsg(9, 1, 3)));
}

TEST(ProfileValidation, LineFunctionMustExist) {
  ExpectError(SampleTypeMsg() + LocationMsg(7, 99) + FunctionMsg(1) + MinimalStrings(),
              "location 7: line 0 refers to function 99, which does not exist");
  ExpectError(SampleTypeMsg() + LocationMsg(7, 0) + FunctionMsg(1) + MinimalStrings(),
              "location 7: line 0 refers to function 0, which does not exist");
}

TEST(ProfileValidation, StringIndexesMustBeInRange) {
  ExpectError(MinimalProfile() + FunctionMsg(2, /*name=*/50),
              "function 2: name refers to string 50, but the string table has 7 entries");
  ExpectError(MinimalProfile() + FunctionMsg(2, 3, /*filename=*/-1),
              "function 2: filename refers to string -1");
  ExpectError(SampleTypeMsg(1, 9) + MinimalStrings(), "sample_type 0: unit refers to string 9");
  ExpectError(MinimalProfile() + PackedField(13, {1, 70}), "comment 1 refers to string 70");
  ExpectError(MinimalProfile() + VarintField(14, 8), "default_sample_type refers to string 8");
  ExpectError(SampleTypeMsg() +
                  SampleMsg({7}, {5}, BytesField(3, VarintField(1, 5) + VarintField(2, 77))) +
                  LocationMsg(7, 1) + FunctionMsg(1) + MinimalStrings(),
              "sample 0: label 0: str refers to string 77");
}

TEST(ProfileValidation, SampleValueCountMustMatchSampleTypes) {
  ExpectError(SampleTypeMsg() + SampleMsg({7}, {5, 6}) + LocationMsg(7, 1) + FunctionMsg(1) +
                  MinimalStrings(),
              "sample 0 has 2 values, but the profile has 1 sample types");
  ExpectError(
      SampleTypeMsg() + SampleMsg({7}, {}) + LocationMsg(7, 1) + FunctionMsg(1) + MinimalStrings(),
      "sample 0 has 0 values, but the profile has 1 sample types");
}

TEST(ProfileValidation, LabelHasStringOrNumberNotBoth) {
  ExpectError(
      SampleTypeMsg() +
          SampleMsg({7}, {5},
                    BytesField(3, VarintField(1, 5) + VarintField(2, 6) + VarintField(3, 42))) +
          LocationMsg(7, 1) + FunctionMsg(1) + MinimalStrings(),
      "sample 0: label 0 (kind) has both a string and a numeric value");
  Profile p = DecodeProfile(
      SampleTypeMsg() +
      SampleMsg({7}, {5},
                BytesField(3, VarintField(1, 5) + VarintField(2, 6)) +
                    BytesField(3, VarintField(1, 5) + VarintField(3, 42) + VarintField(4, 2))) +
      LocationMsg(7, 1) + FunctionMsg(1) + MinimalStrings());
  EXPECT_EQ(p.samples[0].string_labels, (std::vector<StringLabel>{{"kind", "cache"}}));
  EXPECT_EQ(p.samples[0].numeric_labels, (std::vector<NumericLabel>{{"kind", 42, "count"}}));
}

TEST(ProfileValidation, WrongWireTypesAreRefused) {
  // sample_type is a message; here it is a varint.
  ExpectError(VarintField(kProfileSampleType, 3) + MinimalStrings(),
              "Profile: field sample_type (1) has wire type varint, but the format says "
              "length-delimited");
  // Function.name is an int64 string index; here it is length-delimited bytes.
  ExpectError(SampleTypeMsg() +
                  BytesField(kProfileFunction, VarintField(1, 1) + BytesField(2, "x")) +
                  MinimalStrings(),
              "Profile.function[0]: field name (2) has wire type length-delimited, but the "
              "format says varint");
  // time_nanos as a fixed64.
  ExpectError(MinimalProfile() + Key(9, 1) + std::string(8, '\1'),
              "Profile: field time_nanos (9) has wire type fixed64");
  // string_table entry as a varint.
  ExpectError(MinimalProfile() + VarintField(kProfileStringTable, 1),
              "field string_table (6) has wire type varint");
}

// ---------------------------------------------------------------------------
// Damaged and hostile input: always a ProfileError, never a crash (damaged
// gzip: gzip_test.cc).

TEST(ProfileDamage, EmptyInput) { ExpectError("", "input is empty"); }

TEST(ProfileDamage, EveryTruncationOfRawProtobufDecodesOrIsRefused) {
  // A prefix that ends on a field boundary is a valid, shorter message; the
  // others must be refused by the protobuf parser or by validation.
  std::string raw = GunzipForTest(ReadAll(kTestdata / "golden.pb.gz"));
  int refused = 0;
  for (std::size_t n = 1; n < raw.size(); ++n) {
    try {
      DecodeProfile(std::string_view(raw).substr(0, n));
    } catch (const ProfileError&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, static_cast<int>(raw.size()) / 2);
  EXPECT_NE(DecodeError(std::string_view(raw).substr(0, 7)).find("malformed or truncated"),
            std::string::npos);
}

TEST(ProfileDamage, NonProfileBytesAreRefused) {
  // The legacy text heap profile format, which we do not read.
  ExpectError("heap profile: 1: 2 [3: 4] @ heap/1048576\n", "");
  ExpectError("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "");
  ExpectError("{\"not\": \"a profile\"}", "");
  // Valid gzip around text.
  ExpectError(GzipForTest("hello, this is not a profile\n"), "");
  // Random bytes: never a crash, nearly always refused.
  std::mt19937 rng(1234);
  int refused = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(1 + rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    try {
      DecodeProfile(bytes);
    } catch (const ProfileError&) {
      ++refused;
    }
  }
  EXPECT_GE(refused, 1990);
}

TEST(ProfileLimits, OversizedInputIsRefusedBeforeDecoding) {
  std::string gz = ReadAll(kTestdata / "golden.pb.gz");
  DecodeLimits limits;
  limits.max_input_bytes = 100;
  std::string message = DecodeError(gz, limits);
  EXPECT_NE(
      message.find("input has " + std::to_string(gz.size()) + " bytes, more than the limit of 100"),
      std::string::npos)
      << message;

  try {
    ReadProfileFile(kTestdata / "golden.pb.gz", limits);
    ADD_FAILURE() << "ReadProfileFile ignored max_input_bytes";
  } catch (const ProfileError& e) {
    EXPECT_EQ(e.file(), kTestdata / "golden.pb.gz");
    EXPECT_NE(std::string(e.what()).find("golden.pb.gz: file has"), std::string::npos) << e.what();
  }

  // Raw input is bounded by max_profile_bytes as well.
  DecodeLimits small_profile;
  small_profile.max_profile_bytes = 10;
  EXPECT_NE(DecodeError(MinimalProfile(), small_profile).find("more than the limit of 10"),
            std::string::npos);
}

TEST(ProfileFile, MissingFileIsNamed) {
  std::filesystem::path missing = kTestdata / "no-such-profile.pb.gz";
  try {
    ReadProfileFile(missing);
    ADD_FAILURE();
  } catch (const ProfileError& e) {
    EXPECT_EQ(e.file(), missing);
    EXPECT_EQ(std::string(e.what()).rfind(missing.string() + ": cannot read", 0), 0u) << e.what();
  }
}

TEST(ProfileFile, ErrorsNameTheFile) {
  std::filesystem::path path =
      std::filesystem::path(testing::TempDir()) / "profile_test_dangling.pb.gz";
  {
    std::ofstream out(path, std::ios::binary);
    std::string bad =
        GzipForTest(SampleTypeMsg() + LocationMsg(7, 99) + FunctionMsg(1) + MinimalStrings());
    out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
  }
  try {
    ReadProfileFile(path);
    ADD_FAILURE();
  } catch (const ProfileError& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": location 7: line 0 refers to function 99, which does not exist");
    EXPECT_EQ(e.problem(), "location 7: line 0 refers to function 99, which does not exist");
  }
  std::filesystem::remove(path);
}

// ---------------------------------------------------------------------------
// Real profiles written by Go 1.19's runtime/pprof (testdata/go/main.go; see
// testdata/README.md).

// Sum of the values over the samples whose stack contains `function`.
int64_t TotalThrough(const Profile& p, std::size_t sample_type, std::string_view function) {
  int64_t total = 0;
  for (const Sample& s : p.samples) {
    bool through =
        std::any_of(s.location_indexes.begin(), s.location_indexes.end(), [&](LocationIndex loc) {
          const auto& lines = p.location(loc).lines;
          return std::any_of(lines.begin(), lines.end(), [&](const Line& line) {
            return p.function(line.function_index).name == function;
          });
        });
    if (through) total += s.values[sample_type];
  }
  return total;
}

TEST(ProfileGo, HeapProfile) {
  Profile p = ReadProfileFile(kTestdata / "go_heap.pb.gz");
  ASSERT_EQ(p.sample_types, (std::vector<ValueType>{{"alloc_objects", "count"},
                                                    {"alloc_space", "bytes"},
                                                    {"inuse_objects", "count"},
                                                    {"inuse_space", "bytes"}}));
  EXPECT_EQ(p.period_type, (ValueType{"space", "bytes"}));
  EXPECT_EQ(p.period, 1);  // runtime.MemProfileRate = 1
  // 27 samples on the wire; `go tool pprof -raw` lists 22 because it drops
  // the 5 whose values are all zero. The model keeps what the file holds.
  EXPECT_EQ(p.samples.size(), 27u);
  // Totals from `go tool pprof -top -sample_index=<type> -unit=byte go_heap.pb.gz`
  // ("... of N total"), Go 1.19.8; the same as summing `go tool pprof -raw`.
  EXPECT_EQ(p.TotalValue(0), 1065);
  EXPECT_EQ(p.TotalValue(1), 1197288);
  EXPECT_EQ(p.TotalValue(2), 1023);
  EXPECT_EQ(p.TotalValue(3), 1110320);
  // The leak, by `go tool pprof -top -sample_index=inuse_objects|inuse_space
  // -unit=byte -focus=leakSessions go_heap.pb.gz`: 1002 objects, 1105944 bytes
  // (the 1000 entries of 1024 bytes plus the map's buckets).
  EXPECT_EQ(TotalThrough(p, 2, "main.leakSessions"), 1002);
  EXPECT_EQ(TotalThrough(p, 3, "main.leakSessions"), 1105944);
  // The entries themselves: one sample, 1000 objects of 1024 bytes, still live.
  auto entries = std::find_if(p.samples.begin(), p.samples.end(), [](const Sample& s) {
    return s.values == std::vector<int64_t>{1000, 1024000, 1000, 1024000};
  });
  ASSERT_NE(entries, p.samples.end());
  ASSERT_FALSE(entries->location_indexes.empty());
  const Location& leaf = p.location(entries->location_indexes[0]);
  ASSERT_FALSE(leaf.lines.empty());
  EXPECT_EQ(p.function(leaf.lines[0].function_index).name, "main.leakSessions");
  // Go labels heap samples with the object size.
  EXPECT_EQ(entries->numeric_labels, (std::vector<NumericLabel>{{"bytes", 1024, ""}}));
  bool found_inlined = false;
  for (const Location& loc : p.locations) {
    if (loc.lines.size() == 2 &&
        p.function(loc.lines[0].function_index).name == "main.leakSessions") {
      found_inlined = true;
      EXPECT_EQ(p.function(loc.lines[1].function_index).name, "main.main");
    }
  }
  EXPECT_TRUE(found_inlined);
  ASSERT_FALSE(p.mappings.empty());
  EXPECT_TRUE(p.mappings[0].has_functions);
  // Re-encoding keeps everything.
  EXPECT_EQ(DecodeProfile(EncodeProfile(p)), p);
}

TEST(ProfileGo, GoroutineProfile) {
  Profile p = ReadProfileFile(kTestdata / "go_goroutine.pb.gz");
  ASSERT_EQ(p.sample_types, (std::vector<ValueType>{{"goroutine", "count"}}));
  EXPECT_EQ(p.period_type, (ValueType{"goroutine", "count"}));
  // `go tool pprof -top go_goroutine.pb.gz`: "Showing nodes accounting for 6, 100% of 6 total".
  EXPECT_EQ(p.TotalValue(0), 6);
  // The 5 workers parked on the channel share one stack.
  EXPECT_EQ(TotalThrough(p, 0, "main.waitForever"), 5);
  EXPECT_EQ(TotalThrough(p, 0, "runtime.chanrecv"), 5);
  EXPECT_EQ(DecodeProfile(EncodeProfile(p)), p);
}

}  // namespace
}  // namespace leaklab::pprof
