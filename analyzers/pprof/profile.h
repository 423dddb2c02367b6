// leaklab::pprof — an in-memory model of a pprof profile, and its codec.
//
// The model is made for analysis and for building profiles in code; it is not
// the wire format. On the wire (google/pprof proto/profile.proto) everything
// refers to everything else by numeric id and strings live in a shared table.
// Here strings are plain std::string and references are indexes into the
// Profile's own vectors, each table with an index type of its own, so that
// one table's index used for another's does not compile:
//
//   Sample::location_indexes  (LocationIndex) -> Profile::locations
//   Location::mapping_index   (MappingIndex)  -> Profile::mappings
//   Line::function_index      (FunctionIndex) -> Profile::functions
//
// Decoding resolves ids to indexes and checks that every reference holds;
// encoding assigns ids from 1 (id = index + 1) and builds a deduplicated string
// table. Building a profile in code therefore means: push functions, mappings
// and locations, remember their indexes (the Add* helpers return them), and
// push samples that use those indexes.
//
// This header does not include protobuf or zlib: the generated wire code stays
// inside the library's .cc files.
#ifndef LEAKLAB_ANALYZERS_PPROF_PROFILE_H_
#define LEAKLAB_ANALYZERS_PPROF_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.h"

namespace leaklab::pprof {

// Positions in a Profile's tables (see above). Enums without enumerators:
// as cheap as std::size_t, but neither converts to the other implicitly.
// Profile::function(), mapping() and location() look them up.
enum class FunctionIndex : std::size_t {};
enum class MappingIndex : std::size_t {};
enum class LocationIndex : std::size_t {};

// The position an index stands for in its table, for code that counts
// (encoding ids, bounds checks, per-location arrays).
constexpr std::size_t PositionOf(FunctionIndex index) { return static_cast<std::size_t>(index); }
constexpr std::size_t PositionOf(MappingIndex index) { return static_cast<std::size_t>(index); }
constexpr std::size_t PositionOf(LocationIndex index) { return static_cast<std::size_t>(index); }

// What a sample value means, e.g. {"inuse_space", "bytes"}.
struct ValueType {
  std::string type;
  std::string unit;

  friend bool operator==(const ValueType&, const ValueType&) = default;
};

struct Function {
  // Human-readable name, e.g. a demangled C++ name or "main.leakSessions".
  std::string name;
  // Name as the system knows it, e.g. a mangled C++ name; often equal to name.
  std::string system_name;
  std::string filename;
  int64_t start_line = 0;

  friend bool operator==(const Function&, const Function&) = default;
};

// A binary or library mapped into the profiled process.
struct Mapping {
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string filename;
  std::string build_id;
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;

  friend bool operator==(const Mapping&, const Mapping&) = default;
};

// One source position of a Location.
struct Line {
  FunctionIndex function_index{};  // into Profile::functions
  int64_t line = 0;
  int64_t column = 0;

  friend bool operator==(const Line&, const Line&) = default;
};

// One frame of a stack: an address and the source lines it stands for.
struct Location {
  std::optional<MappingIndex> mapping_index;  // into Profile::mappings; empty if unknown
  uint64_t address = 0;
  // More than one line means inlining: lines[0] is the innermost inlined
  // function and lines.back() the function it was inlined into.
  std::vector<Line> lines;
  bool is_folded = false;

  friend bool operator==(const Location&, const Location&) = default;
};

struct StringLabel {
  std::string key;
  std::string value;

  friend bool operator==(const StringLabel&, const StringLabel&) = default;
};

struct NumericLabel {
  std::string key;
  int64_t value = 0;
  std::string unit;  // may be empty: readers then guess the unit from the key

  friend bool operator==(const NumericLabel&, const NumericLabel&) = default;
};

struct Sample {
  // Into Profile::locations; the leaf (innermost frame) first, as pprof stores them.
  std::vector<LocationIndex> location_indexes;
  // One value per Profile::sample_types, in the same order.
  std::vector<int64_t> values;
  std::vector<StringLabel> string_labels;
  std::vector<NumericLabel> numeric_labels;

  friend bool operator==(const Sample&, const Sample&) = default;
};

struct Profile {
  std::vector<ValueType> sample_types;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;
  std::vector<Location> locations;
  std::vector<Function> functions;

  // Regular expressions over function names that pprof applies when showing
  // the profile; empty when unset.
  std::string drop_frames;
  std::string keep_frames;

  int64_t time_nanos = 0;      // collection time, nanoseconds since the Unix epoch
  int64_t duration_nanos = 0;  // 0 when a duration makes no sense
  ValueType period_type;
  int64_t period = 0;
  std::vector<std::string> comments;
  // Type of the preferred sample value; empty means the last sample type.
  std::string default_sample_type;

