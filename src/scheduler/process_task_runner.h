// ProcessTaskRunner: the TaskRunner of the scheduler daemon. Each try of a `shell`, `batch` or
// `refresh_views` task is a child process; `wait_sealed` runs in-process (SealWaiter) on the
// try's own thread.
//
//   shell          /bin/sh -c <command>, or <argv> directly (argv[0] looked up in PATH)
//   batch          <pinpipe> batch --date <day> (or --from D1 --to D2 when the interval covers
//                  several UTC days) [--lake L] <batch_args> <task args>
//   refresh_views  <pinpipe> batch --views-only <batch_args> <task args>
//
// Children: process::Child (src/process/), spawned from the calling thread; each child leads its
// own session and process group, so Stop() signals the whole tree (SIGTERM to the group, SIGKILL
// after `kill_grace`, and SIGKILL to what is left of the group once the leader exited). The
// child gets PR_SET_PDEATHSIG=SIGKILL: if the scheduler dies (kill -9), its direct children die
// with it instead of running on unsupervised (grandchildren of a shell may survive; see
// docs/design.md). Because the death signal follows the *thread* that forked, Start() must be
// called from a long-lived thread (the executor's). stdout and stderr share one pipe; a pump
// thread per try appends the output to the RunStore's log of that try in chunks (at
// `log_chunk_bytes` or every `log_flush_interval`), so a running task's log can be read while
// it runs.
//
// Outcome: exit 0 -> success; exit N -> failed ("exit code N"); killed by a signal -> failed
// (exit code 128+N); stopped by Stop() -> timed out.
//
// Thread-safety: Start/Poll/Stop/WaitForEnd may be called from any thread (one mutex). The
// RunStore must be thread-safe (the pumps append concurrently).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "scheduler/run_store.h"
#include "scheduler/task_runner.h"

namespace pinpipe::scheduler {

struct ProcessRunnerOptions {
  std::string pinpipe_bin;  // empty: this executable (/proc/self/exe)
  std::string lake_url;     // for wait_sealed and passed to batch as --lake (empty: not)
  std::vector<std::string> batch_args;  // extra arguments for every batch / refresh_views
  // The topics wait_sealed waits for unless its args name some (empty: the pipeline's default
  // topics); `scheduler run` sets them from --topic-pin/-geo/-user (PINPIPE_TOPIC_*).
  std::vector<std::string> seal_topics;
  std::chrono::milliseconds kill_grace = std::chrono::seconds(10);
  size_t log_chunk_bytes = 64 * 1024;
  std::chrono::milliseconds log_flush_interval = std::chrono::seconds(1);
};

class ProcessTaskRunner final : public TaskRunner {
 public:
  // Borrows `logs`, which must outlive the runner.
  ProcessTaskRunner(RunStore* logs, ProcessRunnerOptions options);
  // Stops every running try (as Stop) and waits for them.
  ~ProcessTaskRunner() override;

  // Errors: InvalidArgument for a request that cannot be run (no command, bad wait_sealed
  // args, a lake URL that does not parse); Internal/NotFound when the program cannot be
  // executed (the exec error is reported by the child through a close-on-exec pipe).
  StatusOr<TaskHandle> Start(const TaskRequest& request) override;
  std::optional<TaskOutcome> Poll(TaskHandle handle) override;
  void Stop(TaskHandle handle) override;
  void WaitForEnd(std::chrono::milliseconds max_wait) override;

  // Tries started and not yet reported by Poll as ended.
  size_t running() const;
  // The command line a request runs as (for logs, tests and the Airflow export's comments).
  // Empty for wait_sealed.
  std::vector<std::string> CommandLine(const TaskRequest& request) const;

 private:
  struct Try;
  void Pump(Try* t);
  void Finish(Try* t, TaskOutcome outcome);

  RunStore* logs_;
  ProcessRunnerOptions options_;

  mutable core::Mutex mutex_;
  std::condition_variable ended_cv_;
  // Guarded by mutex_:
  uint64_t next_handle_ GUARDED_BY(mutex_) = 1;
  std::map<TaskHandle, std::unique_ptr<Try>> tries_
      GUARDED_BY(mutex_);  // until Poll reported the outcome
  std::map<TaskHandle, TaskOutcome> finished_ GUARDED_BY(mutex_);  // reported outcomes
};

}  // namespace pinpipe::scheduler
