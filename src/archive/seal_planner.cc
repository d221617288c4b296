#include "archive/seal_planner.h"

#include <algorithm>

#include "archive/archive_layout.h"

namespace pinpipe::archive {

PartitionProgress* SealPlanner::Assign(const std::string& topic, int32_t partition, TimePoint now) {
  PartitionProgress& p = topics_[topic].partitions[partition];
  p = PartitionProgress{};
  p.last_activity = now;
  return &p;
}

void SealPlanner::Release(const std::string& topic, int32_t partition) {
  auto it = topics_.find(topic);
  if (it != topics_.end()) it->second.partitions.erase(partition);
}

void SealPlanner::RemovePending(const std::string& topic, int64_t day) {
  auto& pending = topics_[topic].pending;
  auto it = pending.find(day);
  if (it == pending.end()) return;
  if (--it->second <= 0) pending.erase(it);
}

bool SealPlanner::HoldsAllPartitions(const std::string& topic) const {
  auto count = partition_count_.find(topic);
  auto state = topics_.find(topic);
  if (count == partition_count_.end() || count->second <= 0 || state == topics_.end()) {
    return false;
  }
  const auto& parts = state->second.partitions;
  if (static_cast<int>(parts.size()) != count->second) return false;
  for (int32_t p = 0; p < count->second; ++p) {
    if (parts.count(p) == 0) return false;
  }
  return true;
}

std::optional<int64_t> SealPlanner::Watermark(const std::string& topic, TimePoint now) const {
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.partitions.empty()) return std::nullopt;
  std::optional<int64_t> active_min;
  std::optional<int64_t> any_max;
  bool active_unknown = false;
  for (const auto& [partition, p] : it->second.partitions) {
    if (p.max_event_ms) any_max = std::max(any_max.value_or(*p.max_event_ms), *p.max_event_ms);
    if (now - p.last_activity >= idle_) continue;  // idle: does not hold the watermark back
    if (!p.max_event_ms) {
      active_unknown = true;
      continue;
    }
    active_min = std::min(active_min.value_or(*p.max_event_ms), *p.max_event_ms);
  }
  if (active_unknown) return std::nullopt;
  return active_min ? active_min : any_max;
}

std::vector<int64_t> SealPlanner::DueDays(const std::string& topic, TimePoint now) {
  std::vector<int64_t> due;
  if (!HoldsAllPartitions(topic)) return due;
  const std::optional<int64_t> watermark = Watermark(topic, now);
  if (!watermark) return due;
  TopicState& t = topics_[topic];
  for (int64_t day : t.open) {
    const int64_t closes_at = (day + 1) * kMillisPerDay + lateness_.count();
    if (*watermark < closes_at) break;  // days are sorted: later ones are not due either
    if (t.pending.count(day) != 0 || t.sealing.count(day) != 0) continue;
    t.sealing.insert(day);
    due.push_back(day);
  }
  return due;
}

void SealPlanner::Sealed(const std::string& topic, int64_t day) {
  TopicState& t = topics_[topic];
  t.sealing.erase(day);
  t.open.erase(day);
}

std::vector<std::string> SealPlanner::Topics() const {
  std::vector<std::string> out;
  for (const auto& [topic, state] : topics_) out.push_back(topic);
  return out;
}

size_t SealPlanner::open_days(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.open.size();
}

}  // namespace pinpipe::archive
