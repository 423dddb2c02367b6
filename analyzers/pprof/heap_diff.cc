#include "analyzers/pprof/heap_diff.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string_view>
#include <unordered_map>

namespace leaklab::pprof {
namespace {

// Frames interned to small ids, so stacks can be keyed by their id sequence.
class FrameTable {
 public:
  uint32_t Intern(Frame frame) {
    std::string key = frame.function;
    key += '\0';
    key += frame.file;
    key += '\0';
    key += std::to_string(frame.line);
    auto [it, inserted] = index_.try_emplace(std::move(key), static_cast<uint32_t>(frames_.size()));
    if (inserted) frames_.push_back(std::move(frame));
    return it->second;
  }
  const Frame& at(uint32_t id) const { return frames_[id]; }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<Frame> frames_;
};

// The frames of each location of `profile`, leaf (innermost inlined) first.
std::vector<std::vector<uint32_t>> LocationFrames(const Profile& profile, FrameTable& table) {
  std::vector<std::vector<uint32_t>> out(profile.locations.size());
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
      const Function& f = profile.functions[line.function_index];
      out[i].push_back(
          table.Intern({f.name.empty() ? f.system_name : f.name, f.filename, line.line}));
    }
  }
  return out;
}

// A stack as bytes (its frame ids), for hashing.
std::string StackKey(const Sample& sample, const std::vector<std::vector<uint32_t>>& frames) {
  size_t count = 0;
  for (size_t location : sample.location_indexes) count += frames[location].size();
  std::string key;
  key.reserve(count * sizeof(uint32_t));
  for (size_t location : sample.location_indexes) {
    for (uint32_t id : frames[location]) key.append(reinterpret_cast<const char*>(&id), sizeof id);
  }
  return key;
}

std::vector<uint32_t> StackIds(std::string_view key) {
  std::vector<uint32_t> ids(key.size() / sizeof(uint32_t));
  std::copy(key.begin(), key.end(), reinterpret_cast<char*>(ids.data()));
  return ids;
}

std::string SampleTypesText(const Profile& p) {
  std::string out;
  for (const ValueType& t : p.sample_types)
    out += (out.empty() ? "" : ", ") + t.type + "/" + t.unit;
  return out.empty() ? "none" : out;
}

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

// Per-stack values of one sample type across the profiles.
struct StackSeries {
  std::vector<std::string> keys;            // stack keys, in first-seen order
  std::vector<std::vector<double>> values;  // [stack][profile]
  std::vector<double> totals;               // [profile]
};

StackSeries CollectStacks(const std::vector<NamedProfile>& profiles, size_t value_index,
                          FrameTable& table) {
  StackSeries s;
  s.totals.assign(profiles.size(), 0);
  std::unordered_map<std::string, size_t> index;
  for (size_t p = 0; p < profiles.size(); ++p) {
    const Profile& profile = profiles[p].profile;
    const std::vector<std::vector<uint32_t>> frames = LocationFrames(profile, table);
    for (const Sample& sample : profile.samples) {
      const double v = static_cast<double>(sample.values[value_index]);
      s.totals[p] += v;
      auto [it, inserted] = index.try_emplace(StackKey(sample, frames), s.keys.size());
      if (inserted) {
        s.keys.push_back(it->first);
        s.values.emplace_back(profiles.size(), 0.0);
      }
      s.values[it->second][p] += v;
    }
  }
  return s;
}

