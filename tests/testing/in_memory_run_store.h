// InMemoryRunStore: the scheduler's RunStore (src/scheduler/run_store.h) in memory, for unit
// tests of the planner and executor and for the task runner's logs in integration tests.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/status.h"
#include "scheduler/run_store.h"

namespace pinpipe::scheduler {

// RunStore in memory, for tests. Thread-safe (one mutex). Fault switch:
// FailNthSave(n) makes the n-th following SaveRun fail with Unavailable.
class InMemoryRunStore final : public RunStore {
 public:
  StatusOr<std::vector<DagRun>> LoadRuns(std::string_view dag_id) override;
  Status SaveRun(DagRun* run) override;
  Status AppendTaskLog(std::string_view dag_id, const RunId& run_id, std::string_view task_id,
                       int try_number, std::string_view text) override;
  StatusOr<std::string> ReadTaskLog(std::string_view dag_id, const RunId& run_id,
                                    std::string_view task_id, int try_number) override;

  void FailNthSave(int n);

 private:
  using LogKey = std::tuple<std::string, std::string, std::string, int>;

  std::mutex mutex_;
  // Guarded by mutex_:
  std::map<std::pair<std::string, RunId>, DagRun> runs_;  // (dag id, run id)
  std::map<LogKey, std::string> logs_;
  int fail_save_in_ = 0;  // 0: off; else the save countdown
};

}  // namespace pinpipe::scheduler
