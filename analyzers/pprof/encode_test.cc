// EncodeProfile: what it writes decodes to the model it was given, is
// deterministic, refuses a model with dangling indexes, and is read by
// `go tool pprof`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_test_util.h"
#include "analyzers/pprof/wire_test_util.h"

namespace leaklab::pprof {
namespace {

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

TEST(ProfileEncode, RefusesDanglingIndexesAndWrongValueCounts) {
  Profile bad_location = BuildHeapProfile();
  bad_location.samples[0].location_indexes.push_back(LocationIndex{99});
  EXPECT_THROW(EncodeProfile(bad_location), ProfileError);

  Profile bad_function = BuildHeapProfile();
  bad_function.locations[0].lines[0].function_index = FunctionIndex{42};
  EXPECT_THROW(EncodeProfile(bad_function), ProfileError);

  Profile bad_mapping = BuildHeapProfile();
  bad_mapping.locations[0].mapping_index = MappingIndex{5};
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

}  // namespace
}  // namespace leaklab::pprof
