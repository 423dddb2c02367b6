#include "analyzers/pprof/attribution.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "analyzers/pprof/stacks.h"

namespace leaklab::pprof {
namespace {

using internal::FrameId;
using internal::FrameTable;
using internal::LocationFrames;
using internal::StackIds;
using internal::StackKey;

void CheckSameSampleTypes(const NamedProfile& first, const NamedProfile& other) {
  if (first.profile.sample_types != other.profile.sample_types) {
    throw ProfileError(other.name, "sample types (" + SampleTypesText(other.profile) +
                                       ") differ from " + first.name + "'s (" +
                                       SampleTypesText(first.profile) + ")");
  }
}

// The x axis: seconds since the first profile when every profile has a time
// and they increase, else the profile's position.
std::vector<double> TimeAxis(const std::vector<NamedProfile>& profiles, bool& timed) {
  timed = true;
  for (size_t i = 0; i < profiles.size(); ++i) {
    const int64_t t = profiles[i].profile.time_nanos;
    if (t <= 0 || (i > 0 && t <= profiles[i - 1].profile.time_nanos)) timed = false;
  }
  std::vector<double> x(profiles.size());
  for (size_t i = 0; i < profiles.size(); ++i) {
    x[i] =
        timed
            ? static_cast<double>(profiles[i].profile.time_nanos - profiles[0].profile.time_nanos) /
                  1e9
            : static_cast<double>(i);
  }
  return x;
}

// Ordinary least squares slope of y on x (x not all equal).
double Slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

Growth GrowthOf(const std::vector<double>& x, const std::vector<double>& y) {
  Growth g;
  g.first = y.front();
  g.last = y.back();
  g.slope = Slope(x, y);
  g.growth = g.slope * (x.back() - x.front());
  return g;
}

// Per-stack values of one sample type across the profiles, and optionally
// of a second one, gathered in the same pass (symbolizing and keying the
// stacks is most of the cost).
struct StackSeries {
  std::vector<std::string> keys;            // stack keys, in first-seen order
  std::vector<std::vector<double>> values;  // [stack][profile]
  std::vector<double> totals;               // [profile]
  std::vector<std::vector<double>> second;  // [stack][profile], when asked for
};

StackSeries CollectStacks(const std::vector<NamedProfile>& profiles, size_t value_index,
                          FrameTable& table, std::optional<size_t> second_index = std::nullopt) {
  StackSeries s;
  s.totals.assign(profiles.size(), 0);
  std::unordered_map<std::string, size_t> index;
  for (size_t p = 0; p < profiles.size(); ++p) {
    const Profile& profile = profiles[p].profile;
    const std::vector<std::vector<FrameId>> frames = LocationFrames(profile, table);
    for (const Sample& sample : profile.samples) {
      const double v = static_cast<double>(sample.values[value_index]);
      s.totals[p] += v;
      auto [it, inserted] = index.try_emplace(StackKey(sample, frames), s.keys.size());
      if (inserted) {
        s.keys.push_back(it->first);
        s.values.emplace_back(profiles.size(), 0.0);
        if (second_index) s.second.emplace_back(profiles.size(), 0.0);
      }
      s.values[it->second][p] += v;
      if (second_index)
        s.second[it->second][p] += static_cast<double>(sample.values[*second_index]);
    }
  }
  return s;
}

std::vector<Frame> FramesOf(std::string_view key, const FrameTable& table) {
  std::vector<Frame> out;
  for (FrameId id : StackIds(key)) {
    if (out.size() == kMaxStackFrames) break;
    out.push_back(table.at(id));
  }
  return out;
}

void CheckEnough(const std::vector<NamedProfile>& profiles, const char* what) {
  if (profiles.size() < 2) {
    throw ProfileError(std::string("need at least two ") + what + " profiles to see growth, got " +
                       std::to_string(profiles.size()));
  }
}

// Go's scheduler frames: a blocked goroutine's stack starts with them
// (runtime.gopark, runtime.chanrecv, sync.runtime_Semacquire, ...).
bool IsRuntimeFrame(const Frame& f) {
  return f.function.starts_with("runtime.") || f.function.starts_with("sync.runtime_") ||
         f.function.starts_with("internal/poll.runtime_");
}

// The site of a stack: the innermost frame of the program's own code.
// Without inlining (a debug build), the leaf is the standard library's
// allocator (std::__new_allocator::allocate, std::string::_M_create), which
// says how, not who. All-library stacks keep their leaf.
FrameId SiteOf(const std::vector<FrameId>& ids, FrameTable& table) {
  if (ids.empty()) return table.Intern({"[no stack]", "", 0});
  for (FrameId id : ids) {
    if (!table.at(id).IsLibrary()) return id;
  }
  return ids.front();
}

bool HasProfilerFrame(const std::vector<FrameId>& ids, const FrameTable& table) {
  return std::any_of(ids.begin(), ids.end(), [&](FrameId id) { return table.at(id).IsProfiler(); });
}

// Sites ranked by alloc_space allocated over the span, with the in-use
// growth share each had in `grown` (AttributeHeapGrowth's sites).
// Sites with their summed alloc_space series, ranked by what they allocated
// over the span, each with the in-use growth share it had in `grown`
// (AttributeHeapGrowth's sites).
std::vector<AllocatingSite> RankAllocatingSites(
    const std::vector<std::pair<Frame, std::vector<double>>>& by_site, const std::vector<double>& x,
    const std::vector<GrowingSite>& grown) {
  std::vector<AllocatingSite> out;
  double total = 0;
  for (const auto& [frame, values] : by_site) {
    const double allocated = GrowthOf(x, values).growth;
    if (allocated <= 0) continue;
    AllocatingSite a{frame, allocated};
    for (const GrowingSite& g : grown) {
      if (g.site == a.site) a.growth_share = g.bytes.share;
    }
    total += allocated;
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const AllocatingSite& a, const AllocatingSite& b) {
    return a.allocated != b.allocated ? a.allocated > b.allocated
                                      : a.site.function < b.site.function;
  });
  for (AllocatingSite& a : out) a.share = a.allocated / total;
  if (out.size() > kMaxReported) out.resize(kMaxReported);
  return out;
}

}  // namespace

