// Child: a program pinpipe runs as a child process, and how it is stopped. The one place that
// forks: the scheduler's task tries (ProcessTaskRunner) and the supervisor's workers
// (`pinpipe supervise`) both start and stop their children through it.
//
// Spawn() forks and execs `argv` (argv[0] looked up in PATH by the parent: after fork the child
// makes only async-signal-safe calls). The child:
//   * leads a new session and process group (setsid): a Ctrl-C in the parent's terminal does not
//     reach it, and SignalGroup() reaches everything it started;
//   * gets PR_SET_PDEATHSIG = `death_signal`, so it does not outlive its parent. The signal
//     follows the *thread* that forked, so call Spawn() from a thread that lives as long as the
//     child should (the executor's, the supervisor's main thread);
//   * starts with default signal dispositions and an empty signal mask (the parent's blocked
//     SIGINT/SIGTERM/SIGCHLD, or a SIGINT that bash ignores for background jobs, do not leak into
//     it), stdin /dev/null, every other inherited descriptor closed, and stdout and stderr both
//     either appended to `output_file` or written into one pipe (output_fd());
//   * has the parent's environment with `env` added (a name in `env` replaces the parent's).
// An exec failure is reported by Spawn() itself (through a close-on-exec pipe), not as an exit.
//
// Stopping: BeginStop() sends SIGTERM to the group; EscalateStop() sends SIGKILL once `grace`
// has passed; Stop() does both and waits. After the leader exited, KillGroup() removes what is
// left of the group (a background grandchild).
//
// Ownership: move-only; the destructor of a child not yet reaped SIGKILLs its group and reaps it,
// and closes the pipe. Not thread-safe: callers that share a Child between threads lock.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pinpipe::process {

// How a child ended: a waitpid() status.
class ExitStatus {
 public:
  static ExitStatus FromWait(int wait_status) { return ExitStatus(wait_status); }
  static ExitStatus Exited(int code);
  static ExitStatus Killed(int signal);

  bool exited() const;
  int code() const;  // exit code when exited(), else -1
  bool signaled() const;
  int signal() const;  // the signal when signaled(), else 0
  bool success() const { return exited() && code() == 0; }
  // 0..255 for an exit, 128 + N for death by signal N (as a shell reports it).
  int ShellCode() const;
  // "exited with status 3", "was killed by SIGKILL".
  std::string Describe() const;

  friend bool operator==(const ExitStatus& a, const ExitStatus& b) {
    return a.wait_status_ == b.wait_status_;
  }

 private:
  explicit ExitStatus(int wait_status) : wait_status_(wait_status) {}
  int wait_status_ = 0;
};

// "SIGKILL" for 9; "signal 70" for a number without a name.
std::string SignalName(int signal);

struct SpawnOptions {
  std::vector<std::string> argv;                         // argv[0]: a path, or a name in PATH
  std::vector<std::pair<std::string, std::string>> env;  // on top of the parent's environment
  std::string output_file;  // stdout and stderr appended here (created 0644); empty: a pipe
  int death_signal = SIGKILL;
};

class Child {
 public:
  // Errors: InvalidArgument for an empty argv; NotFound when the program does not exist;
  // Internal when it cannot be executed or the output file opened, or fork/pipe fail.
  static StatusOr<Child> Spawn(const SpawnOptions& options);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  // Also the child's process group and session id.
  pid_t pid() const { return pid_; }
  // The read end of the output pipe (no output_file), else -1. Owned by the Child.
  int output_fd() const { return output_fd_; }
  void CloseOutput();

  // Reaps the child if it has exited (does not block); its status from then on.
  std::optional<ExitStatus> Poll();
  // As Poll, but once the child has exited SIGKILLs what is left of its process group first,
  // while the unreaped child still holds the group id (so the signal cannot reach a new group
  // that reused the number).
  std::optional<ExitStatus> PollKillingGroup();
  const std::optional<ExitStatus>& exit_status() const { return exit_status_; }

  // `sig` to the child's process group (the child and what it started). A no-op for a child
  // that was never started.
  void SignalGroup(int sig) const;

  // SIGTERM to the group, once; remembers when.
  void BeginStop(std::chrono::steady_clock::time_point now);
  bool stop_begun() const { return stop_begun_.has_value(); }
  // After BeginStop: SIGKILL to the group once `grace` has passed and the child still runs.
  // True once SIGKILL was sent.
  bool EscalateStop(std::chrono::steady_clock::time_point now, std::chrono::milliseconds grace);
  bool killed() const { return killed_; }
  // BeginStop, then waits for the exit (polling every 20 ms), SIGKILL after `grace`, and kills
  // what is left of the group (PollKillingGroup). Returns the exit status.
  ExitStatus Stop(std::chrono::milliseconds grace);
  // SIGKILL to the group (for what is left of it once the leader exited).
  void KillGroup() const { SignalGroup(SIGKILL); }

 private:
  Child(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}

  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::optional<ExitStatus> exit_status_;
  std::optional<std::chrono::steady_clock::time_point> stop_begun_;
  bool killed_ = false;
};

// True for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool IsEnvName(std::string_view name);

// "a b 'c d'": a command line as a shell would need it (for log headers).
std::string ShellQuote(const std::vector<std::string>& argv);

}  // namespace pinpipe::process
