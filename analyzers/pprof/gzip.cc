#include "analyzers/pprof/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "analyzers/pprof/profile.h"

namespace leaklab::pprof::internal {
namespace {

// zlib's windowBits: 15 is the largest window (32 KiB); adding 16 asks for a
// gzip wrapper instead of a zlib one (zlib.h, deflateInit2 and inflateInit2).
constexpr int kGzipWindowBits = 15 + 16;
// zlib's default memLevel (zlib.h, deflateInit2).
constexpr int kDeflateMemLevel = 8;
// Deflate output is collected in steps of this many bytes; profiles compress
// to kilobytes or a few megabytes, so a few steps suffice.
constexpr std::size_t kChunkBytes = 64 * 1024;
// Inflated output is kept in pieces of at most this size (see GunzipBounded).
constexpr std::size_t kPieceBytes = 1024 * 1024;
// One inflate() call writes at most this much, into an uninitialised scratch
// buffer, so the limit check overshoots by at most this much before refusing.
// Inflating straight into a zero-filled 1 MiB piece cost every profile, even
// a 2 KB one, a 1 MiB memset per call (a third of the decode fuzzer's time).
constexpr std::size_t kScratchBytes = 64 * 1024;

// zlib counts in uInt (32 bits); feed longer input in pieces of this size.
constexpr std::size_t kMaxZlibStepBytes = UINT_MAX;

// Appends inflated bytes to the last piece, starting a new one when it is
// full. A piece's capacity doubles as it fills (from kScratchBytes up to
// kPieceBytes, never past it), so a small profile allocates about its size.
void AppendToPieces(std::vector<std::string>& pieces, const char* data, std::size_t size) {
  while (size > 0) {
    if (pieces.empty() || pieces.back().size() == kPieceBytes) pieces.emplace_back();
    std::string& piece = pieces.back();
    const std::size_t take = std::min(size, kPieceBytes - piece.size());
    if (piece.capacity() < piece.size() + take) {
      piece.reserve(std::min(kPieceBytes,
                             std::max({2 * piece.capacity(), piece.size() + take, kScratchBytes})));
    }
    piece.append(data, take);
    data += take;
    size -= take;
  }
}

std::string ZlibMessage(const z_stream& stream, int code) {
  if (stream.msg != nullptr) return stream.msg;
  return "zlib error " + std::to_string(code);
}

}  // namespace

bool HasGzipMagic(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string GunzipBounded(std::string_view compressed, std::size_t max_output_bytes) {
  z_stream stream{};
  if (int rc = inflateInit2(&stream, kGzipWindowBits); rc != Z_OK) {
    throw ProfileError("cannot start gzip decompression: " + ZlibMessage(stream, rc));
  }
  // Ends the zlib stream on every exit, normal or by exception.
  struct StreamCloser {
    z_stream* stream;
    ~StreamCloser() { inflateEnd(stream); }
  } closer{&stream};

  // Output goes into fixed-size pieces joined at the end, not into one growing
  // string: growing a string copies it into a buffer twice as large, so a bomb
  // refused at the limit would first have touched about twice the limit.
  std::vector<std::string> pieces;
  std::size_t total_out = 0;
  // new[] without () leaves the bytes uninitialised: zlib writes before we read.
  const std::unique_ptr<unsigned char[]> scratch(new unsigned char[kScratchBytes]);
  const auto* next_in = reinterpret_cast<const unsigned char*>(compressed.data());
  std::size_t remaining_in = compressed.size();
  // Steps, per RFC 1952 members and zlib's inflate() contract:
  //  1. give zlib input (at most 4 GiB at a time) and the free part of a piece;
  //  2. on Z_STREAM_END, a member is complete: continue with the next member
  //     if more gzip data follows, refuse other trailing bytes, else finish;
  //  3. refuse as soon as the output passes the limit;
  //  4. when zlib cannot progress with all input consumed, the data is truncated.
  for (;;) {
    if (stream.avail_in == 0 && remaining_in > 0) {
      std::size_t step = std::min(remaining_in, kMaxZlibStepBytes);
      stream.next_in = const_cast<unsigned char*>(next_in);
      stream.avail_in = static_cast<uInt>(step);
      next_in += step;
      remaining_in -= step;
    }
    uInt avail_in_before = stream.avail_in;
    stream.next_out = scratch.get();
    stream.avail_out = static_cast<uInt>(kScratchBytes);
    int rc = inflate(&stream, Z_NO_FLUSH);
    std::size_t produced = kScratchBytes - stream.avail_out;
    total_out += produced;
    if (total_out > max_output_bytes) {
      throw ProfileError("gzip data inflates to more than the limit of " +
                         std::to_string(max_output_bytes) +
                         " bytes; refusing it (a corrupt profile or a gzip bomb)");
    }
    AppendToPieces(pieces, reinterpret_cast<const char*>(scratch.get()), produced);
    if (rc == Z_STREAM_END) {
      std::size_t left = stream.avail_in + remaining_in;
      if (left == 0) break;
      // The unread input is contiguous: next_in walks the caller's buffer.
      std::string_view rest(reinterpret_cast<const char*>(stream.next_in), left);
      if (!HasGzipMagic(rest)) {
        throw ProfileError(std::to_string(left) + " bytes of trailing data after the gzip stream");
      }
      inflateReset(&stream);
      continue;
    }
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR) {
      throw ProfileError("corrupt gzip data: " + ZlibMessage(stream, rc));
    }
    if (rc == Z_MEM_ERROR) throw ProfileError("out of memory while inflating gzip data");
    bool progressed = produced > 0 || stream.avail_in < avail_in_before;
    if (rc == Z_BUF_ERROR || !progressed) {
      if (stream.avail_in == 0 && remaining_in == 0) {
        throw ProfileError("gzip data is truncated: the stream ends before its end marker");
      }
      if (stream.avail_in != 0) throw ProfileError("gzip decompression made no progress");
      // Otherwise this piece of input is used up: step 1 feeds the next one.
    } else if (rc != Z_OK) {
      throw ProfileError("gzip decompression failed: " + ZlibMessage(stream, rc));
    }
  }
  if (pieces.size() == 1) return std::move(pieces.front());  // most profiles: no copy
  std::string out;
  out.reserve(total_out);
  for (std::string& piece : pieces) {
    out += piece;
    std::string().swap(piece);  // free as we go: the peak stays near one copy
  }
  return out;
}

std::string Gzip(std::string_view raw) {
  z_stream stream{};
  // zlib's state (about 256 KiB) through operator new rather than malloc, so
  // that a program that redirects operator new (the scenario server builds
  // profiles in a scratch arena) also redirects this.
  stream.zalloc = [](voidpf, uInt items, uInt size) -> voidpf {
    return ::operator new (std::size_t{items} * size, std::nothrow);
  };
  stream.zfree = [](voidpf, voidpf p) { ::operator delete(p); };
  if (int rc = deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits,
                            kDeflateMemLevel, Z_DEFAULT_STRATEGY);
      rc != Z_OK) {
    throw ProfileError("cannot start gzip compression: " + ZlibMessage(stream, rc));
  }
  struct StreamCloser {
    z_stream* stream;
    ~StreamCloser() { deflateEnd(stream); }
  } closer{&stream};

  std::string out;
  const auto* next_in = reinterpret_cast<const unsigned char*>(raw.data());
  std::size_t remaining_in = raw.size();
  int rc = Z_OK;
  do {
    if (stream.avail_in == 0 && remaining_in > 0) {
      std::size_t step = std::min(remaining_in, kMaxZlibStepBytes);
      stream.next_in = const_cast<unsigned char*>(next_in);
      stream.avail_in = static_cast<uInt>(step);
      next_in += step;
      remaining_in -= step;
    }
    int flush = remaining_in == 0 ? Z_FINISH : Z_NO_FLUSH;
    std::size_t old_size = out.size();
    out.resize(old_size + kChunkBytes);
    stream.next_out = reinterpret_cast<unsigned char*>(out.data() + old_size);
    stream.avail_out = static_cast<uInt>(kChunkBytes);
    rc = deflate(&stream, flush);
    out.resize(old_size + (kChunkBytes - stream.avail_out));
    if (rc == Z_STREAM_ERROR) throw ProfileError("gzip compression failed");
  } while (rc != Z_STREAM_END);
  return out;
}

}  // namespace leaklab::pprof::internal
