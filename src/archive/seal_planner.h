// SealPlanner: decides when a day of a topic is complete, i.e. when its _SUCCESS marker may be
// written. Pure logic with the time passed in (tests use a fake clock). Not thread-safe: the
// archiver's main thread owns it.
//
// Watermark of a topic = the minimum, over the topic's partitions held by this archiver, of the
// highest event time consumed from each; a partition that has delivered no record for `idle`
// (or none since it was assigned that long ago) does not hold the watermark back. When every
// partition is idle the watermark is the highest event time any of them delivered, so a quiet
// topic still seals the days it has completely passed. A partition assigned less than `idle` ago
// that has delivered nothing yet holds the watermark unknown (its backlog may be old).
//
// A day D is due for sealing when
//   - this archiver holds every partition of the topic (one instance seals; with several
//     instances in the group, whichever holds all partitions does, else nobody until that holds),
//   - watermark >= end of D + lateness,
//   - no segment that holds records of D is still open or being written (AddPending), and
//   - D is an open day (AddOpenDay: it has archived records and no _SUCCESS yet).
// DueDays hands a day out once; Sealed() forgets it, SealFailed() makes it due again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pinpipe::archive {

struct PartitionProgress {
  std::optional<int64_t> max_event_ms;
  std::chrono::steady_clock::time_point last_activity{};  // last record, or the assignment
  // The hot path updates this directly through the pointer Assign() returns.
  void Observe(int64_t event_ms, std::chrono::steady_clock::time_point now) {
    if (!max_event_ms || event_ms > *max_event_ms) max_event_ms = event_ms;
    last_activity = now;
  }
};

class SealPlanner {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  SealPlanner(std::chrono::milliseconds lateness, std::chrono::milliseconds idle)
      : lateness_(lateness), idle_(idle) {}

  // How many partitions the topic has (0 or unknown: never sealed).
  void SetPartitionCount(const std::string& topic, int count) { partition_count_[topic] = count; }
  // Starts tracking a held partition; the pointer stays valid until Release.
  PartitionProgress* Assign(const std::string& topic, int32_t partition, TimePoint now);
  void Release(const std::string& topic, int32_t partition);

  void AddOpenDay(const std::string& topic, int64_t day) { topics_[topic].open.insert(day); }
  void AddPending(const std::string& topic, int64_t day) { ++topics_[topic].pending[day]; }
  void RemovePending(const std::string& topic, int64_t day);

  std::optional<int64_t> Watermark(const std::string& topic, TimePoint now) const;
  bool HoldsAllPartitions(const std::string& topic) const;
  // Days now due (see the class comment), each handed out once until Sealed/SealFailed.
  std::vector<int64_t> DueDays(const std::string& topic, TimePoint now);
  void Sealed(const std::string& topic, int64_t day);
  void SealFailed(const std::string& topic, int64_t day) { topics_[topic].sealing.erase(day); }

  std::vector<std::string> Topics() const;
  size_t open_days(const std::string& topic) const;

 private:
  struct TopicState {
    std::map<int32_t, PartitionProgress> partitions;
    std::set<int64_t> open;
    std::set<int64_t> sealing;
    std::map<int64_t, int> pending;
  };
  std::chrono::milliseconds lateness_;
  std::chrono::milliseconds idle_;
  std::map<std::string, TopicState> topics_;
  std::map<std::string, int> partition_count_;
};

}  // namespace pinpipe::archive
