#include "analyzers/pprof/profile.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace leaklab::pprof {
namespace {

const std::filesystem::path kTestdata = LEAKLAB_PPROF_TESTDATA_DIR;

// ---------------------------------------------------------------------------
// Hand-made protobuf wire data (protobuf encoding guide: a field is a varint
// key (field_number << 3 | wire_type) followed by its payload; wire type 0 is
// varint, 2 is length-delimited). Written here without the generated code so
// that tests can produce encodings the encoder never would: unpacked repeated
// fields, wrong wire types, dangling ids.

constexpr int kVarint = 0;
constexpr int kLengthDelimited = 2;

std::string Varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

std::string Key(int field, int wire_type) {
  return Varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}

std::string VarintField(int field, int64_t value) {
  return Key(field, kVarint) + Varint(static_cast<uint64_t>(value));
}

std::string BytesField(int field, std::string_view bytes) {
  return Key(field, kLengthDelimited) + Varint(bytes.size()) + std::string(bytes);
}

std::string PackedField(int field, std::initializer_list<int64_t> values) {
  std::string payload;
  for (int64_t v : values) payload += Varint(static_cast<uint64_t>(v));
  return BytesField(field, payload);
}

std::string UnpackedField(int field, std::initializer_list<int64_t> values) {
  std::string out;
  for (int64_t v : values) out += VarintField(field, v);
  return out;
}

// Profile field numbers, from google/pprof proto/profile.proto.
constexpr int kProfileSampleType = 1;
constexpr int kProfileSample = 2;
constexpr int kProfileMapping = 3;
constexpr int kProfileLocation = 4;
constexpr int kProfileFunction = 5;
constexpr int kProfileStringTable = 6;

std::string StringTable(std::initializer_list<std::string_view> strings) {
  std::string out;
  for (std::string_view s : strings) out += BytesField(kProfileStringTable, s);
  return out;
}

// Strings of the minimal profile below: 0 "", 1 "objects", 2 "count",
// 3 "leak", 4 "leak.cc", 5 "kind", 6 "cache".
std::string MinimalStrings() {
  return StringTable({"", "objects", "count", "leak", "leak.cc", "kind", "cache"});
}
std::string SampleTypeMsg(int64_t type = 1, int64_t unit = 2) {
  return BytesField(kProfileSampleType, VarintField(1, type) + VarintField(2, unit));
}
std::string FunctionMsg(int64_t id, int64_t name = 3, int64_t filename = 4) {
  return BytesField(kProfileFunction,
                    VarintField(1, id) + VarintField(2, name) + VarintField(4, filename));
}
std::string MappingMsg(int64_t id) {
  return BytesField(kProfileMapping, VarintField(1, id) + VarintField(2, 0x1000));
}
std::string LocationMsg(int64_t id, int64_t function_id, int64_t mapping_id = 0) {
  std::string body = VarintField(1, id);
  if (mapping_id != 0) body += VarintField(2, mapping_id);
  body += BytesField(4, VarintField(1, function_id) + VarintField(2, 10));
  return BytesField(kProfileLocation, body);
}
std::string SampleMsg(std::initializer_list<int64_t> location_ids,
                      std::initializer_list<int64_t> values, std::string labels = "") {
  return BytesField(kProfileSample, PackedField(1, location_ids) + PackedField(2, values) + labels);
}

// A valid profile: one sample type, one function, one location, one sample.
std::string MinimalProfile() {
  return SampleTypeMsg() + SampleMsg({7}, {5}) + LocationMsg(7, 1) + FunctionMsg(1) +
         MinimalStrings();
}

std::string GzipForTest(std::string_view raw) {
  z_stream stream{};
  EXPECT_EQ(
      deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&stream, raw.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string GunzipForTest(std::string_view gz) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out;
  char buffer[16384];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  stream.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&stream);
  return out;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Decodes `bytes` expecting a ProfileError; returns its message.
std::string DecodeError(std::string_view bytes, const DecodeLimits& limits = {}) {
  try {
    DecodeProfile(bytes, limits);
  } catch (const ProfileError& e) {
    return e.what();
  }
  ADD_FAILURE() << "DecodeProfile accepted the input";
  return "";
}

// True if decoding either succeeds or throws ProfileError; any other outcome
// (another exception type) is a bug. A crash fails the whole test binary.
bool DecodesOrRefuses(std::string_view bytes, const DecodeLimits& limits = {}) {
  try {
    DecodeProfile(bytes, limits);
    return true;
  } catch (const ProfileError&) {
    return true;
  } catch (...) {
    return false;
  }
}

// ---------------------------------------------------------------------------
// A profile built in code, as a server would build its heap profile.

Profile BuildHeapProfile() {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"}, {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 524288;
  p.time_nanos = 1'700'000'000'000'000'000;
  p.duration_nanos = 5'000'000'000;
  p.comments = {"built by profile_test", "second comment"};
  p.default_sample_type = "inuse_space";
  p.drop_frames = "operator new.*";
  p.keep_frames = "";
  std::size_t binary = p.AddMapping({.memory_start = 0x400000,
                                     .memory_limit = 0x800000,
                                     .file_offset = 0,
                                     .filename = "/usr/bin/server",
                                     .build_id = "feedface",
                                     .has_functions = true,
                                     .has_filenames = true});
  std::size_t main_fn = p.AddFunction({"main", "main", "main.cc", 10});
  std::size_t put_fn = p.AddFunction({"Cache::Put(std::string)", "_ZN5Cache3PutE", "cache.cc", 30});
  std::size_t grow_fn = p.AddFunction({"Grow", "Grow", "cache.cc", 80});
  std::size_t main_loc = p.AddLocation({.mapping_index = binary,
                                        .address = 0x401000,
                                        .lines = {{.function_index = main_fn, .line = 12}}});
  // Grow inlined into Cache::Put: innermost first.
  std::size_t put_loc =
      p.AddLocation({.mapping_index = binary,
                     .address = 0x402000,
                     .lines = {{.function_index = grow_fn, .line = 81, .column = 3},
                               {.function_index = put_fn, .line = 33}}});
  std::size_t unmapped_loc = p.AddLocation({.address = 0x7f0000001000,
                                            .lines = {{.function_index = put_fn, .line = 35}},
                                            .is_folded = true});
  p.samples.push_back({.location_indexes = {put_loc, main_loc},
                       .values = {1000, 1024000},
                       .string_labels = {{"handler", "/put"}},
                       .numeric_labels = {{"bytes", 1024, "bytes"}}});
  p.samples.push_back({.location_indexes = {unmapped_loc, main_loc}, .values = {3, -7}});
  p.samples.push_back({.location_indexes = {}, .values = {0, 0}});
  return p;
}

TEST(ProfileRoundTrip, BuiltInCodeSurvivesEncodeAndDecode) {
  Profile original = BuildHeapProfile();
  std::string encoded = EncodeProfile(original);
  ASSERT_GE(encoded.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(encoded[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(encoded[1]), 0x8b);

  Profile decoded = DecodeProfile(encoded);
  // Field by field first, for readable failures; then the whole.
  EXPECT_EQ(decoded.sample_types, original.sample_types);
  EXPECT_EQ(decoded.period_type, original.period_type);
  EXPECT_EQ(decoded.period, original.period);
  EXPECT_EQ(decoded.time_nanos, original.time_nanos);
  EXPECT_EQ(decoded.duration_nanos, original.duration_nanos);
  EXPECT_EQ(decoded.comments, original.comments);
  EXPECT_EQ(decoded.default_sample_type, original.default_sample_type);
  EXPECT_EQ(decoded.drop_frames, original.drop_frames);
  EXPECT_EQ(decoded.keep_frames, original.keep_frames);
  EXPECT_EQ(decoded.mappings, original.mappings);
  EXPECT_EQ(decoded.functions, original.functions);
  ASSERT_EQ(decoded.locations.size(), original.locations.size());
  for (std::size_t i = 0; i < original.locations.size(); ++i) {
    EXPECT_EQ(decoded.locations[i], original.locations[i]) << "location index " << i;
  }
  ASSERT_EQ(decoded.samples.size(), original.samples.size());
  for (std::size_t i = 0; i < original.samples.size(); ++i) {
    EXPECT_EQ(decoded.samples[i], original.samples[i]) << "sample " << i;
  }
  EXPECT_EQ(decoded, original);
}

TEST(ProfileRoundTrip, EncodingIsDeterministicAndStringsAreDeduplicated) {
  Profile profile = BuildHeapProfile();
  std::string first = EncodeProfile(profile);
  EXPECT_EQ(EncodeProfile(profile), first);

  // "cache.cc" is the filename of two functions; "bytes" is a unit three times
  // and a label key: each must be stored once.
  std::string raw = GunzipForTest(first);
  auto count = [&raw](std::string_view needle) {
    std::size_t n = 0;
    for (std::size_t at = raw.find(needle); at != std::string::npos;
         at = raw.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("cache.cc"), 1u);
  EXPECT_EQ(count("/usr/bin/server"), 1u);
  EXPECT_EQ(count("inuse_space"), 1u);
}

TEST(ProfileRoundTrip, EmptyProfile) {
  Profile empty;
  EXPECT_EQ(DecodeProfile(EncodeProfile(empty)), empty);
}

TEST(ProfileRoundTrip, RawUncompressedInputIsAccepted) {
  Profile profile = BuildHeapProfile();
  std::string raw = GunzipForTest(EncodeProfile(profile));
  EXPECT_EQ(DecodeProfile(raw), profile);
}

TEST(ProfileRoundTrip, ConcatenatedGzipMembersAreOneStream) {
  // gzip(1) and Go's gzip reader accept concatenated members (RFC 1952, 2.2).
  std::string raw = GunzipForTest(EncodeProfile(BuildHeapProfile()));
  std::size_t half = raw.size() / 2;
  std::string two_members = GzipForTest(raw.substr(0, half)) + GzipForTest(raw.substr(half));
  EXPECT_EQ(DecodeProfile(two_members), BuildHeapProfile());
}

TEST(ProfileEncode, RefusesDanglingIndexesAndWrongValueCounts) {
  Profile bad_location = BuildHeapProfile();
  bad_location.samples[0].location_indexes.push_back(99);
  EXPECT_THROW(EncodeProfile(bad_location), ProfileError);

  Profile bad_function = BuildHeapProfile();
  bad_function.locations[0].lines[0].function_index = 42;
  EXPECT_THROW(EncodeProfile(bad_function), ProfileError);

  Profile bad_mapping = BuildHeapProfile();
  bad_mapping.locations[0].mapping_index = 5;
  EXPECT_THROW(EncodeProfile(bad_mapping), ProfileError);

  Profile bad_values = BuildHeapProfile();
  bad_values.samples[1].values.push_back(1);
  try {
    EncodeProfile(bad_values);
    ADD_FAILURE() << "encoded a sample with 3 values for 2 sample types";
  } catch (const ProfileError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot encode: sample 1 has 3 values, but the profile has 2 sample types");
  }
}

TEST(ProfileModel, FindSampleTypeAndTotalValue) {
  Profile profile = BuildHeapProfile();
  EXPECT_EQ(profile.FindSampleType("inuse_space"), 1u);
  EXPECT_EQ(profile.FindSampleType("cpu"), std::nullopt);
  EXPECT_EQ(profile.TotalValue(0), 1003);
  EXPECT_EQ(profile.TotalValue(1), 1024000 - 7);
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
      {.mapping_index = 0, .address = 4198400, .lines = {{.function_index = 0, .line = 42}}},
      {.mapping_index = 0,
       .address = 4198656,
       .lines = {{.function_index = 2, .line = 7, .column = 5}, {.function_index = 1, .line = 19}}},
      {.address = 4198912, .lines = {{.function_index = 1, .line = 21}}, .is_folded = true},
  };
  p.samples = {
      {.location_indexes = {2, 0},
       .values = {3, 3072},
       .string_labels = {{"handler", "/cache"}},
       .numeric_labels = {{"bytes_requested", 1024, "bytes"}}},
      {.location_indexes = {1, 0}, .values = {1, 64}},
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
  EXPECT_EQ(from_unpacked.samples[0].location_indexes, (std::vector<std::size_t>{0, 1, 0}));
  EXPECT_EQ(from_unpacked.samples[0].values, (std::vector<int64_t>{5, -300}));
  EXPECT_EQ(from_unpacked.comments, (std::vector<std::string>{"leak", "leak.cc"}));
}

TEST(ProfileWire, MinimalProfileIsValid) {
  Profile p = DecodeProfile(MinimalProfile());
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.functions[p.locations[p.samples[0].location_indexes[0]].lines[0].function_index].name,
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

TEST(ProfileWire, GoToolPprofReadsOurEncoding) {
  // Interoperability with the reference reader, when Go is installed
  // (ci/install-deps installs golang-go).
  if (std::system("command -v go >/dev/null 2>&1") != 0) GTEST_SKIP() << "go not installed";
  std::filesystem::path dir = testing::TempDir();
  std::filesystem::path profile = dir / "profile_test_encoded.pb.gz";
  std::filesystem::path output = dir / "profile_test_pprof_raw.txt";
  {
    std::ofstream out(profile, std::ios::binary);
    std::string bytes = EncodeProfile(BuildHeapProfile());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // HOME: go tool pprof wants a home for its settings; CI may not set one.
  std::string command = "HOME='" + dir.string() + "' GOCACHE='" + (dir / "gocache").string() +
                        "' go tool pprof -raw '" + profile.string() + "' > '" + output.string() +
                        "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadAll(output);
  std::string raw = ReadAll(output);
  EXPECT_NE(raw.find("alloc_objects/count inuse_space/bytes[dflt]"), std::string::npos) << raw;
  EXPECT_NE(raw.find("1000    1024000: 1 2"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Grow cache.cc:81"), std::string::npos) << raw;
  EXPECT_NE(raw.find("handler:[/put]"), std::string::npos) << raw;
  std::filesystem::remove(profile);
  std::filesystem::remove(output);
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
// Damaged and hostile input: always a ProfileError, never a crash.

TEST(ProfileDamage, EmptyInput) { ExpectError("", "input is empty"); }

TEST(ProfileDamage, EveryTruncationOfGzipIsRefused) {
  std::string gz = ReadAll(kTestdata / "golden.pb.gz");
  ASSERT_GT(gz.size(), 100u);
  for (std::size_t n = 1; n < gz.size(); ++n) {
    std::string message = DecodeError(std::string_view(gz).substr(0, n));
    EXPECT_FALSE(message.empty()) << "prefix of " << n << " bytes";
  }
  EXPECT_NE(DecodeError(std::string_view(gz).substr(0, gz.size() / 2)).find("truncated"),
            std::string::npos);
}

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

TEST(ProfileDamage, CorruptGzipIsRefused) {
  std::string gz = ReadAll(kTestdata / "golden.pb.gz");
  // The last 8 bytes are CRC-32 and length (RFC 1952, 2.3.1).
  std::string bad_crc = gz;
  bad_crc[gz.size() - 6] ^= 0x55;
  EXPECT_NE(DecodeError(bad_crc).find("corrupt gzip data"), std::string::npos);
  std::string bad_body = gz;
  bad_body[20] ^= 0xff;
  EXPECT_FALSE(DecodeError(bad_body).empty());
  // Flipping any byte must never crash; most must be refused.
  for (std::size_t i = 0; i < gz.size(); ++i) {
    std::string flipped = gz;
    flipped[i] ^= 0x5a;
    EXPECT_TRUE(DecodesOrRefuses(flipped)) << "byte " << i;
  }
  EXPECT_NE(DecodeError(gz + "junk").find("4 bytes of trailing data"), std::string::npos);
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

// A gzip member (RFC 1952) of `inflated_bytes` zeros, a multiple of 1 MiB,
// built without deflating them all (deflating 1 GiB takes seconds):
//  1. deflate 1 MiB of zeros with Z_FULL_FLUSH, which byte-aligns the output
//     and drops the history, so the next 1 MiB deflates to identical bytes;
//  2. repeat those bytes for every further MiB;
//  3. end with an empty final fixed-Huffman block, 03 00 (RFC 1951, 3.2.3 and
//     3.2.6), then the CRC-32 (combined per MiB) and the size mod 2^32.
// Deflate's best ratio on zeros is about 1:1000, so 1 GiB is about 1 MiB.
std::string GzipBombOfZeros(std::size_t inflated_bytes) {
  constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  const std::string zeros(kChunkBytes, '\0');
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_RLE), Z_OK);
  auto deflate_chunk = [&] {
    std::string out;
    char buffer[1 << 16];
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    stream.avail_in = static_cast<uInt>(kChunkBytes);
    do {
      stream.next_out = reinterpret_cast<Bytef*>(buffer);
      stream.avail_out = sizeof buffer;
      EXPECT_EQ(deflate(&stream, Z_FULL_FLUSH), Z_OK);
      out.append(buffer, sizeof buffer - stream.avail_out);
    } while (stream.avail_out == 0);
    return out;
  };
  std::string out = deflate_chunk();  // gzip header and the first MiB
  const std::string repeated = deflate_chunk();
  EXPECT_EQ(deflate_chunk(), repeated);
  deflateEnd(&stream);

  const std::size_t chunks = inflated_bytes / kChunkBytes;
  const uLong chunk_crc =
      crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(kChunkBytes));
  uLong crc = chunk_crc;
  for (std::size_t i = 1; i < chunks; ++i) {
    out += repeated;
    crc = crc32_combine(crc, chunk_crc, static_cast<z_off_t>(kChunkBytes));
  }
  out += std::string("\x03\x00", 2);
  auto append_le32 = [&out](uint64_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  append_le32(crc);
  append_le32(inflated_bytes);  // ISIZE is the size modulo 2^32
  return out;
}

TEST(ProfileLimits, GzipBombBuilderMakesValidGzip) {
  // Inflated under a limit above its size, the bomb must inflate completely
  // (its CRC and size check out) and only then fail as a profile: zeros are
  // not protobuf (field number 0 is invalid).
  std::string bomb = GzipBombOfZeros(std::size_t{8} << 20);
  DecodeLimits limits;
  limits.max_profile_bytes = std::size_t{9} << 20;
  EXPECT_NE(DecodeError(bomb, limits).find("not a valid profile.proto message"), std::string::npos);
}

TEST(ProfileLimits, GzipBombIsRefusedAtTheLimit) {
  const std::size_t kOneGiB = std::size_t{1} << 30;
  std::string bomb = GzipBombOfZeros(kOneGiB);
  RecordProperty("bomb_compressed_bytes", static_cast<int>(bomb.size()));
  EXPECT_LT(bomb.size(), std::size_t{2} << 20);

  DecodeLimits limits;
  limits.max_profile_bytes = std::size_t{16} << 20;
  auto start = std::chrono::steady_clock::now();
  std::string message = DecodeError(bomb, limits);
  auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  EXPECT_NE(message.find("gzip data inflates to more than the limit of 16777216 bytes"),
            std::string::npos)
      << message;
  RecordProperty("bomb_refusal_ms", static_cast<int>(elapsed_ms));
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
        std::any_of(s.location_indexes.begin(), s.location_indexes.end(), [&](std::size_t loc) {
          const auto& lines = p.locations[loc].lines;
          return std::any_of(lines.begin(), lines.end(), [&](const Line& line) {
            return p.functions[line.function_index].name == function;
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
  const Location& leaf = p.locations[entries->location_indexes[0]];
  ASSERT_FALSE(leaf.lines.empty());
  EXPECT_EQ(p.functions[leaf.lines[0].function_index].name, "main.leakSessions");
  // Go labels heap samples with the object size.
  EXPECT_EQ(entries->numeric_labels, (std::vector<NumericLabel>{{"bytes", 1024, ""}}));
  bool found_inlined = false;
  for (const Location& loc : p.locations) {
    if (loc.lines.size() == 2 &&
        p.functions[loc.lines[0].function_index].name == "main.leakSessions") {
      found_inlined = true;
      EXPECT_EQ(p.functions[loc.lines[1].function_index].name, "main.main");
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
