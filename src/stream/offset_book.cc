#include "stream/offset_book.h"

namespace pinpipe::stream {

void OffsetBook::Own(const kafka::TopicPartition& key, std::optional<int64_t> stored) {
  parts_[key] = State{stored, std::nullopt};
}

void OffsetBook::Release(const kafka::TopicPartition& key) { parts_.erase(key); }

bool OffsetBook::Accept(const kafka::TopicPartition& key, int64_t offset) {
  auto it = parts_.find(key);
  if (it == parts_.end() || offset < 0) return false;
  State& s = it->second;
  std::optional<int64_t> position = s.pending ? s.pending : s.stored;
  if (position && offset < *position) return false;
  s.pending = offset + 1;
  return true;
}

std::vector<OffsetUpdate> OffsetBook::PendingUpdates() const {
  std::vector<OffsetUpdate> out;
  for (const auto& [key, s] : parts_) {
    if (s.pending) out.push_back({key, s.stored, *s.pending});
  }
  return out;
}

bool OffsetBook::HasPending() const {
  for (const auto& [key, s] : parts_) {
    if (s.pending) return true;
  }
  return false;
}

void OffsetBook::CommitPending() {
  for (auto& [key, s] : parts_) {
    if (s.pending) s.stored = s.pending;
    s.pending.reset();
  }
}

void OffsetBook::AbandonPending() {
  for (auto& [key, s] : parts_) s.pending.reset();
}

std::vector<kafka::TopicPartitionOffset> OffsetBook::SeekPositions() const {
  std::vector<kafka::TopicPartitionOffset> out;
  out.reserve(parts_.size());
  for (const auto& [key, s] : parts_) {
    out.push_back({key.topic, key.partition, s.stored ? *s.stored : kafka::kOffsetBeginning});
  }
  return out;
}

std::vector<kafka::TopicPartition> OffsetBook::Owned() const {
  std::vector<kafka::TopicPartition> out;
  out.reserve(parts_.size());
  for (const auto& [key, s] : parts_) out.push_back(key);
  return out;
}

std::optional<int64_t> OffsetBook::Position(const kafka::TopicPartition& key) const {
  auto it = parts_.find(key);
  if (it == parts_.end()) return std::nullopt;
  return it->second.pending ? it->second.pending : it->second.stored;
}

}  // namespace pinpipe::stream
