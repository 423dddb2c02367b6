#include "harness/child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace leaklab::harness {

std::string ExitInfo::Describe() const {
  if (!exited) return "running";
  if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by SIG") + (name ? name : std::to_string(signal).c_str());
  }
  return "exit code " + std::to_string(exit_code);
}

ChildProcess::ChildProcess(const std::filesystem::path& program,
                           const std::vector<std::string>& args,
                           const std::filesystem::path& stderr_log) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  std::vector<char*> argv;
  std::string program_str = program.string();
  argv.push_back(program_str.data());
  std::vector<std::string> copies = args;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Its own process group: a Ctrl-C at the terminal is for the harness, which
  // then stops the child in order, and records the run as interrupted.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  int rc = ::posix_spawn(&pid_, program_str.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    // posix_spawn also fails when the stderr log cannot be opened: name both.
    throw std::runtime_error("cannot start " + program_str + " (stderr to " + stderr_log.string() +
                             "): " + std::strerror(rc));
  }
  stdout_fd_ = pipe_fds[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(std::chrono::milliseconds(2000));
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::optional<std::string> ChildProcess::ReadFirstLine(std::chrono::milliseconds timeout,
                                                       size_t max_bytes) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (line.size() < max_bytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    // Byte by byte: nothing after the first line may be consumed here.
    char c;
    ssize_t n = ::read(stdout_fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line.push_back(c);
  }
  return std::nullopt;
}

ExitInfo ChildProcess::Poll() {
  if (exit_.exited || pid_ <= 0) return exit_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_.exited = true;
    if (WIFEXITED(status)) exit_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) exit_.signal = WTERMSIG(status);
  }
  return exit_;
}

ExitInfo ChildProcess::Wait(std::chrono::milliseconds timeout, std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Poll().exited) return exit_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Stop(grace);
}

bool ChildProcess::GroupAlive() const {
  // Signal 0 checks without sending; ESRCH: no process is left in the group.
  if (::kill(-pid_, 0) != 0) return false;
  // Zombies still count for kill(), and an orphan's zombie waits for init,
  // which in a container may never reap it: look for a member that runs.
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return true;
  bool alive = false;
  while (const dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], text[512];
    std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) continue;
    text[n] = '\0';
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const char* after = std::strrchr(text, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (after != nullptr && std::sscanf(after + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
        pgrp == pid_ && state != 'Z') {
      alive = true;
      break;
    }
  }
  ::closedir(proc);
  return alive;
}

ExitInfo ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return exit_;
  // The whole process group: a wrapper script's children (a server started
  // by a shell, a worker it forked) must not outlive it as orphans. The
  // group stays reachable by its id while any member lives, even once the
  // leader has exited.
  if (!Poll().exited || GroupAlive()) ::kill(-pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Poll().exited && !GroupAlive()) return exit_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid_, SIGKILL);
  int status = 0;
  if (!exit_.exited && ::waitpid(pid_, &status, 0) == pid_) {
    exit_.exited = true;
    if (WIFEXITED(status)) exit_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) exit_.signal = WTERMSIG(status);
  }
  return exit_;
}

}  // namespace leaklab::harness
