// Decoding of pprof profiles: gunzip with limits, protobuf parsing, then the
// checks of the format's rules that protobuf cannot make, while converting ids
// to the model's indexes. Format source: google/pprof proto/profile.proto and
// proto/README.md.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include <climits>
#include <cstdint>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "analyzers/pprof/gzip.h"
#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile.pb.h"
#include "analyzers/pprof/wire_counts.h"
#include "common/read_file.h"

namespace leaklab::pprof {
namespace {

namespace gpb = google::protobuf;

const char* WireTypeName(gpb::UnknownField::Type type) {
  switch (type) {
    case gpb::UnknownField::TYPE_VARINT:
      return "varint";
    case gpb::UnknownField::TYPE_FIXED32:
      return "fixed32";
    case gpb::UnknownField::TYPE_FIXED64:
      return "fixed64";
    case gpb::UnknownField::TYPE_LENGTH_DELIMITED:
      return "length-delimited";
    case gpb::UnknownField::TYPE_GROUP:
      return "group";
  }
  return "unknown";
}

// protobuf's parser keeps a field whose wire type does not match the schema as
// an unknown field instead of failing (packed and unpacked repeated scalars are
// both accepted, as the protobuf encoding guide requires). A known field number
// among the unknown fields is therefore a field of the wrong type: refuse it,
// since silently dropping it would change the profile's meaning. Unknown field
// numbers are newer format fields and are ignored.
void CheckWireTypes(const gpb::Message& message, const std::string& where) {
  const gpb::Descriptor* descriptor = message.GetDescriptor();
  const gpb::Reflection* reflection = message.GetReflection();
  const gpb::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const gpb::UnknownField& field = unknown.field(i);
    const gpb::FieldDescriptor* known = descriptor->FindFieldByNumber(field.number());
    if (known == nullptr) continue;
    std::string expected =
        known->cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE ||
                known->cpp_type() == gpb::FieldDescriptor::CPPTYPE_STRING
            ? "length-delimited"
            : (known->is_repeated() ? "varint or packed (length-delimited)" : "varint");
    throw ProfileError(where + ": field " + known->name() + " (" + std::to_string(field.number()) +
                       ") has wire type " + WireTypeName(field.type()) + ", but the format says " +
                       expected);
  }
  for (int f = 0; f < descriptor->field_count(); ++f) {
    const gpb::FieldDescriptor* field = descriptor->field(f);
    if (field->cpp_type() != gpb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      int n = reflection->FieldSize(message, field);
      for (int j = 0; j < n; ++j) {
        CheckWireTypes(reflection->GetRepeatedMessage(message, field, j),
                       where + "." + field->name() + "[" + std::to_string(j) + "]");
      }
    } else if (reflection->HasField(message, field)) {
      CheckWireTypes(reflection->GetMessage(message, field), where + "." + field->name());
    }
  }
}

// Converts a validated-on-the-way wire profile into the model. Every method
// throws ProfileError naming the element at fault.
class Converter {
 public:
  explicit Converter(const wire::Profile& wire) : wire_(wire) {}

  Profile Convert() {
    CheckStringTable();
    Profile profile;
    ConvertFunctions(profile);
    ConvertMappings(profile);
    ConvertLocations(profile);
    for (int i = 0; i < wire_.sample_type_size(); ++i) {
      profile.sample_types.push_back(
          ToValueType(wire_.sample_type(i), "sample_type " + std::to_string(i)));
    }
    ConvertSamples(profile);
    profile.drop_frames = String(wire_.drop_frames(), "drop_frames");
    profile.keep_frames = String(wire_.keep_frames(), "keep_frames");
    profile.time_nanos = wire_.time_nanos();
    profile.duration_nanos = wire_.duration_nanos();
    profile.period_type = ToValueType(wire_.period_type(), "period_type");
    profile.period = wire_.period();
    for (int i = 0; i < wire_.comment_size(); ++i) {
      profile.comments.push_back(String(wire_.comment(i), "comment " + std::to_string(i)));
    }
    profile.default_sample_type = String(wire_.default_sample_type(), "default_sample_type");
    return profile;
  }

 private:
  // The README: "The first string is empty, so index == 0 always represents
  // the empty string."
  void CheckStringTable() const {
    if (wire_.string_table_size() == 0) {
      throw ProfileError(
          "string_table is empty; a profile's string_table must start with the empty string "
          "(is this a profile.proto message at all?)");
    }
    if (!wire_.string_table(0).empty()) {
      throw ProfileError("string_table[0] is \"" + wire_.string_table(0).substr(0, 40) +
                         "\"; the format requires it to be the empty string");
    }
  }

  const std::string& String(int64_t index, const std::string& what) const {
    if (index < 0 || index >= wire_.string_table_size()) {
      throw ProfileError(what + " refers to string " + std::to_string(index) +
                         ", but the string table has " + std::to_string(wire_.string_table_size()) +
                         " entries");
    }
    return wire_.string_table(static_cast<int>(index));
  }

