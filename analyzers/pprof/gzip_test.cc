// The codec's gzip (gzip.h): concatenated members, truncated and corrupt
// streams, and a gzip bomb refused at the limit without inflating it whole.
#include "analyzers/pprof/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile_test_util.h"
#include "analyzers/pprof/wire_test_util.h"

namespace leaklab::pprof {
namespace {

const std::filesystem::path kTestdata = LEAKLAB_PPROF_TESTDATA_DIR;

TEST(Gzip, OutputIsDeterministicAndReadByZlib) {
  const std::string raw = "a profile's bytes, a profile's bytes, a profile's bytes";
  const std::string gz = internal::Gzip(raw);
  EXPECT_TRUE(internal::HasGzipMagic(gz));
  EXPECT_FALSE(internal::HasGzipMagic(raw));
  EXPECT_EQ(internal::Gzip(raw), gz);
  EXPECT_EQ(GunzipForTest(gz), raw);
  EXPECT_EQ(internal::GunzipBounded(gz, raw.size()), raw);
  EXPECT_THROW(internal::GunzipBounded(gz, raw.size() - 1), ProfileError);
}

TEST(ProfileRoundTrip, ConcatenatedGzipMembersAreOneStream) {
  // gzip(1) and Go's gzip reader accept concatenated members (RFC 1952, 2.2).
  std::string raw = GunzipForTest(EncodeProfile(BuildHeapProfile()));
  std::size_t half = raw.size() / 2;
  std::string two_members = GzipForTest(raw.substr(0, half)) + GzipForTest(raw.substr(half));
  EXPECT_EQ(DecodeProfile(two_members), BuildHeapProfile());
}

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

}  // namespace
}  // namespace leaklab::pprof
