// What the supervisor shows of itself: a snapshot of every worker (SupervisorStatus), rendered as
// the status file (JSON, rewritten on every change; tests and `pinpipe status` read it) and as
// Prometheus metrics (GET /metrics of `pinpipe supervise`). Values and pure functions, except
// WriteStatusFile.
//
// The status file:
//   {"pid": 4242, "state": "running", "started_at": "2026-12-01T10:00:00.000Z",
//    "updated_at": "...", "workers": [
//      {"name": "stream", "title": "speed layer", "state": "running", "pid": 4250,
//       "restarts": 1, "failed_starts": 0, "started_at": "...", "last_exit": "was killed by
//       SIGKILL after 312 s", "last_exit_at": "...", "restart_at": null, "log": "/.../stream.log"},
//      ...]}
// Times are UTC, ISO 8601 with milliseconds; a missing time or exit is null; pid 0 means no
// process.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::supervisor {

using WallTime = std::chrono::system_clock::time_point;

enum class WorkerState {
  kRunning,     // its process runs
  kRestarting,  // exited; waiting for the back-off before the next start
  kFinished,    // exited with status 0 and its policy is on-failure: not restarted
  kStopping,    // the supervisor is stopping it
  kStopped,     // stopped by the supervisor
  kFailed,      // failed to start too often: the supervisor gave up
};
std::string_view WorkerStateName(WorkerState state);

enum class SupervisorState {
  kRunning,
  kStopping,
  kStopped,  // after a stop signal
  kFailed,   // gave up on a worker
};
std::string_view SupervisorStateName(SupervisorState state);

struct WorkerStatus {
  std::string name;
  std::string title;
  std::string log_file;
  WorkerState state = WorkerState::kRunning;
  int pid = 0;
  int restarts = 0;
  int failed_starts = 0;
  std::optional<WallTime> started_at;  // of the current (or last) process
  std::string last_exit;               // "was killed by SIGKILL after 312 s"; empty: none yet
  std::optional<WallTime> last_exit_at;
  std::optional<WallTime> restart_at;  // kRestarting: when the next start is due
};

struct SupervisorStatus {
  SupervisorState state = SupervisorState::kRunning;
  WallTime started_at{};
  WallTime updated_at{};
  std::vector<WorkerStatus> workers;
};

// "2026-12-01T10:00:00.123Z".
std::string FormatUtc(WallTime t);

// The status file's JSON (one line and a newline); `pid` is the supervisor's.
std::string RenderStatusJson(const SupervisorStatus& status, int pid);

// Prometheus text: pinpipe_supervisor_restarts_total{worker}, _worker_up{worker},
// _worker_failed_starts{worker}, _worker_start_time_seconds{worker} (of the current process),
// _stopping (1 while stopping or stopped). Labels are the configured worker names.
std::string RenderMetrics(const SupervisorStatus& status);

// Writes `content` to `path` so that readers see the old or the new file, never a part: a temp
// file in the same directory, renamed over `path`. No fsync: the file shows live state, it is
// not data to keep across a crash. Errors: Internal with the path and errno text.
Status WriteStatusFile(const std::string& path, std::string_view content);

}  // namespace pinpipe::supervisor
