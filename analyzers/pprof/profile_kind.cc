#include "analyzers/pprof/profile_kind.h"

#include <algorithm>
#include <cstdint>

namespace leaklab::pprof {

ProfileKind KindOf(const Profile& profile) {
  if (profile.FindSampleType("inuse_space")) return ProfileKind::kHeap;
  if (profile.sample_types.size() == 1 &&
      profile.sample_types[0] == ValueType{"goroutine", "count"}) {
    return ProfileKind::kWorkers;
  }
  return ProfileKind::kOther;
}

bool ReportsAsOfCollection(const Profile& profile) {
  if (KindOf(profile) != ProfileKind::kHeap) return false;
  for (const Function& f : profile.functions) {
    if (f.name.starts_with("runtime.") && f.filename.ends_with(".go")) return true;
  }
  return false;
}

const char* KindName(ProfileKind kind) {
  switch (kind) {
    case ProfileKind::kHeap:
      return "heap";
    case ProfileKind::kWorkers:
      return "workers";
    case ProfileKind::kOther:
      break;
  }
  return "other";
}

std::string SampleTypesText(const Profile& profile) {
  std::string out;
  for (const ValueType& t : profile.sample_types)
    out += (out.empty() ? "" : ", ") + t.type + "/" + t.unit;
  return out.empty() ? "none" : out;
}

bool OrderByTime(std::vector<NamedProfile>& profiles) {
  bool timed = true;
  for (const NamedProfile& p : profiles) timed = timed && p.profile.time_nanos > 0;
  if (timed) {
    std::vector<int64_t> times;
    for (const NamedProfile& p : profiles) times.push_back(p.profile.time_nanos);
    std::sort(times.begin(), times.end());
    timed = std::adjacent_find(times.begin(), times.end()) == times.end();
  }
  std::stable_sort(profiles.begin(), profiles.end(),
                   [timed](const NamedProfile& a, const NamedProfile& b) {
                     return timed ? a.profile.time_nanos < b.profile.time_nanos : a.name < b.name;
                   });
  return timed;
}

}  // namespace leaklab::pprof
