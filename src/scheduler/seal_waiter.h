// SealWaiter: the `wait_sealed` task. The archiver writes <topic>/dt=YYYY-MM-DD/_SUCCESS into
// the lake once a day is complete (names from archive/archive_layout.h); the wait succeeds when
// every day the interval touches (UTC days: the lake's partitions are UTC) is sealed for every
// topic, and looks again every poke interval until then. Runs in-process (ProcessTaskRunner gives
// it a thread) and as `pinpipe scheduler wait-sealed` (the Airflow export's command).
//
// Thread-safety: one Wait() at a time per object; Cancel() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "lake/object_store.h"
#include "scheduler/data_interval.h"

namespace pinpipe::scheduler {

struct SealWaitOptions {
  std::vector<std::string> topics = {core::DefaultTopic(core::RecordKind::kPin),
                                     core::DefaultTopic(core::RecordKind::kGeo),
                                     core::DefaultTopic(core::RecordKind::kUser)};
  std::chrono::milliseconds poke_interval = std::chrono::minutes(1);
  std::optional<std::chrono::milliseconds> timeout;  // none: until cancelled
};

// The UTC dates ("2024-01-01") of the days [start, end) touches, oldest first.
std::vector<std::string> UtcDaysOf(const DataInterval& interval);

// Parses a wait_sealed task's args: `--topic T` (repeatable; replaces the default topics) and
// `--lake URL` (a lake other than the scheduler's). InvalidArgument names a bad argument.
Status ParseSealArgs(const std::vector<std::string>& args, SealWaitOptions* options,
                     std::string* lake_url);

class SealWaiter {
 public:
  using LogFn = std::function<void(const std::string& line)>;

  // Borrows `store`, which must outlive the waiter.
  SealWaiter(lake::ObjectStore* store, LogFn log) : store_(store), log_(std::move(log)) {}

  // Returns OK once every marker exists; DeadlineExceeded after options.timeout; Cancelled
  // after Cancel(); InvalidArgument (before looking) for a day that is not a YYYY-MM-DD date. Lake
  // errors are logged and retried at the next poke (the lake may be down for a while), so a lake
  // that stays unreachable ends only by timeout or cancel.
  Status Wait(const std::vector<std::string>& days, const SealWaitOptions& options);
  void Cancel();

 private:
  lake::ObjectStore* store_;
  LogFn log_;
  core::Mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ GUARDED_BY(mutex_) = false;
};

}  // namespace pinpipe::scheduler
