// CleanChunk: a run of consecutive records of one archive object after the transform, as a
// worker (ObjectCleaner) hands it to the committer (DayCommitter) through the ReorderBuffer.
//
// Rows are already formatted in every output form the day needs (CSV line, JSON line, COPY
// line), so the single committer thread only de-duplicates and copies bytes. Row i's text in a
// form is [end of row i-1, end of row i) of that form's buffer. A value type; moved between
// threads, never shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "batch/dedup_set.h"
#include "core/status.h"
#include "transform/transform.h"

namespace pinpipe::batch {

struct ChunkRow {
  uint32_t csv_end = 0;
  uint32_t json_end = 0;
  uint32_t copy_end = 0;
  uint32_t key_text_end = 0;  // kText keys live in CleanChunk::key_text
  DedupKeyType key_type = DedupKeyType::kNone;
  uint64_t key_hi = 0;
  uint64_t key_lo = 0;
};

struct CleanChunk {
  size_t object = 0;  // index of the object in the day's sorted list
  bool last = false;  // the object's last chunk
  Status error;       // set (on a last chunk) when the object could not be read

  std::string csv;
  std::string json;
  std::string copy;
  std::string key_text;
  std::vector<ChunkRow> rows;
  std::string rejected;  // dead letters, one JSON object per line, in record order

  int64_t records = 0;       // lines read (every outcome)
  int64_t dropped = 0;       // removed by a row rule (drop_if_null)
  int64_t dead = 0;          // invalid records (in `rejected`)
  int64_t duplicates = 0;    // rows known to be duplicates already (DuplicateHints), not in rows
  uint64_t input_bytes = 0;  // compressed bytes of the object this chunk accounts for
  transform::QualityStats quality;  // the object's counters, on its last chunk only

  size_t ByteSize() const {
    return csv.size() + json.size() + copy.size() + key_text.size() + rejected.size() +
           rows.size() * sizeof(ChunkRow);
  }

  // Row i's key and texts.
  DedupKey KeyOf(size_t i) const {
    const ChunkRow& r = rows[i];
    DedupKey key;
    key.type = r.key_type;
    key.hi = r.key_hi;
    key.lo = r.key_lo;
    if (r.key_type == DedupKeyType::kText) {
      const uint32_t begin = i == 0 ? 0 : rows[i - 1].key_text_end;
      key.text = std::string_view(key_text).substr(begin, r.key_text_end - begin);
    }
    return key;
  }
  std::string_view CsvOf(size_t i) const { return Slice(csv, i, &ChunkRow::csv_end); }
  std::string_view JsonOf(size_t i) const { return Slice(json, i, &ChunkRow::json_end); }
  std::string_view CopyOf(size_t i) const { return Slice(copy, i, &ChunkRow::copy_end); }

 private:
  std::string_view Slice(const std::string& text, size_t i, uint32_t ChunkRow::*end) const {
    const uint32_t begin = i == 0 ? 0 : rows[i - 1].*end;
    return std::string_view(text).substr(begin, rows[i].*end - begin);
  }
};

}  // namespace pinpipe::batch
