#include "archive/archive_writer.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "archive/archive_log.h"
#include "core/backoff.h"
#include "core/mutex.h"

namespace pinpipe::archive {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> DaysOf(const Segment& segment) {
  std::vector<int64_t> days;
  for (const auto& [day, records] : segment.day_records) days.push_back(day);
  return days;
}

int64_t RawBytesOf(const Segment& segment) {
  int64_t n = 0;
  for (const SegmentObject& o : segment.objects) n += o.raw_bytes;
  return n;
}

}  // namespace

ArchiveWriter::ArchiveWriter(lake::ObjectStore* store, std::string group, Options options)
    : store_(store),
      group_(std::move(group)),
      options_(options),
      segment_writer_(store),
      days_(store, group_) {
  thread_ = std::jthread([this](std::stop_token stop) { Loop(std::move(stop)); });
}

ArchiveWriter::~ArchiveWriter() {
  thread_.request_stop();
  cv_.notify_all();
}

void ArchiveWriter::Enqueue(Task task, const std::function<bool()>& give_up) {
  core::MutexLock lock(mu_);
  while (queue_.size() >= options_.max_queued && !aborted_) {
    if (lock.WaitFor(cv_, std::chrono::milliseconds(100), [this]() REQUIRES(mu_) {
          return queue_.size() < options_.max_queued || aborted_;
        })) {
      break;
    }
    if (give_up && give_up()) aborted_ = true;
  }
  queue_.push_back(std::move(task));
  cv_.notify_all();
}

void ArchiveWriter::Submit(SegmentTask task, const std::function<bool()>& give_up) {
  Enqueue(Task(std::move(task)), give_up);
}

void ArchiveWriter::Submit(SealTask task, const std::function<bool()>& give_up) {
  Enqueue(Task(std::move(task)), give_up);
}

std::vector<WriterEvent> ArchiveWriter::TakeEvents() {
  core::MutexLock lock(mu_);
  std::vector<WriterEvent> out;
  out.swap(events_);
  return out;
}

bool ArchiveWriter::WaitIdle(Clock::time_point deadline) {
  core::MutexLock lock(mu_);
  return lock.WaitUntil(cv_, deadline, [this]() REQUIRES(mu_) { return queue_.empty() && !busy_; });
}

void ArchiveWriter::ClearPoison(const std::string& topic, int32_t partition) {
  core::MutexLock lock(mu_);
  poisoned_.erase({topic, partition});
}

void ArchiveWriter::Abort() {
  core::MutexLock lock(mu_);
  aborted_ = true;
  cv_.notify_all();
}

int64_t ArchiveWriter::retries() const {
  core::MutexLock lock(mu_);
  return retries_;
}

WriterEvent ArchiveWriter::Skipped(const Task& task) {
  WriterEvent e;
  if (const auto* s = std::get_if<SegmentTask>(&task)) {
    e.kind = WriterEvent::Kind::kSkipped;
    e.topic = s->segment.manifest.topic;
    e.partition = s->segment.manifest.partition;
    e.first = s->segment.manifest.first;
    e.end = s->segment.manifest.end;
    e.records = s->segment.manifest.records;
    e.days = DaysOf(s->segment);
  } else {
    const auto& seal = std::get<SealTask>(task);
    e.kind = WriterEvent::Kind::kSealAbandoned;
    e.topic = seal.topic;
    e.day = seal.day;
  }
  return e;
}