  // Appends and returns the new element's index, for building profiles in code.
  FunctionIndex AddFunction(Function function);
  MappingIndex AddMapping(Mapping mapping);
  LocationIndex AddLocation(Location location);

  // The element an index refers to. Unchecked, as vector's operator[]:
  // decoding has checked every reference of a decoded profile.
  const Function& function(FunctionIndex index) const { return functions[PositionOf(index)]; }
  const Mapping& mapping(MappingIndex index) const { return mappings[PositionOf(index)]; }
  const Location& location(LocationIndex index) const { return locations[PositionOf(index)]; }

  // Index of the sample type called `type` (e.g. "inuse_space"), if present.
  std::optional<std::size_t> FindSampleType(std::string_view type) const;
  // Sum over all samples of values[sample_type_index]; this is the "total"
  // that `go tool pprof -top` reports for that sample index. Saturates at
  // the int64 range rather than wrap.
  int64_t TotalValue(std::size_t sample_type_index) const;

  friend bool operator==(const Profile&, const Profile&) = default;
};

// Every failure to decode or encode a profile. what() names the file when it is
// known, then what was wrong and where, e.g.
// "heap.pb.gz: location 7: line 0 refers to function 99, which does not exist".
class ProfileError : public InputError {
 public:
  explicit ProfileError(const std::string& message);
  ProfileError(const std::filesystem::path& file, const std::string& message);

  // The file the profile came from; empty when decoding bytes in memory.
  const std::filesystem::path& file() const { return file_; }
  // The problem, without the file name.
  const std::string& problem() const { return problem_; }

 private:
  std::filesystem::path file_;
  std::string problem_;
};

// a + b and a - b, held at the int64 range instead of overflowing.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? INT64_MAX : INT64_MIN;
}
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? INT64_MAX : INT64_MIN;
}

// The largest magnitude a sample value may have: 2^53, the largest integer a
// double (the analysis's number) holds exactly, and 8 PiB as bytes, beyond
// any heap. Decoding refuses more, so that sums over a profile's samples
// (TotalValue, the diff) never overflow 64 bits in practice; they saturate
// all the same for profiles built in memory.
inline constexpr int64_t kMaxSampleValue = int64_t{1} << 53;

// Bounds on untrusted input, so that a hostile or broken profile is refused
// with an error instead of exhausting memory.
struct DecodeLimits {
  // Bytes accepted as input (compressed or not). Real compressed profiles are
  // kilobytes to a few megabytes; 64 MiB leaves a wide margin while keeping
  // the copy held during decoding small.
  std::size_t max_input_bytes = std::size_t{64} << 20;
  // Bytes of serialized profile.proto accepted after gunzip (or as raw input).
  // The decoded message takes a few times this in memory; 256 MiB is far above
  // any heap or goroutine profile we expect and still fits a CI machine. It is
  // what refuses a gzip bomb: inflation stops as soon as it is exceeded.
  std::size_t max_profile_bytes = std::size_t{256} << 20;
  // Entries, counted on the wire before protobuf builds them: parsing makes
  // a 4-byte sample about 100 bytes of memory, so bytes alone do not bound
  // it. Real heap profiles hold thousands to a few hundred thousand samples
  // (profile_benchmark goes to 10^6); at these limits a profile takes at
  // most about 1 GB while decoded.
  std::size_t max_samples = 1'000'000;
  std::size_t max_locations = 1'000'000;
  std::size_t max_functions = 1'000'000;
  std::size_t max_mappings = 100'000;
  std::size_t max_strings = 4'000'000;
  // Location ids and values in samples, and lines in locations, together.
  std::size_t max_elements = 32'000'000;
};

// Decodes a profile from gzip-compressed (detected by the magic bytes 1f 8b)
// or raw serialized profile.proto, and validates it. Throws ProfileError.
Profile DecodeProfile(std::string_view bytes, const DecodeLimits& limits = {});

// Reads and decodes a profile file; errors name the file. Throws ProfileError.
Profile ReadProfileFile(const std::filesystem::path& path, const DecodeLimits& limits = {});

// Encodes a profile as gzip-compressed profile.proto, readable by
// `go tool pprof`. Ids are assigned from 1 in vector order and the string
// table is deduplicated. The output is deterministic (no gzip timestamp).
// Throws ProfileError if the profile's indexes or value counts are
// inconsistent, since the result would not be a valid profile.
std::string EncodeProfile(const Profile& profile);

}  // namespace leaklab::pprof

#endif  // LEAKLAB_ANALYZERS_PPROF_PROFILE_H_