HeapAttribution AttributeHeapGrowth(const std::vector<NamedProfile>& profiles) {
  CheckEnough(profiles, "heap");
  for (const NamedProfile& p : profiles) {
    if (KindOf(p.profile) != ProfileKind::kHeap) {
      throw ProfileError(p.name, "not a heap profile: no inuse_space sample type (has " +
                                     SampleTypesText(p.profile) + ")");
    }
    CheckSameSampleTypes(profiles.front(), p);
  }
  HeapAttribution out;
  out.profiles = static_cast<int>(profiles.size());
  out.sample_type = "inuse_space";
  const std::vector<double> x = TimeAxis(profiles, out.timed);
  out.span = x.back() - x.front();
  const size_t value_index = *profiles.front().profile.FindSampleType("inuse_space");

  const std::optional<size_t> alloc_index = profiles.front().profile.FindSampleType("alloc_space");
  FrameTable table;
  const StackSeries stacks = CollectStacks(profiles, value_index, table, alloc_index);
  out.total = GrowthOf(x, stacks.totals);

  // Sites are leaf frames; each site's series is the sum of its stacks'.
  struct Site {
    FrameId frame;
    std::vector<double> values;
    std::vector<double> allocated;  // alloc_space, when the profiles have it
    size_t best_stack = 0;
    double best_stack_growth = -1;
  };
  std::vector<Site> sites;
  std::unordered_map<FrameId, size_t> site_index;
  std::vector<double> profiler(profiles.size(), 0.0);
  for (size_t s = 0; s < stacks.keys.size(); ++s) {
    const std::vector<FrameId> ids = StackIds(stacks.keys[s]);
    if (HasProfilerFrame(ids, table)) {
      for (size_t p = 0; p < profiles.size(); ++p) profiler[p] += stacks.values[s][p];
      continue;
    }
    const FrameId leaf = SiteOf(ids, table);
    auto [it, inserted] = site_index.try_emplace(leaf, sites.size());
    if (inserted) {
      sites.push_back({leaf, std::vector<double>(profiles.size(), 0.0),
                       std::vector<double>(alloc_index ? profiles.size() : 0, 0.0)});
    }
    Site& site = sites[it->second];
    for (size_t p = 0; p < profiles.size(); ++p) site.values[p] += stacks.values[s][p];
    for (size_t p = 0; p < site.allocated.size(); ++p) site.allocated[p] += stacks.second[s][p];
    const double stack_growth = GrowthOf(x, stacks.values[s]).growth;
    if (stack_growth > site.best_stack_growth) {
      site.best_stack_growth = stack_growth;
      site.best_stack = s;
    }
  }
  out.profiler = GrowthOf(x, profiler);
  double grown = 0;
  for (const Site& site : sites) {
    GrowingSite g{table.at(site.frame), FramesOf(stacks.keys[site.best_stack], table),
                  GrowthOf(x, site.values)};
    if (g.bytes.growth <= 0) continue;
    grown += g.bytes.growth;
    out.sites.push_back(std::move(g));
  }
  std::sort(out.sites.begin(), out.sites.end(), [](const GrowingSite& a, const GrowingSite& b) {
    return a.bytes.growth != b.bytes.growth ? a.bytes.growth > b.bytes.growth
                                            : a.site.function < b.site.function;
  });
  for (GrowingSite& g : out.sites) g.bytes.share = g.bytes.growth / grown;
  if (alloc_index) {
    std::vector<double> allocated;
    for (const NamedProfile& p : profiles)
      allocated.push_back(static_cast<double>(p.profile.TotalValue(*alloc_index)));
    out.allocated = GrowthOf(x, allocated);
    std::vector<std::pair<Frame, std::vector<double>>> by_site;
    for (const Site& site : sites) by_site.emplace_back(table.at(site.frame), site.allocated);
    out.allocating = RankAllocatingSites(by_site, x, out.sites);
  }
  if (out.sites.size() > kMaxReported) out.sites.resize(kMaxReported);
  return out;
}

