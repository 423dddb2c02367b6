#include "analyzers/pprof/profile.h"

#include <string>
#include <utility>

namespace leaklab::pprof {

ProfileError::ProfileError(const std::string& message) : InputError(message), problem_(message) {}

ProfileError::ProfileError(const std::filesystem::path& file, const std::string& message)
    : InputError(file.string() + ": " + message), file_(file), problem_(message) {}

FunctionIndex Profile::AddFunction(Function function) {
  functions.push_back(std::move(function));
  return FunctionIndex{functions.size() - 1};
}

MappingIndex Profile::AddMapping(Mapping mapping) {
  mappings.push_back(std::move(mapping));
  return MappingIndex{mappings.size() - 1};
}

LocationIndex Profile::AddLocation(Location location) {
  locations.push_back(std::move(location));
  return LocationIndex{locations.size() - 1};
}

std::optional<std::size_t> Profile::FindSampleType(std::string_view type) const {
  for (std::size_t i = 0; i < sample_types.size(); ++i) {
    if (sample_types[i].type == type) return i;
  }
  return std::nullopt;
}

int64_t Profile::TotalValue(std::size_t sample_type_index) const {
  int64_t total = 0;
  for (const Sample& sample : samples) {
    if (sample_type_index < sample.values.size())
      total = SaturatingAdd(total, sample.values[sample_type_index]);
  }
  return total;
}

}  // namespace leaklab::pprof
