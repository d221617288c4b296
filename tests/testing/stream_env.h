// Helpers for the speed layer's integration and fault tests: topics, bulk producing, SQL
// counts, waiting for a condition, and `pinpipe stream` as a child process (for kill -9).
//
//   PINPIPE_TEST_PINPIPE_BIN  the pinpipe binary (child-process tests skip without it)
//   PINPIPE_TEST_PG_CTL       command taking `stop` / `start` for the test PostgreSQL cluster
//                             (the PostgreSQL restart test skips without it)
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "process/child.h"

namespace pinpipe::testing {

// Creates "<prefix>-pin", "-geo", "-user" with `partitions` each.
StatusOr<std::array<std::string, 3>> CreateStreamTopics(const std::string& brokers,
                                                        const std::string& prefix, int partitions);

// Produces every (key, value) to `topic` and waits for all acknowledgements.
// Errors: the first failed delivery.
Status ProduceAll(const std::string& brokers, const std::string& topic,
                  const std::vector<std::pair<std::string, std::string>>& records);

// The first column of the first row of `sql` as an integer (NULL -> 0).
StatusOr<int64_t> QueryInt(const std::string& dsn, const std::string& sql);

// Sum of the high watermarks of every partition of `topics`.
StatusOr<int64_t> HighWatermarkSum(const std::string& brokers,
                                   const std::vector<std::string>& topics);

// Polls `done` every 100 ms until it is true or `timeout` passes; returns its last answer.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A pinpipe command (`pinpipe stream`, ...) as a child process (process::Child: its own session,
// SIGKILLed if the test dies), output appended to `log_path`.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Errors: process::Child::Spawn's (NotFound for a missing program).
  Status Start(const std::vector<std::string>& argv, const std::string& log_path);
  // `sig` to the child (not its group).
  void Signal(int sig);
  // Waits for exit; the exit code, or 128+signal when killed. -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool running() const { return child_.has_value(); }
  pid_t pid() const { return child_ ? child_->pid() : -1; }

 private:
  std::optional<process::Child> child_;
};

}  // namespace pinpipe::testing