WorkerAttribution AttributeWorkerGrowth(const std::vector<NamedProfile>& profiles) {
  CheckEnough(profiles, "worker");
  for (const NamedProfile& p : profiles) {
    if (KindOf(p.profile) != ProfileKind::kWorkers) {
      throw ProfileError(p.name, "not a worker (goroutine) profile: sample types are " +
                                     SampleTypesText(p.profile) + ", expected goroutine/count");
    }
  }
  WorkerAttribution out;
  out.profiles = static_cast<int>(profiles.size());
  const std::vector<double> x = TimeAxis(profiles, out.timed);
  out.span = x.back() - x.front();

  FrameTable table;
  const StackSeries stacks = CollectStacks(profiles, 0, table);
  out.total = GrowthOf(x, stacks.totals);
  double grown = 0;
  for (size_t s = 0; s < stacks.keys.size(); ++s) {
    GrowingWorkerGroup g;
    g.workers = GrowthOf(x, stacks.values[s]);
    // At least one more worker at the end than at the start, and a fitted
    // growth of one worker or more: a group that flickers (a connection
    // that comes and goes) is not piling up.
    if (g.workers.growth < 1 || g.workers.last <= g.workers.first) continue;
    const std::vector<FrameId> ids = StackIds(stacks.keys[s]);
    // 1. Skip the runtime frames at the leaf, remembering the last one (the
    // blocking call); 2. the next frame is the wait point; 3. the outermost
    // frame outside the runtime is where the worker was started.
    size_t i = 0;
    while (i < ids.size() && IsRuntimeFrame(table.at(ids[i])))
      g.blocked_in = table.at(ids[i++]).function;
    if (i == ids.size()) continue;  // the runtime's own goroutine
    g.wait_point = table.at(ids[i]);
    for (size_t j = ids.size(); j-- > i;) {
      if (!IsRuntimeFrame(table.at(ids[j]))) {
        g.spawn_site = table.at(ids[j]);
        break;
      }
    }
    g.stack = FramesOf(stacks.keys[s], table);
    grown += g.workers.growth;
    out.groups.push_back(std::move(g));
  }
  std::sort(out.groups.begin(), out.groups.end(),
            [](const GrowingWorkerGroup& a, const GrowingWorkerGroup& b) {
              return a.workers.growth != b.workers.growth
                         ? a.workers.growth > b.workers.growth
                         : a.wait_point.function < b.wait_point.function;
            });
  for (GrowingWorkerGroup& g : out.groups) g.workers.share = g.workers.growth / grown;
  if (out.groups.size() > kMaxReported) out.groups.resize(kMaxReported);
  return out;
}

}  // namespace leaklab::pprof
