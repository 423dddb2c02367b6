#ifndef LEAKLAB_HARNESS_HEAP_DIFF_FILE_H_
#define LEAKLAB_HARNESS_HEAP_DIFF_FILE_H_

#include <filesystem>

#include "analyzers/verdict/verdict.h"

namespace leaklab::harness {

// Writes the difference of the first and last heap profile the verdict's
// profile evidence compared (source minus base, as `go tool pprof -base`
// shows it) to `out`, whole (temp file and rename), and records the path in
// the verdict. Returns false when the verdict has no such pair. Throws
// pprof::ProfileError or std::runtime_error naming the file at fault.
bool WriteHeapDiffProfile(verdict::Verdict& v, const std::filesystem::path& out);

// Whether `path` is a heap diff WriteHeapDiffProfile wrote (its first
// comment says so), which a later diff may replace; false for anything else,
// unreadable files included.
bool IsLeaklabHeapDiff(const std::filesystem::path& path);

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_HEAP_DIFF_FILE_H_
