#include "analyzers/verdict/profile_evidence.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

#include "analyzers/pprof/attribution.h"
#include "analyzers/pprof/profile_kind.h"
#include "common/bytes.h"

namespace leaklab::verdict {
namespace fs = std::filesystem;

namespace {

std::string Percent(double share) {
  if (share > 0 && share < 0.005) return "under 1 %";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f %%", 100 * share);
  return buf;
}

// "F, called from G <- H" from a stack, leaf first; callers from the
// standard library or Boost (how, not who) are skipped.
std::string WithCallers(const std::vector<pprof::Frame>& stack, size_t callers) {
  if (stack.empty()) return "an unknown site";
  // The site is the first frame of the program's own (see AttributeHeapGrowth).
  size_t site = 0;
  while (site + 1 < stack.size() && stack[site].IsLibrary()) ++site;
  if (stack[site].IsLibrary()) site = 0;
  std::string out = stack[site].ShortString();
  size_t shown = 0;
  for (size_t i = site + 1; i < stack.size() && shown < callers; ++i) {
    if (stack[i].IsLibrary()) continue;
    out += shown++ == 0 ? ", called from " : " <- ";
    out += stack[i].ShortString();
  }
  return out;
}

std::vector<pprof::NamedProfile> OfKind(const std::vector<pprof::NamedProfile>& all,
                                        pprof::ProfileKind kind) {
  std::vector<pprof::NamedProfile> out;
  for (const pprof::NamedProfile& p : all) {
    if (pprof::KindOf(p.profile) == kind) out.push_back(p);
  }
  return out;
}

}  // namespace

std::vector<pprof::NamedProfile> ReadProfiles(const std::vector<fs::path>& paths) {
  std::vector<pprof::NamedProfile> out;
  for (const fs::path& path : paths) {
    pprof::Profile profile = pprof::ReadProfileFile(path);
    if (pprof::KindOf(profile) == pprof::ProfileKind::kOther) {
      std::string types;
      for (const pprof::ValueType& t : profile.sample_types)
        types += (types.empty() ? "" : ", ") + t.type + "/" + t.unit;
      throw pprof::ProfileError(path,
                                "neither a heap profile (no inuse_space) nor a worker profile "
                                "(goroutine/count); its sample types are " +
                                    (types.empty() ? std::string("none") : types));
    }
    out.push_back({path.string(), std::move(profile)});
  }
  return out;
}

std::vector<fs::path> ResultsFolderProfiles(const fs::path& dir) {
  std::vector<fs::path> out;
  const fs::path folder = dir / "profiles";
  std::error_code ec;
  const fs::file_status status = fs::status(folder, ec);
  if (status.type() == fs::file_type::not_found) return out;
  // A folder that cannot be read (a symlink loop, no permission) is a
  // problem with the profiles, not with the run: the caller keeps the
  // series' verdict and says the profiles were left out.
  if (ec) throw pprof::ProfileError(folder, "cannot read the folder: " + ec.message());
  if (!fs::is_directory(status)) return out;
  // The harness's own names only: other files (e.g. a diff) are not snapshots.
  static const std::regex kSnapshot(R"((heap|workers)-[0-9]+\.pb\.gz)");
  fs::directory_iterator it(folder, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && std::regex_match(it->path().filename().string(), kSnapshot))
      out.push_back(it->path());
  }
  if (ec) throw pprof::ProfileError(folder, "cannot list the folder: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

ProfileEvidence AnalyzeProfiles(std::vector<pprof::NamedProfile> profiles) {
  ProfileEvidence e;
  std::vector<pprof::NamedProfile> heap = OfKind(profiles, pprof::ProfileKind::kHeap);
  std::vector<pprof::NamedProfile> workers = OfKind(profiles, pprof::ProfileKind::kWorkers);
  if (heap.size() >= 2) {
    pprof::OrderByTime(heap);
    e.heap = pprof::AttributeHeapGrowth(heap);
    e.heap_first = heap.front().name;
    e.heap_last = heap.back().name;
  }
  if (workers.size() >= 2) {
    pprof::OrderByTime(workers);
    e.workers = pprof::AttributeWorkerGrowth(workers);
  }
  return e;
}

series::Series SeriesFromProfiles(const std::vector<pprof::NamedProfile>& profiles,
                                  std::string source) {
  std::vector<pprof::NamedProfile> heap = OfKind(profiles, pprof::ProfileKind::kHeap);
  std::vector<pprof::NamedProfile> workers = OfKind(profiles, pprof::ProfileKind::kWorkers);
  const bool heap_timed = pprof::OrderByTime(heap);
  const bool workers_timed = pprof::OrderByTime(workers);
  // Workers join the heap's rows only when they pair up one to one.
  const bool both = !heap.empty() && heap.size() == workers.size();
  const std::vector<pprof::NamedProfile>& rows = heap.empty() ? workers : heap;
  const bool timed = heap.empty() ? workers_timed : heap_timed;

  series::Series s;
  s.source = std::move(source);
  const bool allocated =
      !heap.empty() && heap.front().profile.FindSampleType("alloc_space").has_value();
  if (!heap.empty()) s.columns.emplace_back(series::kHeapInuseBytesColumn);
  if (allocated) s.columns.emplace_back(series::kHeapAllocatedBytesColumn);
  if (heap.empty() || both) s.columns.emplace_back(series::kWorkersColumn);
  s.values.resize(s.columns.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    // Without times, one profile per second: slopes then read per profile.
    s.t_s.push_back(
        timed ? static_cast<double>(rows[i].profile.time_nanos - rows[0].profile.time_nanos) / 1e9
              : static_cast<double>(i));
    size_t c = 0;
    if (!heap.empty()) {
      const pprof::Profile& p = heap[i].profile;
      s.values[c++].push_back(static_cast<double>(p.TotalValue(*p.FindSampleType("inuse_space"))));
      if (allocated) {
        const std::optional<size_t> alloc = p.FindSampleType("alloc_space");
        s.values[c++].push_back(alloc ? static_cast<double>(p.TotalValue(*alloc)) : std::nan(""));
      }
    }
    if (heap.empty() || both)
      s.values[c++].push_back(static_cast<double>(workers[i].profile.TotalValue(0)));
  }
  return s;
}

bool HeapAsOfCollection(const std::vector<pprof::NamedProfile>& profiles) {
  for (const pprof::NamedProfile& p : profiles) {
    if (pprof::ReportsAsOfCollection(p.profile)) return true;
  }
  return false;
}

double HeapSamplingBytes(const std::vector<pprof::NamedProfile>& profiles) {
  for (const pprof::NamedProfile& p : profiles) {
    if (pprof::KindOf(p.profile) != pprof::ProfileKind::kHeap) continue;
    if (p.profile.period_type == pprof::ValueType{"space", "bytes"} && p.profile.period > 1) {
      return static_cast<double>(p.profile.period);
    }
  }
  return 0;
}

void AddProfileEvidence(Verdict& v, ProfileEvidence evidence) {
  const bool explain = MayGrow(v.kind);
  std::string text;
  if (evidence.heap && !evidence.heap->sites.empty() && evidence.heap->total.growth > 0) {
    const pprof::HeapAttribution& h = *evidence.heap;
    const pprof::GrowingSite& top = h.sites.front();
    text += " The heap profiles (" + std::to_string(h.profiles) + ") put " +
            Percent(top.bytes.share) + " of the growth, " + FormatBytes(top.bytes.growth) +
            ", in " + WithCallers(top.stack, 2) + ".";
    if (h.sites.size() > 1 && h.sites[1].bytes.share >= 0.05) {
      text +=
          " Next: " + h.sites[1].site.ShortString() + " (" + Percent(h.sites[1].bytes.share) + ").";
    }
    // The look-alike: a site that allocates most but keeps little of it, the
    // function a profile ranked by allocation (or a hunch) blames first.
    if (!h.allocating.empty() && !(h.allocating.front().site == top.site) &&
        h.allocating.front().growth_share < 0.5) {
      const pprof::AllocatingSite& a = h.allocating.front();
      text += " " + a.site.ShortString() + " allocated most (" + Percent(a.share) + " of the " +
              FormatBytes(a.allocated / a.share) + " allocated) but holds " +
              Percent(a.growth_share) + " of the growth: what allocates most is not what is kept.";
    }
  }
  if (evidence.workers && !evidence.workers->groups.empty() && evidence.workers->total.growth > 0) {
    const pprof::GrowingWorkerGroup& g = evidence.workers->groups.front();
    char count[32];
    std::snprintf(count, sizeof count, "%.0f", g.workers.growth);
    text += std::string(" The worker profiles show ") + count + " more workers waiting in " +
            g.wait_point.ShortString() +
            (g.blocked_in.empty() ? "" : " (blocked in " + g.blocked_in + ")") +
            (g.spawn_site.function.empty() || g.spawn_site == g.wait_point
                 ? ""
                 : ", started from " + g.spawn_site.ShortString()) +
            ": " + Percent(g.workers.share) + " of the new workers.";
  }
  if (explain) v.explanation += text;
  // How strong a no-leak is, per unit of work: what each unit allocates
  // (the profiles' alloc_space per second over the counter's rate), beside
  // the most it can keep.
  if (v.bound && !v.bound->unit.empty() && evidence.heap && evidence.heap->timed &&
      evidence.heap->allocated && evidence.heap->allocated->slope > 0 && v.bound->units > 0 &&
      v.bound->t_end_s > v.bound->t_begin_s) {
    Bound& b = *v.bound;
    const double units_per_s = b.units / (b.t_end_s - b.t_begin_s);
    b.allocated_bytes_per_unit = evidence.heap->allocated->slope / units_per_s;
    v.explanation += " Each " + b.unit + " allocates about " +
                     FormatBytes(b.allocated_bytes_per_unit) +
                     " (the heap profiles' alloc_space), so at most " +
                     Percent(b.max_bytes_per_unit / b.allocated_bytes_per_unit) + " of it is kept.";
  }
  v.profiles = std::move(evidence);
}

}  // namespace leaklab::verdict
