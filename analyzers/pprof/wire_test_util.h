// Helpers shared by the codec's tests (decode_test, encode_test, gzip_test):
// hand-made protobuf wire data, gzip without the library's own code, and
// decoding that expects a refusal.
#ifndef LEAKLAB_ANALYZERS_PPROF_WIRE_TEST_UTIL_H_
#define LEAKLAB_ANALYZERS_PPROF_WIRE_TEST_UTIL_H_

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof {

// Hand-made protobuf wire data (protobuf encoding guide: a field is a varint
// key (field_number << 3 | wire_type) followed by its payload; wire type 0 is
// varint, 2 is length-delimited). Written without the generated code so
// that tests can produce encodings the encoder never would: unpacked repeated
// fields, wrong wire types, dangling ids.
inline constexpr int kVarint = 0;
inline constexpr int kLengthDelimited = 2;

std::string Varint(uint64_t value);
std::string Key(int field, int wire_type);
std::string VarintField(int field, int64_t value);
std::string BytesField(int field, std::string_view bytes);
std::string PackedField(int field, std::initializer_list<int64_t> values);
std::string UnpackedField(int field, std::initializer_list<int64_t> values);

// Profile field numbers, from google/pprof proto/profile.proto.
inline constexpr int kProfileSampleType = 1;
inline constexpr int kProfileSample = 2;
inline constexpr int kProfileMapping = 3;
inline constexpr int kProfileLocation = 4;
inline constexpr int kProfileFunction = 5;
inline constexpr int kProfileStringTable = 6;

std::string StringTable(std::initializer_list<std::string_view> strings);

// Strings of the minimal profile below: 0 "", 1 "objects", 2 "count",
// 3 "leak", 4 "leak.cc", 5 "kind", 6 "cache".
std::string MinimalStrings();
std::string SampleTypeMsg(int64_t type = 1, int64_t unit = 2);
std::string FunctionMsg(int64_t id, int64_t name = 3, int64_t filename = 4);
std::string MappingMsg(int64_t id);
std::string LocationMsg(int64_t id, int64_t function_id, int64_t mapping_id = 0);
std::string SampleMsg(std::initializer_list<int64_t> location_ids,
                      std::initializer_list<int64_t> values, std::string labels = "");

// A valid profile: one sample type, one function, one location, one sample.
std::string MinimalProfile();

// gzip by zlib directly, independently of the library's gzip.cc.
std::string GzipForTest(std::string_view raw);
std::string GunzipForTest(std::string_view gz);

std::string ReadAll(const std::filesystem::path& path);

// Decodes `bytes` expecting a ProfileError; returns its message.
std::string DecodeError(std::string_view bytes, const DecodeLimits& limits = {});

// True if decoding either succeeds or throws ProfileError; any other outcome
// (another exception type) is a bug. A crash fails the whole test binary.
bool DecodesOrRefuses(std::string_view bytes, const DecodeLimits& limits = {});

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_WIRE_TEST_UTIL_H_
