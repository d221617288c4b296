// CleanPartsWriter: one table's cleaned day in the lake, as numbered parts in two forms:
//
//   clean/<table>/dt=YYYY-MM-DD/part-00000.csv     header row, then one row per line
//   clean/<table>/dt=YYYY-MM-DD/part-00000.jsonl   one JSON object per line
//   clean/<table>/dt=YYYY-MM-DD/_SUCCESS           empty; written by Seal() once the day is
//                                                  committed (PostgreSQL included)
//
// The forms are the transform's row writers (transform/transform.h): CSV is RFC 4180 (fields
// quoted when they hold a comma, quote, CR or LF, quotes doubled, lines end in "\n"), NULL is
// an empty unquoted field and the empty string is `""`; JSONL has NULL as null, arrays as JSON
// arrays, timestamps as "YYYY-MM-DD HH:MM:SS[.ffffff]" strings (UTC). The day is in the path
// (Hive style), not a column. Parts roll together at a row boundary once either form's part
// reaches `part_bytes`, so part n of both forms holds the same rows; names and bytes depend only
// on the rows, so a re-run rewrites the same objects. Parts an earlier run wrote beyond this
// run's last one are deleted by Finish().
//
// Consistency: Begin() deletes the day's _SUCCESS first, so a reader that honours the marker
// never sees a half-written day; a failed run leaves no marker (Abandon() also deletes the
// parts).
// Not thread-safe (the committer thread owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"
#include "transform/transform.h"

namespace pinpipe::batch {

struct PartsOptions {
  std::string prefix = "clean/";  // root of the cleaned output in the lake
  bool csv = true;
  bool json = true;
  uint64_t part_bytes = 256ULL << 20;
  size_t flush_bytes = 1 << 20;  // Append() to the store in pieces of about this size
};

class CleanPartsWriter {
 public:
  // `store` and `table` must outlive the writer.
  CleanPartsWriter(lake::ObjectStore* store, const transform::TableDef& table, int64_t day,
                   PartsOptions options);
  ~CleanPartsWriter();

  // Deletes the day's _SUCCESS and opens part 0 (whose CSV starts with the header). Errors: the
  // store's.
  Status Begin();
  // Appends one row (its CSV and JSON lines, each ending in '\n').
  Status AddRow(std::string_view csv_line, std::string_view json_line);
  // Closes the last part and deletes stale parts. Errors: the store's.
  Status Finish();
  // Writes _SUCCESS. Errors: the store's.
  Status Seal();
  // Best effort after a failure: drops the open part and deletes every object of the day.
  void Abandon();

  // "clean/<table>/dt=YYYY-MM-DD/"
  const std::string& day_prefix() const { return day_prefix_; }
  int parts() const { return part_ + (open_ ? 1 : 0); }
  const std::vector<std::string>& written() const { return written_; }

 private:
  Status OpenPart();
  Status ClosePart();
  Status Flush(bool force);

  lake::ObjectStore* store_;
  const transform::TableDef& table_;
  PartsOptions options_;
  std::string day_prefix_;
  std::string header_;
  int part_ = 0;  // parts closed so far
  bool open_ = false;
  std::unique_ptr<lake::ObjectWriter> csv_writer_;
  std::unique_ptr<lake::ObjectWriter> json_writer_;
  std::string csv_buf_;
  std::string json_buf_;
  uint64_t csv_part_bytes_ = 0;
  uint64_t json_part_bytes_ = 0;
  std::vector<std::string> written_;  // keys committed by this run
};

}  // namespace pinpipe::batch
