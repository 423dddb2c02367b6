#ifndef LEAKLAB_COMMON_ERRORS_H_
#define LEAKLAB_COMMON_ERRORS_H_

// The kinds of failure leaklab reports, and the exit status of each: the one
// place where an error becomes an exit status (shared/DESIGN.md, "CLI").
//
//   UsageError       what was asked cannot be done as asked: a flag, an
//                    argument, an output folder that is taken.        exit 2
//   InputError       data the user pointed at is malformed or cannot
//                    be read: a file, a profile, an endpoint's answer;
//                    what() names the file, line or field at fault.   exit 2
//   IoError          leaklab could not write its own files (disk full,
//                    a path taken by a folder).                       exit 1
//   ExperimentError  an experiment could not be carried out (the
//                    server would not start).                         exit 1
//
// Modules' own error types derive from these (series::InputError,
// pprof::ProfileError, report::ReportError, ReadFileError are InputErrors),
// so that callers can catch what they handle and let the rest pass up.

#include <exception>
#include <stdexcept>

namespace leaklab {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ExperimentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // I/O or experiment failure, or any other error
inline constexpr int kExitUsage = 2;   // bad usage or bad input
inline constexpr int kExitUnexpectedVerdict = 3;

// The exit status for an error that ended a command: kExitUsage for
// UsageError and InputError, kExitFailed for everything else (IoError,
// ExperimentError, std::filesystem::filesystem_error, std::bad_alloc...).
int ExitStatusFor(const std::exception& e);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_ERRORS_H_
