#include "analyzers/pprof/stacks.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace leaklab::pprof::internal {

FrameId FrameTable::Intern(Frame frame) {
  std::string key = frame.function;
  key += '\0';
  key += frame.file;
  key += '\0';
  key += std::to_string(frame.line);
  auto [it, inserted] = index_.try_emplace(std::move(key), static_cast<FrameId>(frames_.size()));
  if (inserted) frames_.push_back(std::move(frame));
  return it->second;
}

std::vector<std::vector<FrameId>> LocationFrames(const Profile& profile, FrameTable& table) {
  std::vector<std::vector<FrameId>> out(profile.locations.size());
  for (size_t i = 0; i < profile.locations.size(); ++i) {
    const Location& location = profile.locations[i];
    if (location.lines.empty()) {
      // Not symbolized: the address is all there is.
      char hex[32];
      std::snprintf(hex, sizeof hex, "0x%" PRIx64, location.address);
      out[i].push_back(table.Intern({hex, "", 0}));
      continue;
    }
    for (const Line& line : location.lines) {
      const Function& f = profile.function(line.function_index);
      out[i].push_back(
          table.Intern({f.name.empty() ? f.system_name : f.name, f.filename, line.line}));
    }
  }
  return out;
}

std::string StackKey(const Sample& sample, const std::vector<std::vector<FrameId>>& frames) {
  size_t count = 0;
  for (LocationIndex location : sample.location_indexes)
    count += frames[PositionOf(location)].size();
  std::string key;
  key.reserve(count * sizeof(FrameId));
  for (LocationIndex location : sample.location_indexes) {
    for (FrameId id : frames[PositionOf(location)])
      key.append(reinterpret_cast<const char*>(&id), sizeof id);
  }
  return key;
}

std::vector<FrameId> StackIds(std::string_view key) {
  std::vector<FrameId> ids(key.size() / sizeof(FrameId));
  std::copy(key.begin(), key.end(), reinterpret_cast<char*>(ids.data()));
  return ids;
}

}  // namespace leaklab::pprof::internal