void ArchiveWriter::Loop(std::stop_token stop) {
  while (true) {
    Task task;
    {
      core::MutexLock lock(mu_);
      if (!lock.Wait(cv_, stop, [this]() REQUIRES(mu_) { return !queue_.empty(); })) {
        // Stopped: whatever is queued is dropped (the destructor runs; nobody reads events).
        return;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();  // room in the queue
      bool skip = failed_ || aborted_;
      if (const auto* s = std::get_if<SegmentTask>(&task)) {
        skip = skip ||
               poisoned_.count({s->segment.manifest.topic, s->segment.manifest.partition}) != 0;
      }
      if (skip) {
        events_.push_back(Skipped(task));
        cv_.notify_all();
        continue;
      }
      busy_ = true;
    }
    WriterEvent event = std::holds_alternative<SegmentTask>(task)
                            ? RunSegment(std::get<SegmentTask>(task), stop)
                            : RunSeal(std::get<SealTask>(task), stop);
    core::MutexLock lock(mu_);
    if (event.kind == WriterEvent::Kind::kFatal) failed_ = true;
    if (event.kind == WriterEvent::Kind::kConflict)
      poisoned_.insert({event.topic, event.partition});
    events_.push_back(std::move(event));
    busy_ = false;
    cv_.notify_all();
  }
}

template <typename F>
Status ArchiveWriter::Retry(const std::string& what, const std::stop_token& stop, F attempt) {
  core::Backoff backoff(options_.backoff_initial, options_.backoff_max);
  bool logged = false;
  while (true) {
    Status s = attempt();
    if (s.ok()) {
      if (logged) ArchiveLog(what + ": the store answers again");
      return s;
    }
    if (!s.retriable()) return s;
    {
      core::MutexLock lock(mu_);
      ++retries_;
      if (!logged) {
        ArchiveLog(fmt::format("{}: {}; retrying with back-off", what, s.ToString()));
        logged = true;
      }
      // Sleeps for the next delay unless aborted or stopped first.
      if (lock.WaitFor(cv_, stop, backoff.Next(), [this]() REQUIRES(mu_) { return aborted_; }) ||
          stop.stop_requested()) {
        return Cancelled(what + ": abandoned while retrying (" + s.ToString() + ")");
      }
    }
  }
}

WriterEvent ArchiveWriter::RunSegment(SegmentTask& task, const std::stop_token& stop) {
  const Segment& segment = task.segment;
  const SegmentManifest& m = segment.manifest;
  WriterEvent e;
  e.topic = m.topic;
  e.partition = m.partition;
  e.first = m.first;
  e.end = m.end;
  e.records = m.records;
  e.raw_bytes = RawBytesOf(segment);
  e.days = DaysOf(segment);
  e.redo = task.stored_intent.has_value();
  const auto started = Clock::now();
  const std::string what =
      fmt::format("segment {}[{}] [{}, {})", m.topic, m.partition, m.first, m.end);
  Status s = Retry(what, stop, [&]() -> Status {
    e.late_records = 0;
    e.late_days.clear();
    auto hook = [&]() -> Status {
      if (!options_.track_days) return Status::Ok();
      ASSIGN_OR_RETURN(e.late_records, days_.PrepareDays(segment, &e.late_days));
      return Status::Ok();
    };
    ASSIGN_OR_RETURN(e.write, segment_writer_.Write(segment, task.stored_intent, hook));
    return Status::Ok();
  });
  e.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (s.code() == StatusCode::kCancelled) {
    WriterEvent skipped = Skipped(Task(std::move(task)));
    return skipped;
  }
  if (!s.ok()) {
    e.kind = WriterEvent::Kind::kFatal;
    e.status = s.WithContext(what);
    return e;
  }
  if (!e.write.written) {
    e.kind = WriterEvent::Kind::kConflict;
    return e;
  }
  if (options_.track_days) days_.Remember(segment);
  e.kind = WriterEvent::Kind::kSegmentDone;
  return e;
}

WriterEvent ArchiveWriter::RunSeal(SealTask& task, const std::stop_token& stop) {
  WriterEvent e;
  e.topic = task.topic;
  e.day = task.day;
  const std::string what = fmt::format("sealing {} {}", task.topic, DateOfDay(task.day));
  Status s = Retry(what, stop, [&]() -> Status {
    ASSIGN_OR_RETURN(e.seal,
                     days_.Seal(task.topic, task.day, task.watermark_ms, options_.lateness_ms));
    return Status::Ok();
  });
  if (s.code() == StatusCode::kCancelled) return Skipped(Task(std::move(task)));
  if (!s.ok()) {
    e.kind = WriterEvent::Kind::kFatal;
    e.status = s.WithContext(what);
    return e;
  }
  e.kind = WriterEvent::Kind::kSealed;
  return e;
}

}  // namespace pinpipe::archive
