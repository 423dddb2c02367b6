// gzip compression and bounded decompression for the profile codec.
// Internal to analyzers/pprof: not part of the library's public interface.
#ifndef LEAKLAB_ANALYZERS_PPROF_GZIP_H_
#define LEAKLAB_ANALYZERS_PPROF_GZIP_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace leaklab::pprof::internal {

// True when `bytes` starts with the gzip magic number 1f 8b (RFC 1952, 2.3.1).
bool HasGzipMagic(std::string_view bytes);

// Inflates a gzip stream (RFC 1952), including several concatenated members
// as gzip(1) writes them. Stops and throws ProfileError as soon as the output
// would exceed `max_output_bytes`, so a small bomb never allocates more than
// the limit. Also throws for corrupt or truncated data and trailing garbage.
std::string GunzipBounded(std::string_view compressed, std::size_t max_output_bytes);

// Compresses `raw` into one gzip member with zlib's default level and a header
// without file name or timestamp, so equal input gives equal output.
std::string Gzip(std::string_view raw);

}  // namespace leaklab::pprof::internal

#endif  // LEAKLAB_ANALYZERS_PPROF_GZIP_H_
