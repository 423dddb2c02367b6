#include "analyzers/pprof/wire_test_util.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <iterator>

namespace leaklab::pprof {

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

std::string StringTable(std::initializer_list<std::string_view> strings) {
  std::string out;
  for (std::string_view s : strings) out += BytesField(kProfileStringTable, s);
  return out;
}

std::string MinimalStrings() {
  return StringTable({"", "objects", "count", "leak", "leak.cc", "kind", "cache"});
}
std::string SampleTypeMsg(int64_t type, int64_t unit) {
  return BytesField(kProfileSampleType, VarintField(1, type) + VarintField(2, unit));
}
std::string FunctionMsg(int64_t id, int64_t name, int64_t filename) {
  return BytesField(kProfileFunction,
                    VarintField(1, id) + VarintField(2, name) + VarintField(4, filename));
}
std::string MappingMsg(int64_t id) {
  return BytesField(kProfileMapping, VarintField(1, id) + VarintField(2, 0x1000));
}
std::string LocationMsg(int64_t id, int64_t function_id, int64_t mapping_id) {
  std::string body = VarintField(1, id);
  if (mapping_id != 0) body += VarintField(2, mapping_id);
  body += BytesField(4, VarintField(1, function_id) + VarintField(2, 10));
  return BytesField(kProfileLocation, body);
}
std::string SampleMsg(std::initializer_list<int64_t> location_ids,
                      std::initializer_list<int64_t> values, std::string labels) {
  return BytesField(kProfileSample, PackedField(1, location_ids) + PackedField(2, values) + labels);
}

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

std::string DecodeError(std::string_view bytes, const DecodeLimits& limits) {
  try {
    DecodeProfile(bytes, limits);
  } catch (const ProfileError& e) {
    return e.what();
  }
  ADD_FAILURE() << "DecodeProfile accepted the input";
  return "";
}

bool DecodesOrRefuses(std::string_view bytes, const DecodeLimits& limits) {
  try {
    DecodeProfile(bytes, limits);
    return true;
  } catch (const ProfileError&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace leaklab::pprof
