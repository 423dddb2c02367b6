#ifndef LEAKLAB_COMMON_ATOMIC_FILE_H_
#define LEAKLAB_COMMON_ATOMIC_FILE_H_

#include <filesystem>
#include <string_view>

namespace leaklab {

// Writes `contents` to `path` whole or not at all: to a temporary file in the
// same folder, flushed with fsync, then renamed over `path`. A reader (or a
// run that dies mid-write) never sees half a file. Throws std::runtime_error
// IoError
// naming the path on failure.
void WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_ATOMIC_FILE_H_