  ValueType ToValueType(const wire::ValueType& wire, const std::string& what) const {
    return ValueType{String(wire.type(), what + ": type"), String(wire.unit(), what + ": unit")};
  }

  // Records id -> index, refusing id 0 and repeated ids (README: each has
  // "a unique nonzero id").
  template <typename Index>
  static void IndexId(std::unordered_map<uint64_t, Index>& index_by_id, uint64_t id,
                      std::size_t position, const char* kind) {
    if (id == 0) {
      throw ProfileError(std::string(kind) + " at position " + std::to_string(position) +
                         " has id 0; ids must be non-zero");
    }
    auto [it, inserted] = index_by_id.emplace(id, Index{position});
    if (!inserted) {
      throw ProfileError(std::string(kind) + " id " + std::to_string(id) +
                         " is used twice, at positions " + std::to_string(PositionOf(it->second)) +
                         " and " + std::to_string(position) + "; ids must be unique");
    }
  }

  void ConvertFunctions(Profile& profile) {
    profile.functions.reserve(wire_.function_size());
    for (int i = 0; i < wire_.function_size(); ++i) {
      const wire::Function& f = wire_.function(i);
      IndexId(function_by_id_, f.id(), static_cast<std::size_t>(i), "function");
      std::string what = "function " + std::to_string(f.id());
      profile.functions.push_back(Function{
          .name = String(f.name(), what + ": name"),
          .system_name = String(f.system_name(), what + ": system_name"),
          .filename = String(f.filename(), what + ": filename"),
          .start_line = f.start_line(),
      });
    }
  }

  void ConvertMappings(Profile& profile) {
    profile.mappings.reserve(wire_.mapping_size());
    for (int i = 0; i < wire_.mapping_size(); ++i) {
      const wire::Mapping& m = wire_.mapping(i);
      IndexId(mapping_by_id_, m.id(), static_cast<std::size_t>(i), "mapping");
      std::string what = "mapping " + std::to_string(m.id());
      profile.mappings.push_back(Mapping{
          .memory_start = m.memory_start(),
          .memory_limit = m.memory_limit(),
          .file_offset = m.file_offset(),
          .filename = String(m.filename(), what + ": filename"),
          .build_id = String(m.build_id(), what + ": build_id"),
          .has_functions = m.has_functions(),
          .has_filenames = m.has_filenames(),
          .has_line_numbers = m.has_line_numbers(),
          .has_inline_frames = m.has_inline_frames(),
      });
    }
  }

  void ConvertLocations(Profile& profile) {
    // Ids first: a location's lines may only refer to functions, but samples
    // refer to locations in any order.
    for (int i = 0; i < wire_.location_size(); ++i) {
      IndexId(location_by_id_, wire_.location(i).id(), static_cast<std::size_t>(i), "location");
    }
    profile.locations.reserve(wire_.location_size());
    for (const wire::Location& l : wire_.location()) {
      std::string what = "location " + std::to_string(l.id());
      Location location;
      location.address = l.address();
      location.is_folded = l.is_folded();
      // profile.proto: "For every nonzero Location.mapping_id there must be a
      // unique Mapping with that id."
      if (l.mapping_id() != 0) {
        auto it = mapping_by_id_.find(l.mapping_id());
        if (it == mapping_by_id_.end()) {
          throw ProfileError(what + " refers to mapping " + std::to_string(l.mapping_id()) +
                             ", which does not exist");
        }
        location.mapping_index = it->second;
      }
      location.lines.reserve(l.line_size());
      for (int j = 0; j < l.line_size(); ++j) {
        const wire::Line& line = l.line(j);
        auto it = function_by_id_.find(line.function_id());
        if (it == function_by_id_.end()) {
          throw ProfileError(what + ": line " + std::to_string(j) + " refers to function " +
                             std::to_string(line.function_id()) + ", which does not exist");
        }
        location.lines.push_back(
            Line{.function_index = it->second, .line = line.line(), .column = line.column()});
      }
      profile.locations.push_back(std::move(location));
    }
  }

