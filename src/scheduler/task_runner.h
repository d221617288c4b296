// TaskRunner: how the executor runs one try of a task. The executor (a later piece of work) owns
// a TaskRunner and polls it from its scheduling loop; implementations run shell commands as
// child processes and the built-in kinds as pinpipe jobs. Tests use a scripted fake.
//
// Contract: Start() returns at once with a handle; Poll() answers nullopt while the try runs
// and its outcome once (and afterwards); Stop() ends a try early (the planner's timeouts) and
// its Poll() then reports kTimedOut. Thread-safety: implementation-defined; the executor calls
// from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "scheduler/dag_spec.h"
#include "scheduler/data_interval.h"
#include "scheduler/run.h"

namespace pinpipe::scheduler {

// One try of one task, templates already rendered (Planner::MakeRequest).
struct TaskRequest {
  std::string dag_id;
  RunId run_id;
  std::string task_id;
  TaskKind kind = TaskKind::kShell;
  int try_number = 1;
  DataInterval interval;
  std::string command;            // kShell with `command`: run by /bin/sh -c
  std::vector<std::string> argv;  // kShell with `argv`; built-in kinds: extra arguments
  std::vector<std::pair<std::string, std::string>> env;  // kShell
  std::optional<std::chrono::seconds> timeout;           // the planner enforces it via Stop()
  std::chrono::seconds poke_interval{60};                // kWaitSealed
};

enum class TryResult : uint8_t { kSuccess, kFailed, kTimedOut };

struct TaskOutcome {
  TryResult result = TryResult::kSuccess;
  int exit_code = 0;
  std::string message;  // why it failed ("exit code 2", "killed after 2h timeout")
};

// Identifies a started try within one TaskRunner.
enum class TaskHandle : uint64_t {};

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;

  // Starts a try. An error means it did not start (the executor records a failed try).
  virtual StatusOr<TaskHandle> Start(const TaskRequest& request) = 0;
  // nullopt while the try runs; its outcome once it has ended.
  virtual std::optional<TaskOutcome> Poll(TaskHandle handle) = 0;
  // Ends a running try (timeout or shutdown); no-op if it has ended.
  virtual void Stop(TaskHandle handle) = 0;
  // Blocks until some try may have ended or `max_wait` passed (the executor's idle wait).
  // Runners that cannot signal the end of a try simply sleep.
  virtual void WaitForEnd(std::chrono::milliseconds max_wait) {
    std::this_thread::sleep_for(max_wait);
  }
};

}  // namespace pinpipe::scheduler
