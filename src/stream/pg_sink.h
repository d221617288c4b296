// PgSink: the speed layer's PostgreSQL side: schema, stored offsets, and the one transaction
// per chunk that makes the stream exactly once.
//
// Write() runs, in one transaction: the offset compare-and-sets first (so a worker that lost a
// partition finds out before copying anything, and the row locks serialise two workers on one
// partition), then one COPY per kind, dead letters, a pinpipe_stream_batches row, COMMIT. Tables
// with a dedup column (pins: unique_id) must not get a row twice even across chunks and
// restarts: by default the rows are COPYed straight into the table inside a SAVEPOINT, and only
// when that hits a unique violation (a duplicate from an earlier chunk, rare) the savepoint is
// rolled back and the rows go through a TEMP staging table with INSERT ... ON CONFLICT DO
// NOTHING. Both paths store each unique key once; the fast one avoids a second copy of every row.
//
// Owns one pg::Connection; not thread-safe. Errors are the pg layer's: Unavailable when the
// connection is lost (the caller reconnects with back-off), others per the SQLSTATE table.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "pg/connection.h"
#include "stream/chunk_builder.h"
#include "stream/offset_book.h"
#include "transform/transform.h"

namespace pinpipe::stream {

enum class DedupMode : uint8_t {
  kDirectFirst,  // COPY into the table under a savepoint; staging only after a conflict
  kStaging,      // always COPY into a TEMP table and INSERT ... ON CONFLICT DO NOTHING
};

struct WriteResult {
  bool conflict = false;                   // an offset CAS missed: nothing was written, re-seek
  std::array<int64_t, kKinds> inserted{};  // rows stored per kind
  int64_t dedup_stored = 0;  // rows not stored because the key was already in the table
  bool used_staging = false;
  // Rows PostgreSQL itself refused (a value its column type or a constraint rejects, SQLSTATE
  // class 22 or 23): each is dead-lettered alone with the server's message, the rest of the
  // chunk is stored. `first_rejection` is one of the messages, for the log.
  int64_t rejected = 0;
  std::string first_rejection;
};

class PgSink {
 public:
  // Connects; creates the database named in `dsn` first when it does not exist.
  // Errors: as pg::Connection::Open.
  static StatusOr<std::unique_ptr<PgSink>> Open(const std::string& dsn, std::string group,
                                                std::shared_ptr<const transform::Transform> t,
                                                DedupMode mode = DedupMode::kDirectFirst);

  // EnsureSpeedTables() on this sink's connection.
  Status EnsureSchema();

  // next_offset of every partition of `topics` stored for the group.
  StatusOr<std::map<kafka::TopicPartition, int64_t>> LoadOffsets();

  // Writes `chunk` and advances its offsets in one transaction (see the class comment).
  // A CAS miss is not an error: result.conflict is set and the transaction rolled back.
  StatusOr<WriteResult> Write(const PreparedChunk& chunk, double duration_ms);

  bool healthy() const { return conn_.healthy(); }
  pg::Connection& connection() { return conn_; }

 private:
  PgSink(pg::Connection conn, std::string group, std::shared_ptr<const transform::Transform> t,
         DedupMode mode);
  Status CopyRaw(const std::string& sql, std::string_view data, int64_t* rows);
  StatusOr<bool> ApplyOffsets(const std::vector<OffsetUpdate>& offsets);
  StatusOr<int64_t> WriteTable(core::RecordKind kind, std::string_view copy_data,
                               WriteResult* result);
  // WriteTable under a savepoint; when PostgreSQL rejects a row, finds the rejected rows by
  // bisection, dead-letters them (into *rejected_letters) and stores the others.
  StatusOr<int64_t> WriteTableRowSafe(core::RecordKind kind, const PreparedTable& table,
                                      WriteResult* result, std::string* rejected_letters);
  StatusOr<int64_t> Bisect(core::RecordKind kind, const PreparedTable& table,
                           const std::vector<size_t>& starts, size_t lo, size_t hi,
                           WriteResult* result, std::string* rejected_letters);
  void Reject(const PreparedTable& table, const std::vector<size_t>& starts, size_t line,
              const Status& why, WriteResult* result, std::string* rejected_letters);
  Status EnsureStaging(core::RecordKind kind);

  pg::Connection conn_;
  std::string group_;
  std::shared_ptr<const transform::Transform> transform_;
  DedupMode mode_;
  std::array<std::string, kKinds> copy_sql_;    // COPY <table> (cols..., kafka_ts) FROM STDIN
  std::array<std::string, kKinds> stage_copy_;  // same into the staging table
  std::array<bool, kKinds> staging_ready_{};    // TEMP tables live per connection
};

// The SQL of the speed layer's own tables (offsets, dead letters, the chunk log
// pinpipe_stream_batches).
std::string StreamTablesSql();

// Creates the speed layer's tables if missing, in schema public of `conn`'s database: one per
// kind (the transform's columns, then kafka_ts, loaded_at, dt, kafka_partition, kafka_offset and
// a BRIN index on kafka_offset; a table of an earlier version gets the missing columns, its rows'
// dt from kafka_ts), the offsets, dead-letter and chunk-log tables. One transaction, serialised
// across workers by an advisory lock. Errors: InvalidArgument when a transform column is named
// like a lineage column; the connection's (e.g. a table with incompatible columns).
Status EnsureSpeedTables(pg::Connection& conn, const transform::Transform& transform);

}  // namespace pinpipe::stream
