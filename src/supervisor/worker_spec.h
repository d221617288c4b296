// WorkerSpec: one long-running program the supervisor (`pinpipe supervise`) keeps running, as the
// workers file (workers_file.h) describes it, and the rules for restarting it (RestartOptions).
// Plain values.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinpipe::supervisor {

enum class RestartPolicy {
  kAlways,     // any exit the supervisor did not ask for is restarted (daemons: API, speed layer)
  kOnFailure,  // exit status 0 means "finished" and is not restarted (the emulator)
};

// "always", "on-failure".
std::string_view RestartPolicyName(RestartPolicy policy);

struct WorkerSpec {
  std::string name;   // [A-Za-z0-9_.-], at most 64: the metrics label and status file key
  std::string title;  // for log lines ("speed layer"); the name when not given
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // on top of the supervisor's environment
  std::string log_file;                                  // stdout and stderr are appended here
  RestartPolicy restart = RestartPolicy::kAlways;
  std::chrono::milliseconds stop_timeout{15000};  // SIGTERM, then SIGKILL after this long
};

// How the supervisor restarts a worker that exited (the same for every worker).
struct RestartOptions {
  // Back-off before restart n (1, 2, ...): initial * 2^(n-1), capped at max.
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
  // A process that ran this long was healthy: the next restart waits backoff_initial again.
  std::chrono::milliseconds healthy_after{60000};
  // A process that exits sooner than this after its start failed to start ...
  std::chrono::milliseconds startup_window{10000};
  // ... and after this many failed starts in a row the supervisor gives up: it stops every
  // worker and exits non-zero, printing the end of that worker's log.
  int max_failed_starts = 5;
  // Lines of the log printed when giving up.
  size_t log_tail_lines = 20;
};

// Most workers one supervisor runs (labels in /metrics come from the names: bounded).
inline constexpr size_t kMaxWorkers = 32;
inline constexpr size_t kMaxWorkerNameBytes = 64;

// True for a valid worker name: 1..64 of [A-Za-z0-9_.-].
bool IsWorkerName(std::string_view name);

}  // namespace pinpipe::supervisor
