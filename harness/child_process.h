#ifndef LEAKLAB_HARNESS_CHILD_PROCESS_H_
#define LEAKLAB_HARNESS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace leaklab::harness {

// How a child process ended, in words for the manifest.
struct ExitInfo {
  bool exited = false;           // false: still running
  int exit_code = -1;            // when it exited normally
  int signal = 0;                // when a signal killed it
  std::string Describe() const;  // "exit code 0", "killed by SIGKILL", ...
};

// A child process with its stdout on a pipe (for the first line: the port)
// and its stderr appended to a log file. The destructor kills and reaps it,
// so no server outlives the harness.
class ChildProcess {
 public:
  // Throws std::runtime_error naming the program when it cannot be started.
  ChildProcess(const std::filesystem::path& program, const std::vector<std::string>& args,
               const std::filesystem::path& stderr_log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The first line the child writes on stdout, without the newline; nullopt if
  // none arrives within `timeout` or the child closes stdout first.
  // Lines longer than `max_bytes` are refused (nullopt): a port is 5 digits.
  std::optional<std::string> ReadFirstLine(std::chrono::milliseconds timeout,
                                           size_t max_bytes = 256);

  // Non-blocking check; once the child has exited, keeps returning that.
  ExitInfo Poll();

  // Waits up to `timeout` for the child to exit by itself, then stops it as
  // Stop(grace) does; returns how it ended.
  ExitInfo Wait(std::chrono::milliseconds timeout, std::chrono::milliseconds grace);

  // Sends SIGTERM to the child's process group (the child and whatever it
  // started), waits up to `grace` for all of them to end, then SIGKILL;
  // returns how the child ended. Also ends what the child left running
  // when it has exited by itself.
  ExitInfo Stop(std::chrono::milliseconds grace);

 private:
  // Whether any process of the child's group is left (zombies count until
  // their parent reaps them).
  bool GroupAlive() const;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  ExitInfo exit_;
};

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_CHILD_PROCESS_H_
