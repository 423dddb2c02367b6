#include "analyzers/pprof/heap_diff.h"

#include <algorithm>
#include <unordered_map>

#include "analyzers/pprof/profile_kind.h"
#include "analyzers/pprof/stacks.h"

namespace leaklab::pprof {

using internal::FrameId;

Profile DiffProfiles(const Profile& base, const Profile& source) {
  if (base.sample_types != source.sample_types) {
    throw ProfileError("cannot diff: sample types differ (base: " + SampleTypesText(base) +
                       "; source: " + SampleTypesText(source) + ")");
  }
  const size_t width = source.sample_types.size();
  internal::FrameTable table;
  // Stack key -> summed values (source minus base), in first-seen order.
  std::unordered_map<std::string, size_t> index;
  std::vector<std::string> keys;
  std::vector<std::vector<int64_t>> values;
  auto add = [&](const Profile& p, int64_t sign) {
    const std::vector<std::vector<FrameId>> frames = internal::LocationFrames(p, table);
    for (const Sample& sample : p.samples) {
      auto [it, inserted] = index.try_emplace(internal::StackKey(sample, frames), keys.size());
      if (inserted) {
        keys.push_back(it->first);
        values.emplace_back(width, 0);
      }
      for (size_t v = 0; v < width; ++v) {
        int64_t& sum = values[it->second][v];
        sum =
            sign > 0 ? SaturatingAdd(sum, sample.values[v]) : SaturatingSub(sum, sample.values[v]);
      }
    }
  };
  add(source, 1);
  add(base, -1);

  Profile out;
  out.sample_types = source.sample_types;
  out.period_type = source.period_type;
  out.period = source.period;
  out.time_nanos = source.time_nanos;
  if (source.time_nanos > 0 && base.time_nanos > 0 && source.time_nanos > base.time_nanos) {
    out.duration_nanos = source.time_nanos - base.time_nanos;
  }
  out.default_sample_type = source.default_sample_type;
  out.comments.push_back(std::string(kDiffComment));
  // One function and one location per distinct frame.
  std::unordered_map<FrameId, LocationIndex> location_of;
  std::unordered_map<std::string, FunctionIndex> function_of;
  auto location_for = [&](FrameId id) {
    auto it = location_of.find(id);
    if (it != location_of.end()) return it->second;
    const Frame& f = table.at(id);
    const std::string fkey = f.function + '\0' + f.file;
    auto [fit, inserted] = function_of.try_emplace(fkey, FunctionIndex{out.functions.size()});
    if (inserted)
      out.AddFunction(
          {.name = f.function, .system_name = f.function, .filename = f.file, .start_line = 0});
    Location location;
    location.lines.push_back({.function_index = fit->second, .line = f.line, .column = 0});
    const LocationIndex index = out.AddLocation(std::move(location));
    location_of.emplace(id, index);
    return index;
  };
  for (size_t s = 0; s < keys.size(); ++s) {
    if (std::all_of(values[s].begin(), values[s].end(), [](int64_t v) { return v == 0; })) continue;
    Sample sample;
    for (FrameId id : internal::StackIds(keys[s]))
      sample.location_indexes.push_back(location_for(id));
    sample.values = values[s];
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace leaklab::pprof
