// Supervisor: keeps a fixed set of workers (WorkerSpec) running. The state machine behind
// `pinpipe supervise`, over two interfaces so that tests drive it with fake processes and a fake
// clock: Launcher (start, reap, stop a process; ProcessLauncher is the real one) and Clock.
//
//   Start()    starts every worker, in order.
//   Tick()     reaps the workers that exited and decides for each (RestartTracker): restart after
//              a back-off, finished, or give up; starts the workers whose back-off is over.
//              Returns when it wants to run again (the next due restart); the caller also calls
//              it whenever a child exited (SIGCHLD).
//   StopAll()  stops every worker in reverse order, each with its stop_timeout (blocking); a
//              worker waiting for its restart is not started again.
// Each event is one line to `log` ("speed layer (pid 1234) was killed by SIGKILL after 312 s;
// restarting in 1 s (restart 3)"); giving up prints the end of the worker's log.
//
// Thread-safety: Start, Tick and StopAll run on one thread (the one that owns the children).
// Snapshot() may be called from any thread (the metrics server's): it returns the snapshot
// published after the last change.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "log/logger.h"
#include "process/child.h"
#include "supervisor/restart_tracker.h"
#include "supervisor/status.h"
#include "supervisor/worker_spec.h"

namespace pinpipe::supervisor {

using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

// What the supervisor needs from the operating system.
class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts a process of `spec`; returns its pid. Errors: the program cannot be run.
  virtual StatusOr<int> Start(const WorkerSpec& spec) = 0;
  // The process's exit status once it has exited (it is then reaped, and what is left of its
  // process group killed); nullopt while it runs.
  virtual std::optional<process::ExitStatus> Poll(int pid) = 0;
  // Stops the process: SIGTERM, SIGKILL after `timeout`; blocks until it has exited.
  virtual process::ExitStatus Stop(int pid, std::chrono::milliseconds timeout) = 0;
  // The last `lines` lines of the worker's log (empty when it cannot be read).
  virtual std::string LogTail(const WorkerSpec& spec, size_t lines) = 0;
};

class Supervisor {
 public:
  // A line for the log at `level` (a restart after an exit is a warning, giving up an error).
  using LogSink = std::function<void(log::Level level, const std::string& line)>;
  // Called with the new snapshot after every change, on the supervisor's thread (the status file
  // is written there).
  using ChangeSink = std::function<void(const SupervisorStatus& status)>;

  // Borrows `launcher` and `clock`, which must outlive the supervisor. `on_change` may be empty.
  Supervisor(std::vector<WorkerSpec> workers, RestartOptions options, Launcher* launcher,
             const Clock* clock, LogSink log, ChangeSink on_change = {});

  void Start();
  // Returns the time of the next due restart, nullopt when none is due (wait for SIGCHLD).
  std::optional<SteadyTime> Tick();
  void StopAll();

  // True once a worker failed to start `max_failed_starts` times in a row: the caller must
  // StopAll() and exit non-zero.
  bool gave_up() const { return gave_up_; }

  // The snapshot published after the last change. Any thread.
  SupervisorStatus Snapshot() const;

 private:
  struct Worker {
    WorkerSpec spec;
    RestartTracker tracker;
    WorkerState state = WorkerState::kRestarting;
    int pid = 0;
    SteadyTime started{};
    std::optional<WallTime> started_wall{};
    SteadyTime restart_at{};
    std::string last_exit{};
    std::optional<WallTime> last_exit_at{};
  };

  void StartWorker(Worker* w);
  // A process of `w` ended by itself after `uptime` (or could not be started: uptime 0);
  // `what` says so for the log line.
  void OnExit(Worker* w, const std::string& what, bool success, std::chrono::milliseconds uptime);
  void Publish();

  std::vector<Worker> workers_;  // start order
  RestartOptions options_;
  Launcher* launcher_;
  const Clock* clock_;
  LogSink log_;
  ChangeSink on_change_;
  SupervisorState state_ = SupervisorState::kRunning;
  WallTime started_at_;
  bool gave_up_ = false;

  mutable core::Mutex snapshot_mu_;
  // Guarded by snapshot_mu_:
  SupervisorStatus snapshot_ GUARDED_BY(snapshot_mu_);
};

// "0.3 s", "12 s", "5m12s": how long something ran or will wait, for log lines.
std::string FormatSpan(std::chrono::milliseconds span);

}  // namespace pinpipe::supervisor