std::vector<Frame> FramesOf(std::string_view key, const FrameTable& table) {
  std::vector<Frame> out;
  for (uint32_t id : StackIds(key)) {
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

}  // namespace

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

namespace {

// A C++ demangled name reduced to its qualified name: 1. drop " [clone ...]"
// suffixes; 2. drop balanced (...) and <...> groups, keeping
// "(anonymous namespace)" and operator names; 3. of the words left at the top
// level (a return type, the name, cv-qualifiers), keep the last that is not a
// qualifier.
std::string ShortCppName(std::string_view name) {
  for (size_t clone; (clone = name.find(" [clone ")) != std::string_view::npos;)
    name = name.substr(0, clone);
  std::string flat;
  int depth = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (depth == 0 && name.substr(i).starts_with("(anonymous namespace)")) {
      flat += "(anonymous\x1fnamespace)";  // one word until the end
      i += std::string_view("(anonymous namespace)").size() - 1;
      continue;
    }
    if (depth == 0 && flat.ends_with("operator")) {
      // operator(), operator[], operator<< ...: the symbol is the name.
      size_t j = i;
      if (name.substr(j).starts_with("()")) {
        j += 2;
      } else {
        while (j < name.size() &&
               std::string_view("<>=!+-*/%&|^~[],").find(name[j]) != std::string_view::npos)
          ++j;
      }
      if (j > i) {
        flat.append(name.substr(i, j - i));
        i = j - 1;
        continue;
      }
    }
    if (c == '(' || c == '<') {
      ++depth;
    } else if ((c == ')' || c == '>') && depth > 0) {
      --depth;
    } else if (depth == 0) {
      flat += c;
    }
  }
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= flat.size()) {
    size_t end = flat.find(' ', start);
    if (end == std::string::npos) end = flat.size();
    std::string word = flat.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    // "operator new", "operator bool": one name in two words.
    if (!words.empty() && words.back().ends_with("operator")) {
      words.back() += " " + word;
    } else {
      words.push_back(std::move(word));
    }
  }
  std::string best;
  for (const std::string& word : words) {
    if (word != "const" && word != "volatile" && word != "&" && word != "&&" && word != "noexcept")
      best = word;
  }
  std::replace(best.begin(), best.end(), '\x1f', ' ');
  return best.empty() ? std::string(name) : best;
}

}  // namespace

std::string Frame::ShortString() const {
  // Only C++ names hold "::"; Go's "main.(*T).M" must stay as it is.
  std::string out = function.find("::") != std::string::npos ? ShortCppName(function) : function;
  if (!file.empty()) {
    const size_t slash = file.rfind('/');
    out += " (" + (slash == std::string::npos ? file : file.substr(slash + 1)) +
           (line > 0 ? ":" + std::to_string(line) : "") + ")";
  }
  return out;
}

bool Frame::IsLibrary() const {
  const std::string name =
      function.find("::") != std::string::npos ? ShortCppName(function) : function;
  return name.starts_with("std::") || name.starts_with("boost::") ||
         name.starts_with("__gnu_cxx::");
}

bool Frame::IsProfiler() const {
  // Go: the profile writers. leaklab: the server's profile builder and the
  // encoder (scenarios/runtime/profiles.cc, analyzers/pprof/encode.cc).
  static constexpr std::string_view kGoPrefixes[] = {"runtime/pprof.", "net/http/pprof."};
  static constexpr std::string_view kLeaklab[] = {
      "leaklab::runtime::BuildHeapProfile", "leaklab::runtime::BuildWorkerProfile",
      "leaklab::runtime::EncodedHeapProfile", "leaklab::runtime::EncodedWorkerProfile",
      "leaklab::pprof::EncodeProfile"};
  for (std::string_view prefix : kGoPrefixes) {
    if (function.starts_with(prefix)) return true;
  }
  for (std::string_view name : kLeaklab) {
    if (function.find(name) != std::string::npos) return true;
  }
  return false;
}

