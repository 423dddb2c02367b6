#ifndef LEAKLAB_COMMON_READ_FILE_H_
#define LEAKLAB_COMMON_READ_FILE_H_

// Reading a whole file, bounded: every input leaklab reads whole (CSVs,
// profiles, JSON) has a size limit stated by its reader, so that a wrong path
// (a disk image, /dev/zero) is refused instead of exhausting memory.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/errors.h"

namespace leaklab {

// Why a file could not be read. what() is "PATH: PROBLEM"; problem() alone
// serves readers that name the file their own way (with a line, a kind).
class ReadFileError : public InputError {
 public:
  enum class Reason { kMissing, kTooLarge, kUnreadable };
  ReadFileError(Reason reason, const std::filesystem::path& path, std::string problem)
      : InputError(path.string() + ": " + problem), reason_(reason), problem_(std::move(problem)) {}
  Reason reason() const { return reason_; }
  const std::string& problem() const { return problem_; }

 private:
  Reason reason_;
  std::string problem_;
};

// The bytes of `path`, at most `max_bytes` of them: a larger file is refused
// whole, not cut ("larger than 1024 MiB, the limit for <what_for>"). Reads in
// blocks rather than trusting the file's size, so pipes and /proc files work
// and an endless one stops at the limit. Throws ReadFileError; kMissing when
// the path does not exist, with the system's reason ("cannot open: No such
// file or directory").
std::string ReadWholeFile(const std::filesystem::path& path, std::uintmax_t max_bytes,
                          std::string_view what_for = "this file");

// The last `max_bytes` bytes of `path`, trailing line ends removed; "" when
// it cannot be read (for quoting a log in an error message).
std::string ReadFileTail(const std::filesystem::path& path, std::uintmax_t max_bytes);

// The first `max_bytes` bytes of `path` (fewer when it is shorter); "" when
// it cannot be read (for telling whose a file is by its start).
std::string ReadFileHead(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_READ_FILE_H_
