#include "harness/heap_diff_file.h"

#include "analyzers/pprof/heap_diff.h"
#include "analyzers/pprof/profile.h"
#include "common/atomic_file.h"

namespace leaklab::harness {

bool WriteHeapDiffProfile(verdict::Verdict& v, const std::filesystem::path& out) {
  if (!v.profiles || !v.profiles->heap || v.profiles->heap_first.empty()) return false;
  const pprof::Profile base = pprof::ReadProfileFile(v.profiles->heap_first);
  const pprof::Profile last = pprof::ReadProfileFile(v.profiles->heap_last);
  pprof::Profile diff = pprof::DiffProfiles(base, last);
  diff.comments.push_back("base: " + v.profiles->heap_first + "; source: " + v.profiles->heap_last);
  WriteFileAtomically(out, pprof::EncodeProfile(diff));
  v.profiles->diff_profile = out.string();
  return true;
}

bool IsLeaklabHeapDiff(const std::filesystem::path& path) {
  try {
    const pprof::Profile p = pprof::ReadProfileFile(path);
    return !p.comments.empty() && p.comments.front() == pprof::kDiffComment;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace leaklab::harness
