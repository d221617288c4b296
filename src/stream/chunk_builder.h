// ChunkBuilder: turns consumed Kafka records into the COPY payloads of one chunk.
//
// Each record is transformed as it arrives (so the raw bytes need not be kept) and becomes one
// of: a COPY text line for its kind's table (the transform's columns plus the row's lineage:
// kafka_ts, the record's Kafka CreateTime, so "acknowledged -> visible" latency can be measured
// in SQL; dt, the UTC day of the record's event time by the archiver's rule
// (core::EventTimeExtractor on the raw value and the Kafka timestamp), so a row is on the day
// the batch layer files its record under; kafka_partition and kafka_offset); nothing, when a
// row rule dropped it (counted, not dead-lettered); a duplicate of a row already in this chunk
// by the table's dedup column (counted; cross-chunk duplicates are removed by PostgreSQL); or a
// dead letter (raw bytes, topic, partition, offset, reason) when it is not valid JSON or not
// the schema. Take() hands the chunk over and starts a new one. Not thread-safe (one per worker).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/event_time.h"
#include "core/record_schema.h"
#include "kafka/topic_partition.h"
#include "stream/offset_book.h"
#include "transform/transform.h"

namespace pinpipe::stream {

inline constexpr size_t kKinds = 3;

// The columns every speed-layer row has after the transform's, in COPY order.
inline constexpr std::string_view kLineageColumns = "kafka_ts, dt, kafka_partition, kafka_offset";

// Where a row came from: its Kafka partition and offset (the topic is the table's).
struct RowOrigin {
  int32_t partition = -1;
  int64_t offset = -1;
};

struct PreparedTable {
  std::string copy_data;  // COPY text lines: transform columns, then kLineageColumns
  int64_t rows = 0;
  std::string topic;               // the topic its records came from
  std::vector<RowOrigin> origins;  // one per line of copy_data, in order
};

struct PreparedChunk {
  std::array<PreparedTable, kKinds> tables;  // indexed by RecordKind
  std::string dead_letters;  // COPY text lines: topic, partition, kafka_offset, raw, reason
  int64_t records = 0;       // records consumed (all outcomes)
  int64_t rows = 0;          // rows in `tables`
  int64_t dropped = 0;       // removed by row rules (drop_if_null)
  int64_t dead = 0;          // dead letters
  int64_t dedup_in_chunk = 0;
  transform::QualityStats quality;
  std::vector<OffsetUpdate> offsets;  // filled by the worker from its OffsetBook
};

class ChunkBuilder {
 public:
  explicit ChunkBuilder(std::shared_ptr<const transform::Transform> transform,
                        core::EventTimePolicy event_time = {});

  // Transforms one record of `kind` and adds its outcome to the chunk in progress.
  void Add(core::RecordKind kind, std::string_view topic, kafka::Partition partition,
           kafka::Offset offset, std::string_view value, int64_t timestamp_ms);

  // The chunk in progress; the builder starts empty again.
  PreparedChunk Take();
  // Forgets the chunk in progress.
  void Discard();
  int64_t records() const { return chunk_.records; }

  const transform::Transform& transform() const { return *transform_; }

 private:
  std::shared_ptr<const transform::Transform> transform_;
  transform::Transform::Scratch scratch_;
  transform::QualityTally tally_;  // the current chunk's rule counts, folded into it by Take()
  transform::Row row_;
  std::string reason_;
  std::vector<core::FieldError> errors_;
  std::string line_;
  PreparedChunk chunk_;
  std::array<std::unordered_set<std::string>, kKinds> seen_;  // dedup keys in this chunk
  int64_t ts_second_ = INT64_MIN;  // cache of the formatted second for kafka_ts
  std::string ts_prefix_;
  core::EventTimeExtractor event_time_;
  int64_t dt_day_ = INT64_MIN;  // cache of the formatted day for dt
  std::string dt_text_;
};

// Appends a Kafka timestamp (ms since the epoch) as a timestamptz COPY field, "\N" if < 0.
void AppendTimestampField(int64_t timestamp_ms, std::string* out);
// Appends `bytes` as a bytea COPY field in hex format ("\\x4142").
void AppendByteaField(std::string_view bytes, std::string* out);

}  // namespace pinpipe::stream
