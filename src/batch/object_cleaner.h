// ObjectCleaner: one archive object (zstd or gzip JSONL of raw Kafka values, by the key's
// extension: archive_codec.h) -> CleanChunks.
//
// Each line goes through the shared Transform (transform/transform.h), exactly as the speed
// layer's ChunkBuilder does: kRow rows are formatted as CSV, JSON and COPY lines (whichever the
// day writes) with their dedup key; kDropped lines are counted; kInvalid lines become dead
// letters, one JSON object per line:
//   {"object":"<key>","line":<1-based>,"reason":"<field>: <msg> (<type>); ...","raw":"<line>"}
// ("raw_hex" instead of "raw" when the line is not valid UTF-8, so the file stays JSON).
// De-duplication is not done here: it needs the day's order, which only the committer has.
// Memory: the decompression window (ZstdLineReader) plus one chunk of about `chunk_bytes`.
// Not thread-safe: one cleaner per worker thread, reused for every object.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/clean_chunk.h"
#include "batch/duplicate_hints.h"
#include "batch/zstd_lines.h"
#include "core/record_schema.h"
#include "core/status.h"
#include "transform/transform.h"

namespace pinpipe::batch {

struct CleanerOutputs {
  bool csv = true;
  bool json = true;
  bool copy = true;
  size_t chunk_bytes = 1 << 20;  // a chunk is handed over once its texts reach this size
};

class ObjectCleaner {
 public:
  // Receives each chunk in order; a non-OK answer (the job is stopping) ends Clean() with it.
  using Emit = std::function<Status(CleanChunk&&)>;

  // `hints` (may be null; this worker's own, for the whole day and kind) lets rows that are
  // certainly duplicates skip formatting.
  ObjectCleaner(std::shared_ptr<const transform::Transform> transform, core::RecordKind kind,
                CleanerOutputs outputs, DuplicateHints* hints = nullptr);

  // Cleans every line of `compressed`, the object `key` (number `object` in the day's list),
  // emitting its chunks in order, the last one with `last` set. Errors: the reader's (DataLoss
  // for corrupt or truncated zstd, InvalidArgument for an over-long line) with `key` and the
  // line number in the message; nothing more is emitted for the object after an error.
  Status Clean(std::string_view key, size_t object, std::string_view compressed, const Emit& emit);

 private:
  void AddDeadLetter(std::string_view key, int64_t line, std::string_view raw);
  void StartChunk(size_t object);

  std::shared_ptr<const transform::Transform> transform_;
  core::RecordKind kind_;
  CleanerOutputs outputs_;
  DuplicateHints* hints_;
  const transform::TableDef& table_;
  ZstdLineReader reader_;
  std::string text_;  // a gzip object's decompressed lines
  transform::Transform::Scratch scratch_;
  transform::QualityTally tally_;  // the object's rule counts, folded into its last chunk
  transform::Row row_;
  std::string reason_;
  std::vector<core::FieldError> errors_;
  std::string key_scratch_;
  CleanChunk chunk_;
};

}  // namespace pinpipe::batch
