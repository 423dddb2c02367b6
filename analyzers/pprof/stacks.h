// Stacks keyed by their frames (frame.h), shared by attribution and the
// diff. Internal to analyzers/pprof: not part of the library's public
// interface.
#ifndef LEAKLAB_ANALYZERS_PPROF_STACKS_H_
#define LEAKLAB_ANALYZERS_PPROF_STACKS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyzers/pprof/frame.h"
#include "analyzers/pprof/profile.h"

namespace leaklab::pprof::internal {

// A frame's small id in a FrameTable.
enum class FrameId : uint32_t {};

// Frames interned to small ids, so stacks can be keyed by their id sequence.
class FrameTable {
 public:
  FrameId Intern(Frame frame);
  const Frame& at(FrameId id) const { return frames_[static_cast<uint32_t>(id)]; }

 private:
  std::unordered_map<std::string, FrameId> index_;
  std::vector<Frame> frames_;
};

// The frames of each location of `profile`, leaf (innermost inlined) first,
// by location index; an unsymbolized location is its address ("0x4010a0").
std::vector<std::vector<FrameId>> LocationFrames(const Profile& profile, FrameTable& table);

// A sample's stack as bytes (its frame ids, leaf first), for hashing.
std::string StackKey(const Sample& sample, const std::vector<std::vector<FrameId>>& frames);

// The frame ids of a StackKey.
std::vector<FrameId> StackIds(std::string_view key);

}  // namespace leaklab::pprof::internal

#endif  // LEAKLAB_ANALYZERS_PPROF_STACKS_H_