std::string Frame::ToString() const {
  if (file.empty()) return function;
  return function + " (" + file + (line > 0 ? ":" + std::to_string(line) : "") + ")";
}

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

  FrameTable table;
  const StackSeries stacks = CollectStacks(profiles, value_index, table);
  out.total = GrowthOf(x, stacks.totals);

  // Sites are leaf frames; each site's series is the sum of its stacks'.
  struct Site {
    uint32_t frame;
    std::vector<double> values;
    size_t best_stack = 0;
    double best_stack_growth = -1;
  };
  std::vector<Site> sites;
  std::unordered_map<uint32_t, size_t> site_index;
  std::vector<double> profiler(profiles.size(), 0.0);
  for (size_t s = 0; s < stacks.keys.size(); ++s) {
    const std::vector<uint32_t> ids = StackIds(stacks.keys[s]);
    if (std::any_of(ids.begin(), ids.end(),
                    [&](uint32_t id) { return table.at(id).IsProfiler(); })) {
      for (size_t p = 0; p < profiles.size(); ++p) profiler[p] += stacks.values[s][p];
      continue;
    }
    // The site is the innermost frame of the program's own code: without
    // inlining (a debug build), the leaf is the standard library's allocator
    // (std::__new_allocator::allocate, std::string::_M_create), which says
    // how, not who. All-library stacks keep their leaf.
    uint32_t leaf = ids.empty() ? table.Intern({"[no stack]", "", 0}) : ids.front();
    for (uint32_t id : ids) {
      if (!table.at(id).IsLibrary()) {
        leaf = id;
        break;
      }
    }
    auto [it, inserted] = site_index.try_emplace(leaf, sites.size());
    if (inserted) sites.push_back({leaf, std::vector<double>(profiles.size(), 0.0)});
    Site& site = sites[it->second];
    for (size_t p = 0; p < profiles.size(); ++p) site.values[p] += stacks.values[s][p];
    const double stack_growth = GrowthOf(x, stacks.values[s]).growth;
    if (stack_growth > site.best_stack_growth) {
      site.best_stack_growth = stack_growth;
      site.best_stack = s;
    }
  }
  out.profiler = GrowthOf(x, profiler);
  if (const std::optional<size_t> alloc = profiles.front().profile.FindSampleType("alloc_space")) {
    std::vector<double> allocated;
    for (const NamedProfile& p : profiles)
      allocated.push_back(static_cast<double>(p.profile.TotalValue(*alloc)));
    out.allocated = GrowthOf(x, allocated);
  }
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
    const std::vector<uint32_t> ids = StackIds(stacks.keys[s]);
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

Profile DiffProfiles(const Profile& base, const Profile& source) {
  if (base.sample_types != source.sample_types) {
    throw ProfileError("cannot diff: sample types differ (base: " + SampleTypesText(base) +
                       "; source: " + SampleTypesText(source) + ")");
  }
  const size_t width = source.sample_types.size();
  FrameTable table;
  // Stack key -> summed values (source minus base), in first-seen order.
  std::unordered_map<std::string, size_t> index;
  std::vector<std::string> keys;
  std::vector<std::vector<int64_t>> values;
  auto add = [&](const Profile& p, int64_t sign) {
    const std::vector<std::vector<uint32_t>> frames = LocationFrames(p, table);
    for (const Sample& sample : p.samples) {
      auto [it, inserted] = index.try_emplace(StackKey(sample, frames), keys.size());
      if (inserted) {
        keys.push_back(it->first);
        values.emplace_back(width, 0);
      }
      for (size_t v = 0; v < width; ++v) values[it->second][v] += sign * sample.values[v];
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
  out.comments.push_back("leaklab: difference of two profiles (source minus base, as pprof -base)");
  // One function and one location per distinct frame.
  std::unordered_map<uint32_t, size_t> location_of;
  std::unordered_map<std::string, size_t> function_of;
  auto location_for = [&](uint32_t id) {
    auto it = location_of.find(id);
    if (it != location_of.end()) return it->second;
    const Frame& f = table.at(id);
    const std::string fkey = f.function + '\0' + f.file;
    auto [fit, inserted] = function_of.try_emplace(fkey, out.functions.size());
    if (inserted)
      out.AddFunction(
          {.name = f.function, .system_name = f.function, .filename = f.file, .start_line = 0});
    Location location;
    location.lines.push_back({.function_index = fit->second, .line = f.line, .column = 0});
    const size_t index = out.AddLocation(std::move(location));
    location_of.emplace(id, index);
    return index;
  };
  for (size_t s = 0; s < keys.size(); ++s) {
    if (std::all_of(values[s].begin(), values[s].end(), [](int64_t v) { return v == 0; })) continue;
    Sample sample;
    for (uint32_t id : StackIds(keys[s])) sample.location_indexes.push_back(location_for(id));
    sample.values = values[s];
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace leaklab::pprof
