#include "testing/in_memory_run_store.h"

#include <algorithm>

#include <fmt/format.h>

namespace pinpipe::scheduler {

StatusOr<std::vector<DagRun>> InMemoryRunStore::LoadRuns(std::string_view dag_id) {
  std::lock_guard lock(mutex_);
  std::vector<DagRun> out;
  for (const auto& [key, run] : runs_) {
    if (key.first == dag_id) out.push_back(run);
  }
  std::stable_sort(out.begin(), out.end(), [](const DagRun& a, const DagRun& b) {
    return a.interval.start < b.interval.start;
  });
  return out;
}

Status InMemoryRunStore::SaveRun(DagRun* run) {
  std::lock_guard lock(mutex_);
  if (fail_save_in_ > 0 && --fail_save_in_ == 0) {
    return Unavailable(fmt::format("injected failure saving run {}", run->id.str()));
  }
  auto key = std::make_pair(run->dag_id, run->id);
  auto it = runs_.find(key);
  if (run->version == 0) {
    if (it != runs_.end()) {
      return AlreadyExists(fmt::format("run {} of DAG {} exists", run->id.str(), run->dag_id));
    }
    run->version = 1;
    runs_.emplace(std::move(key), *run);
    return Status::Ok();
  }
  if (it == runs_.end()) {
    return FailedPrecondition(fmt::format("run {} of DAG {} is not stored (version {})",
                                          run->id.str(), run->dag_id, run->version));
  }
  if (it->second.version != run->version) {
    return FailedPrecondition(fmt::format(
        "run {} of DAG {} was changed by someone else (stored version {}, read version {})",
        run->id.str(), run->dag_id, it->second.version, run->version));
  }
  ++run->version;
  it->second = *run;
  return Status::Ok();
}

Status InMemoryRunStore::AppendTaskLog(std::string_view dag_id, const RunId& run_id,
                                       std::string_view task_id, int try_number,
                                       std::string_view text) {
  std::lock_guard lock(mutex_);
  logs_[LogKey(std::string(dag_id), run_id.str(), std::string(task_id), try_number)] += text;
  return Status::Ok();
}

StatusOr<std::string> InMemoryRunStore::ReadTaskLog(std::string_view dag_id, const RunId& run_id,
                                                    std::string_view task_id, int try_number) {
  std::lock_guard lock(mutex_);
  const auto it =
      logs_.find(LogKey(std::string(dag_id), run_id.str(), std::string(task_id), try_number));
  return it == logs_.end() ? std::string() : it->second;
}

void InMemoryRunStore::FailNthSave(int n) {
  std::lock_guard lock(mutex_);
  fail_save_in_ = n;
}

}  // namespace pinpipe::scheduler
