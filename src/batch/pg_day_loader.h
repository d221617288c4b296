// PgDayLoader: one day of the batch tables replaced in ONE PostgreSQL transaction.
//
//   Begin():      BEGIN; wait for the day's advisory lock (one loader per day at a time)
//   StartTable(): CREATE TABLE batch.<table>_load_YYYYMMDD (..., CHECK (dt = D)) and a COPY
//                 into it (pg::CopyIn with a background sender), once per kind
//   Commit():     a global advisory lock (swaps of different days never deadlock), then per
//                 kind DROP the old partition, RENAME the staging table, ATTACH it (no scan,
//                 thanks to the CHECK); replace the day's batch.quality rows; COMMIT
//
// Until COMMIT nobody sees anything of the new day, and a failure anywhere (or a crash: the
// server rolls back a dead session's transaction) leaves the old day exactly as it was, with no
// staging table behind. The parent tables are only locked by the short swap at the end, so
// readers of the views wait at most for that, not for the load.
// The connection is borrowed and must outlive the loader. Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "batch/batch_tables.h"
#include "core/status.h"
#include "pg/connection.h"
#include "pg/copy_in.h"
#include "pg/transaction.h"

namespace pinpipe::batch {

// One batch.quality row.
struct QualityRow {
  core::RecordKind kind = core::RecordKind::kPin;
  bool sealed = false;
  int64_t objects = 0;
  int64_t input_bytes = 0;
  int64_t records = 0;
  int64_t rows = 0;
  int64_t dropped = 0;
  int64_t dead = 0;
  int64_t duplicates = 0;
  std::string quality_json;
};

class PgDayLoader {
 public:
  // Starts the transaction and takes the day's lock; `on_wait` is called once if another
  // loader holds it (so the caller can say why it waits). Errors: the connection's.
  static StatusOr<std::unique_ptr<PgDayLoader>> Begin(pg::Connection* conn,
                                                      const BatchTables* tables, int64_t day,
                                                      const std::function<void()>& on_wait);
  // Rolls back unless Commit() succeeded.
  ~PgDayLoader();

  // Creates the kind's staging table and starts the COPY into it, sent by a background thread
  // (up to kCopyQueue full buffers wait for it). The loader's connection is the CopyIn's until
  // its Finish() or destruction. Errors: the connection's.
  StatusOr<pg::CopyIn> StartTable(core::RecordKind kind);
  static constexpr size_t kCopyQueue = 4;
  // Swaps every kind's table in (StartTable() must have run for each), writes `quality` and
  // commits. Errors: the connection's; FailedPrecondition when the server rolled back.
  Status Commit(const std::vector<QualityRow>& quality);

 private:
  PgDayLoader(pg::Connection* conn, const BatchTables* tables, int64_t day, pg::Transaction tx)
      : conn_(conn), tables_(tables), day_(day), tx_(std::move(tx)) {}

  pg::Connection* conn_;
  const BatchTables* tables_;
  int64_t day_;
  pg::Transaction tx_;
  std::vector<core::RecordKind> started_;
};

}  // namespace pinpipe::batch