  void ConvertSamples(Profile& profile) {
    const std::size_t value_count = profile.sample_types.size();
    profile.samples.reserve(wire_.sample_size());
    for (int i = 0; i < wire_.sample_size(); ++i) {
      const wire::Sample& s = wire_.sample(i);
      std::string what = "sample " + std::to_string(i);
      // profile.proto: "All samples must have the same number of values, the
      // same as the length of Profile.sample_type."
      if (static_cast<std::size_t>(s.value_size()) != value_count) {
        throw ProfileError(what + " has " + std::to_string(s.value_size()) +
                           " values, but the profile has " + std::to_string(value_count) +
                           " sample types");
      }
      Sample sample;
      sample.values.assign(s.value().begin(), s.value().end());
      for (std::size_t v = 0; v < value_count; ++v) {
        if (sample.values[v] > kMaxSampleValue || sample.values[v] < -kMaxSampleValue) {
          throw ProfileError(what + " has " + profile.sample_types[v].type + " " +
                             std::to_string(sample.values[v]) + ", beyond 2^53, the most a " +
                             "profile's value may be");
        }
      }
      sample.location_indexes.reserve(s.location_id_size());
      for (int j = 0; j < s.location_id_size(); ++j) {
        auto it = location_by_id_.find(s.location_id(j));
        if (it == location_by_id_.end()) {
          throw ProfileError(what + ": frame " + std::to_string(j) + " refers to location " +
                             std::to_string(s.location_id(j)) + ", which does not exist");
        }
        sample.location_indexes.push_back(it->second);
      }
      for (int j = 0; j < s.label_size(); ++j) {
        const wire::Label& label = s.label(j);
        std::string label_what = what + ": label " + std::to_string(j);
        const std::string& key = String(label.key(), label_what + ": key");
        // profile.proto: "At most one of the following must be present".
        if (label.str() != 0 && label.num() != 0) {
          throw ProfileError(label_what + " (" + key +
                             ") has both a string and a numeric value; the format allows one");
        }
        if (label.str() != 0) {
          sample.string_labels.push_back(
              StringLabel{key, String(label.str(), label_what + ": str")});
        } else {
          sample.numeric_labels.push_back(
              NumericLabel{key, label.num(), String(label.num_unit(), label_what + ": num_unit")});
        }
      }
      profile.samples.push_back(std::move(sample));
    }
  }

  const wire::Profile& wire_;
  std::unordered_map<uint64_t, FunctionIndex> function_by_id_;
  std::unordered_map<uint64_t, MappingIndex> mapping_by_id_;
  std::unordered_map<uint64_t, LocationIndex> location_by_id_;
};

}  // namespace

namespace {

void CheckCounts(const internal::WireCounts& c, const DecodeLimits& limits) {
  const struct {
    std::size_t count, limit;
    const char* what;
  } checks[] = {{c.samples, limits.max_samples, "samples"},
                {c.locations, limits.max_locations, "locations"},
                {c.functions, limits.max_functions, "functions"},
                {c.mappings, limits.max_mappings, "mappings"},
                {c.strings, limits.max_strings, "strings"},
                {c.elements, limits.max_elements, "location ids, values and lines"}};
  for (const auto& check : checks) {
    if (check.count > check.limit) {
      throw ProfileError("profile has " + std::to_string(check.count) + " " + check.what +
                         ", more than the limit of " + std::to_string(check.limit));
    }
  }
}

}  // namespace

Profile DecodeProfile(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.empty()) throw ProfileError("input is empty; a profile has at least a string table");
  if (bytes.size() > limits.max_input_bytes) {
    throw ProfileError("input has " + std::to_string(bytes.size()) +
                       " bytes, more than the limit of " + std::to_string(limits.max_input_bytes));
  }
  std::string inflated;
  std::string_view serialized = bytes;
  if (internal::HasGzipMagic(bytes)) {
    inflated = internal::GunzipBounded(bytes, limits.max_profile_bytes);
    serialized = inflated;
  } else if (bytes.size() > limits.max_profile_bytes) {
    throw ProfileError("profile has " + std::to_string(bytes.size()) +
                       " bytes, more than the limit of " +
                       std::to_string(limits.max_profile_bytes));
  }
  // protobuf's C++ parser takes an int size.
  if (serialized.size() > static_cast<std::size_t>(INT_MAX)) {
    throw ProfileError("profile is larger than protobuf can parse in one message (2 GiB)");
  }
  CheckCounts(internal::CountWire(serialized), limits);
  wire::Profile wire;
  if (!wire.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    throw ProfileError(
        "not a valid profile.proto message: the protobuf wire data is malformed or truncated");
  }
  CheckWireTypes(wire, "Profile");
  return Converter(wire).Convert();
}

Profile ReadProfileFile(const std::filesystem::path& path, const DecodeLimits& limits) {
  // Read in blocks under the limit (common/read_file.h), so that a pipe, a
  // device or a file that grows is bounded as a regular file is.
  std::string bytes;
  try {
    bytes = ReadWholeFile(path, limits.max_input_bytes, "a profile");
  } catch (const ReadFileError& e) {
    if (e.reason() == ReadFileError::Reason::kTooLarge) {
      throw ProfileError(path, "file has more than " + std::to_string(limits.max_input_bytes) +
                                   " bytes, the limit for a profile");
    }
    throw ProfileError(path, "cannot read: " + e.problem());
  }
  try {
    return DecodeProfile(bytes, limits);
  } catch (const ProfileError& e) {
    throw ProfileError(path, e.problem());
  }
}

}  // namespace leaklab::pprof
