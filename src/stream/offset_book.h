// OffsetBook: the worker's view of which partitions it owns and where each one stands.
//
// PostgreSQL is the only source of truth for offsets (table pinpipe_stream_offsets). For every
// owned partition the book keeps `stored` (the next_offset PostgreSQL held when last read or
// last committed by us; nullopt when it has no row yet) and `pending` (the next offset after the
// last record taken into the chunk in progress). A chunk commits with one compare-and-set per
// partition: stored -> pending. If any CAS misses, another worker owns the partition now; the
// chunk is abandoned and the consumer re-seeks to what PostgreSQL says.
//
// Accept() filters records the worker must not write: partitions it does not own, and offsets
// before its position (records fetched before a re-seek). Gaps above the position are accepted,
// as Kafka offsets may skip (transaction markers, compaction). Not thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafka/consumer.h"

namespace pinpipe::stream {

// One compare-and-set of pinpipe_stream_offsets: expected nullopt means "no row yet" (INSERT).
struct OffsetUpdate {
  kafka::TopicPartition key;
  std::optional<int64_t> expected;
  int64_t next = 0;
  friend bool operator==(const OffsetUpdate&, const OffsetUpdate&) = default;
};

class OffsetBook {
 public:
  // Takes ownership of `key` at PostgreSQL's next_offset (nullopt: no row; start at beginning).
  // Replaces any earlier state of the partition, including a pending chunk.
  void Own(const kafka::TopicPartition& key, std::optional<int64_t> stored);
  void Release(const kafka::TopicPartition& key);
  void Clear() { parts_.clear(); }
  bool Owns(const kafka::TopicPartition& key) const { return parts_.count(key) != 0; }

  // True if the record at `offset` belongs in the chunk in progress; advances pending.
  bool Accept(const kafka::TopicPartition& key, int64_t offset);

  // The CAS updates for the chunk in progress (partitions with pending records only).
  std::vector<OffsetUpdate> PendingUpdates() const;
  bool HasPending() const;
  // The chunk committed: stored = pending.
  void CommitPending();
  // The chunk was abandoned: pending forgotten.
  void AbandonPending();

  // Where the consumer must start for every owned partition (stored, or the beginning).
  std::vector<kafka::TopicPartitionOffset> SeekPositions() const;
  // Owned partitions, in key order.
  std::vector<kafka::TopicPartition> Owned() const;
  // Position after the chunk in progress (pending, else stored); nullopt if neither is known.
  std::optional<int64_t> Position(const kafka::TopicPartition& key) const;

 private:
  struct State {
    std::optional<int64_t> stored;
    std::optional<int64_t> pending;
  };
  std::map<kafka::TopicPartition, State> parts_;
};

}  // namespace pinpipe::stream
