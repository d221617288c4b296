// ArchiveWriter: the archiver's lake writer thread. The main thread cuts segments and decides
// seals; this thread makes them durable, one task at a time in submission order, so a
// partition's segment k+1 is written (its intent created) only after segment k's done marker.
//
// Failures: retriable store errors (Unavailable, DeadlineExceeded, ResourceExhausted) are
// retried with exponential back-off, the same task again (every step is idempotent); any other
// error is fatal: a kFatal event is reported and every later task is dropped (kSkipped), since
// the main thread is going to stop. A segment whose first offset another archiver's intent holds
// (kConflict) poisons its partition: later queued segments of it were cut on top of the lost one
// and are dropped until the main thread has re-read the partition from the lake and called
// ClearPoison.
//
// Thread-safety: Submit, TakeEvents, WaitIdle, ClearPoison and Abort may be called from any
// thread (the archiver calls them from its main thread); the tasks run on the writer's own
// thread, which the destructor stops and joins (dropping queued tasks).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "archive/day_ledger.h"
#include "archive/segment_builder.h"
#include "archive/segment_writer.h"
#include "core/mutex.h"
#include "core/status.h"
#include "kafka/topic_partition.h"
#include "lake/object_store.h"

namespace pinpipe::archive {

struct SegmentTask {
  Segment segment;
  std::optional<SegmentManifest> stored_intent;  // set for a redo
};

struct SealTask {
  std::string topic;
  int64_t day = 0;
  int64_t watermark_ms = 0;
};

struct WriterEvent {
  enum class Kind : uint8_t { kSegmentDone, kConflict, kSkipped, kSealed, kSealAbandoned, kFatal };
  Kind kind = Kind::kSegmentDone;
  std::string topic;
  // Segments.
  int32_t partition = 0;
  int64_t first = 0;
  int64_t end = 0;
  int64_t records = 0;
  int64_t raw_bytes = 0;
  std::vector<int64_t> days;  // event days of the segment's records
  bool redo = false;
  SegmentWriteResult write;
  int64_t late_records = 0;
  std::vector<int64_t> late_days;
  double seconds = 0;
  // Seals.
  int64_t day = 0;
  SealResult seal;
  // kFatal.
  Status status;
};

class ArchiveWriter {
 public:
  struct Options {
    bool track_days = true;  // hourly layout: day markers and late detection
    int64_t lateness_ms = 3600 * 1000;
    size_t max_queued = 8;
    std::chrono::milliseconds backoff_initial{100};
    std::chrono::milliseconds backoff_max{5000};
  };

  ArchiveWriter(lake::ObjectStore* store, std::string group, Options options);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Queues a task; blocks while max_queued tasks are waiting. `give_up` (optional) is asked
  // every 100 ms while blocked: when it says true the writer is aborted (see Abort) and the task
  // queued anyway, to be reported as skipped.
  void Submit(SegmentTask task, const std::function<bool()>& give_up = {});
  void Submit(SealTask task, const std::function<bool()>& give_up = {});
  // The events of the tasks finished since the last call, in completion order.
  std::vector<WriterEvent> TakeEvents();
  // Waits until no task is queued or running; false if `deadline` passed first.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  void ClearPoison(const std::string& topic, int32_t partition);
  // Stops retrying: the task in progress and every queued one end as kSkipped/kSealAbandoned.
  void Abort();
  // Retries of retriable store errors so far.
  int64_t retries() const;

 private:
  using Task = std::variant<SegmentTask, SealTask>;
  void Enqueue(Task task, const std::function<bool()>& give_up);
  void Loop(std::stop_token stop);
  WriterEvent RunSegment(SegmentTask& task, const std::stop_token& stop);
  WriterEvent RunSeal(SealTask& task, const std::stop_token& stop);
  // Runs `attempt` until it succeeds, fails for good, or the writer is aborted/stopped; returns
  // the last status.
  template <typename F>
  Status Retry(const std::string& what, const std::stop_token& stop, F attempt);
  static WriterEvent Skipped(const Task& task);

  lake::ObjectStore* store_;
  std::string group_;
  Options options_;
  // Writer thread only.
  SegmentWriter segment_writer_;
  DayLedger days_;

  mutable core::Mutex mu_;
  std::condition_variable_any cv_;  // queue changed, task finished, abort
  // Guarded by mu_:
  std::deque<Task> queue_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;
  bool aborted_ GUARDED_BY(mu_) = false;
  bool failed_ GUARDED_BY(mu_) = false;  // a fatal error happened: drop everything after it
  std::vector<WriterEvent> events_ GUARDED_BY(mu_);
  std::set<kafka::TopicPartition> poisoned_ GUARDED_BY(mu_);
  int64_t retries_ GUARDED_BY(mu_) = 0;

  std::jthread thread_;  // last: started after everything above exists
};

}  // namespace pinpipe::archive
