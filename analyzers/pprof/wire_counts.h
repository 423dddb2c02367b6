#ifndef LEAKLAB_ANALYZERS_PPROF_WIRE_COUNTS_H_
#define LEAKLAB_ANALYZERS_PPROF_WIRE_COUNTS_H_

// Internal to the decoder: what a serialized profile.proto message holds,
// counted on the wire before protobuf builds any object. Parsing expands
// tiny entries into large objects (a 4-byte sample becomes about 100 bytes
// of memory, so 256 MiB of them took 6.3 GB), so the decoder checks these
// counts against its limits first. Field numbers from google/pprof
// proto/profile.proto: Profile.sample = 2, mapping = 3, location = 4,
// function = 5, string_table = 6; Sample.location_id = 1, value = 2,
// label = 3; Location.line = 4.

#include <cstddef>
#include <string_view>

namespace leaklab::pprof::internal {

struct WireCounts {
  std::size_t samples = 0;
  std::size_t mappings = 0;
  std::size_t locations = 0;
  std::size_t functions = 0;
  std::size_t strings = 0;
  // Repeated numbers and small messages inside samples and locations:
  // location ids, values, labels and lines, each one object when parsed.
  std::size_t elements = 0;
};

// Counts the top-level fields of a Profile message, and the repeated fields
// inside its samples and locations. Throws ProfileError when the wire data
// is malformed (a truncated varint or length, a group, an unknown wire
// type), which protobuf's parser would refuse as well.
WireCounts CountWire(std::string_view message);

}  // namespace leaklab::pprof::internal

#endif  // LEAKLAB_ANALYZERS_PPROF_WIRE_COUNTS_H_
