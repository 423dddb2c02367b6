// Encoding of the model as gzip-compressed profile.proto (google/pprof
// proto/profile.proto): ids are index + 1, strings go through one
// deduplicated table whose entry 0 is "".
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzers/pprof/gzip.h"
#include "analyzers/pprof/profile.h"
#include "analyzers/pprof/profile.pb.h"

namespace leaklab::pprof {
namespace {

// The profile's string table. Strings get indexes in order of first use, so
// equal profiles encode to equal bytes.
class StringTable {
 public:
  explicit StringTable(wire::Profile& wire) : wire_(wire) { Index(""); }

  int64_t Index(const std::string& s) {
    auto [it, inserted] = index_by_string_.emplace(s, wire_.string_table_size());
    if (inserted) wire_.add_string_table(s);
    return it->second;
  }

 private:
  wire::Profile& wire_;
  std::unordered_map<std::string, int64_t> index_by_string_;
};

uint64_t IdOf(std::size_t position) { return static_cast<uint64_t>(position) + 1; }

// A model with dangling indexes would encode to a profile that every reader
// refuses; say so here, where the mistake is made. Returns the id.
template <typename Index>
uint64_t CheckedIdOf(Index index, std::size_t size, const std::string& what, const char* kind) {
  if (PositionOf(index) >= size) {
    throw ProfileError("cannot encode: " + what + " refers to " + kind + " index " +
                       std::to_string(PositionOf(index)) + ", but the profile has " +
                       std::to_string(size) + " " + kind + "s");
  }
  return IdOf(PositionOf(index));
}

void SetValueType(const ValueType& from, wire::ValueType* to, StringTable& strings) {
  to->set_type(strings.Index(from.type));
  to->set_unit(strings.Index(from.unit));
}

}  // namespace

std::string EncodeProfile(const Profile& profile) {
  wire::Profile wire;
  StringTable strings(wire);

  for (const ValueType& type : profile.sample_types) {
    SetValueType(type, wire.add_sample_type(), strings);
  }
  for (std::size_t i = 0; i < profile.samples.size(); ++i) {
    const Sample& sample = profile.samples[i];
    std::string what = "sample " + std::to_string(i);
    if (sample.values.size() != profile.sample_types.size()) {
      throw ProfileError("cannot encode: " + what + " has " + std::to_string(sample.values.size()) +
                         " values, but the profile has " +
                         std::to_string(profile.sample_types.size()) + " sample types");
    }
    wire::Sample* s = wire.add_sample();
    for (LocationIndex index : sample.location_indexes) {
      s->add_location_id(CheckedIdOf(index, profile.locations.size(), what, "location"));
    }
    for (int64_t value : sample.values) s->add_value(value);
    for (const StringLabel& label : sample.string_labels) {
      wire::Label* l = s->add_label();
      l->set_key(strings.Index(label.key));
      l->set_str(strings.Index(label.value));
    }
    for (const NumericLabel& label : sample.numeric_labels) {
      wire::Label* l = s->add_label();
      l->set_key(strings.Index(label.key));
      l->set_num(label.value);
      l->set_num_unit(strings.Index(label.unit));
    }
  }
  for (std::size_t i = 0; i < profile.mappings.size(); ++i) {
    const Mapping& mapping = profile.mappings[i];
    wire::Mapping* m = wire.add_mapping();
    m->set_id(IdOf(i));
    m->set_memory_start(mapping.memory_start);
    m->set_memory_limit(mapping.memory_limit);
    m->set_file_offset(mapping.file_offset);
    m->set_filename(strings.Index(mapping.filename));
    m->set_build_id(strings.Index(mapping.build_id));
    m->set_has_functions(mapping.has_functions);
    m->set_has_filenames(mapping.has_filenames);
    m->set_has_line_numbers(mapping.has_line_numbers);
    m->set_has_inline_frames(mapping.has_inline_frames);
  }
  for (std::size_t i = 0; i < profile.locations.size(); ++i) {
    const Location& location = profile.locations[i];
    std::string what = "location index " + std::to_string(i);
    wire::Location* l = wire.add_location();
    l->set_id(IdOf(i));
    if (location.mapping_index) {
      l->set_mapping_id(
          CheckedIdOf(*location.mapping_index, profile.mappings.size(), what, "mapping"));
    }
    l->set_address(location.address);
    for (const Line& line : location.lines) {
      const uint64_t function_id =
          CheckedIdOf(line.function_index, profile.functions.size(), what, "function");
      wire::Line* w = l->add_line();
      w->set_function_id(function_id);
      w->set_line(line.line);
      w->set_column(line.column);
    }
    l->set_is_folded(location.is_folded);
  }
  for (std::size_t i = 0; i < profile.functions.size(); ++i) {
    const Function& function = profile.functions[i];
    wire::Function* f = wire.add_function();
    f->set_id(IdOf(i));
    f->set_name(strings.Index(function.name));
    f->set_system_name(strings.Index(function.system_name));
    f->set_filename(strings.Index(function.filename));
    f->set_start_line(function.start_line);
  }
  wire.set_drop_frames(strings.Index(profile.drop_frames));
  wire.set_keep_frames(strings.Index(profile.keep_frames));
  wire.set_time_nanos(profile.time_nanos);
  wire.set_duration_nanos(profile.duration_nanos);
  if (!profile.period_type.type.empty() || !profile.period_type.unit.empty()) {
    SetValueType(profile.period_type, wire.mutable_period_type(), strings);
  }
  wire.set_period(profile.period);
  for (const std::string& comment : profile.comments) wire.add_comment(strings.Index(comment));
  wire.set_default_sample_type(strings.Index(profile.default_sample_type));

  std::string serialized;
  if (!wire.SerializeToString(&serialized)) {
    throw ProfileError("cannot encode: protobuf serialization failed (message over 2 GiB?)");
  }
  return internal::Gzip(serialized);
}

}  // namespace leaklab::pprof
