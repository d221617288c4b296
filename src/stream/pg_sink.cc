#include "stream/pg_sink.h"

#include <fmt/format.h>

#include "pg/copy_in.h"
#include "pg/transaction.h"

namespace pinpipe::stream {
namespace {

// A failed statement blames one row's value: data exception (22xxx) or integrity constraint
// (23xxx; a 23505 from the dedup path never gets here, WriteTable handles it).
bool IsRowRejection(const std::string& sqlstate) {
  return sqlstate.size() == 5 && (sqlstate.starts_with("22") || sqlstate.starts_with("23"));
}

std::vector<size_t> LineStarts(std::string_view data) {
  // COPY text escapes newlines inside values, so every raw '\n' ends a row.
  std::vector<size_t> starts{0};
  for (size_t at = data.find('\n'); at != std::string_view::npos; at = data.find('\n', at + 1)) {
    starts.push_back(at + 1);
  }
  if (starts.back() != data.size()) starts.push_back(data.size());
  return starts;  // line i is [starts[i], starts[i+1])
}

constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7365656401)";

std::string StageName(core::RecordKind kind) {
  return fmt::format("pinpipe_stage_{}", core::RecordKindName(kind));
}

std::string ColumnList(const transform::TableDef& table) {
  std::string cols;
  for (const transform::ColumnDef& c : table.columns) {
    cols += pg::QuoteIdentifier(c.name);
    cols += ", ";
  }
  cols += kLineageColumns;
  return cols;
}

}  // namespace

std::string StreamTablesSql() {
  return R"sql(
CREATE TABLE IF NOT EXISTS pinpipe_stream_offsets (
  consumer_group text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition));
CREATE TABLE IF NOT EXISTS pinpipe_dead_letters (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  topic text NOT NULL,
  partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  raw bytea NOT NULL,
  reason text NOT NULL);
-- Columns added later are added only when missing: ALTER TABLE takes an exclusive lock even when
-- IF NOT EXISTS finds nothing to do (`pinpipe serving ensure` runs this beside a live stream).
-- stage: 'validate' = not JSON or not the schema (raw holds the Kafka value); 'load' = refused
-- by PostgreSQL (raw holds the cleaned row as COPY text; the original is at topic/offset).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'pinpipe_dead_letters'::regclass
                 AND attname = 'stage' AND NOT attisdropped) THEN
    ALTER TABLE pinpipe_dead_letters ADD COLUMN stage text NOT NULL DEFAULT 'validate';
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS pinpipe_stream_batches (
  id bigserial PRIMARY KEY,
  finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  consumer_group text NOT NULL,
  records bigint NOT NULL,
  rows bigint NOT NULL,
  dropped bigint NOT NULL,
  dead bigint NOT NULL,
  dedup bigint NOT NULL,
  duration_ms double precision NOT NULL,
  quality jsonb NOT NULL);
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'pinpipe_stream_batches'::regclass
                 AND attname = 'rejected' AND NOT attisdropped) THEN
    ALTER TABLE pinpipe_stream_batches ADD COLUMN rejected bigint NOT NULL DEFAULT 0;
  END IF;
END $$;
)sql";
}

PgSink::PgSink(pg::Connection conn, std::string group,
               std::shared_ptr<const transform::Transform> t, DedupMode mode)
    : conn_(std::move(conn)), group_(std::move(group)), transform_(std::move(t)), mode_(mode) {
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& table = transform_->table(kind);
    const size_t k = static_cast<size_t>(kind);
    copy_sql_[k] =
        fmt::format("COPY {} ({}) FROM STDIN", pg::QuoteIdentifier(table.table), ColumnList(table));
    stage_copy_[k] = fmt::format("COPY {} ({}) FROM STDIN", StageName(kind), ColumnList(table));
  }
}

StatusOr<std::unique_ptr<PgSink>> PgSink::Open(const std::string& dsn, std::string group,
                                               std::shared_ptr<const transform::Transform> t,
                                               DedupMode mode) {
  ASSIGN_OR_RETURN(pg::Connection conn, pg::OpenCreatingDatabase(dsn));
  // IF NOT EXISTS notices on every start are noise in the worker's log.
  RETURN_IF_ERROR(conn.Run("SET client_min_messages = warning"));
  // Commit without waiting for the WAL flush is NOT used: a committed offset must survive a
  // server crash together with its rows, or the stream would skip them.
  return std::unique_ptr<PgSink>(new PgSink(std::move(conn), std::move(group), std::move(t), mode));
}

Status PgSink::EnsureSchema() { return EnsureSpeedTables(conn_, *transform_); }

Status EnsureSpeedTables(pg::Connection& conn, const transform::Transform& transform) {
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& table = transform.table(kind);
    for (const transform::ColumnDef& c : table.columns) {
      for (std::string_view lineage :
           {"kafka_ts", "loaded_at", "dt", "kafka_partition", "kafka_offset"}) {
        if (c.name == lineage) {
          return InvalidArgument(fmt::format(
              "table '{}' has a column named '{}', which the speed layer adds to every row; "
              "rename it in the transform file",
              table.table, c.name));
        }
      }
    }
  }
  RETURN_IF_ERROR(conn.Run("SET client_min_messages = warning"));
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kSchemaLock));
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& table = transform.table(kind);
    const std::string name = pg::QuoteIdentifier(table.table);
    const std::string brin = table.table + "_kafka_offset_brin";
    RETURN_IF_ERROR(conn.Run(transform.CreateTableSql(kind)));
    // Only what is missing is added: ALTER TABLE takes an exclusive lock even when IF NOT EXISTS
    // finds nothing to do, and waiting for it (behind a long read) would stall every writer.
    ASSIGN_OR_RETURN(pg::Result have,
                     conn.ExecParams("SELECT string_agg(attname, ',') FROM pg_attribute WHERE "
                                     "attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                                     {name}));
    const std::string columns = "," + std::string(have.GetValue(0, 0)) + ",";
    auto missing = [&](std::string_view column) {
      return columns.find(fmt::format(",{},", column)) == std::string::npos;
    };
    std::string alter;
    for (const auto& [column, type] :
         {std::pair<const char*, const char*>{"kafka_ts", "timestamptz"},
          {"loaded_at", "timestamptz DEFAULT now()"},
          {"dt", "date"},
          {"kafka_partition", "integer"},
          {"kafka_offset", "bigint"}}) {
      if (missing(column)) {
        alter += fmt::format("{}ADD COLUMN {} {}", alter.empty() ? "" : ", ", column, type);
      }
    }
    if (!alter.empty()) {
      RETURN_IF_ERROR(conn.Run(fmt::format("ALTER TABLE {} {}", name, alter)));
    }
    if (missing("dt")) {
      // A table of an earlier version: its rows' dt is the UTC day of kafka_ts (the event day
      // of pins and of most geo and user rows; see docs/design.md "Serving layer").
      RETURN_IF_ERROR(conn.Run(fmt::format(
          "UPDATE {0} SET dt = coalesce((kafka_ts AT TIME ZONE 'UTC')::date, DATE '1970-01-01');\n"
          "ALTER TABLE {0} ALTER COLUMN dt SET NOT NULL",
          name)));
    }
    ASSIGN_OR_RETURN(pg::Result has_brin,
                     conn.ExecParams("SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = 'i' "
                                     "AND relnamespace = (SELECT relnamespace FROM pg_class "
                                     "WHERE oid = $2::regclass)",
                                     {brin, name}));
    if (has_brin.rows() == 0) {
      // The cursor of readers that take new rows once (kafka_offset grows with insertion order,
      // so block ranges summarise it well); a BRIN index costs next to nothing per insert.
      RETURN_IF_ERROR(
          conn.Run(fmt::format("CREATE INDEX IF NOT EXISTS {} ON {} USING brin (kafka_offset)",
                               pg::QuoteIdentifier(brin), name)));
    }
  }
  RETURN_IF_ERROR(conn.Run(StreamTablesSql()));
  return tx.Commit();
}

StatusOr<std::map<kafka::TopicPartition, int64_t>> PgSink::LoadOffsets() {
  ASSIGN_OR_RETURN(pg::Result r,
                   conn_.ExecParams("SELECT topic, partition, next_offset FROM "
                                    "pinpipe_stream_offsets WHERE consumer_group = $1",
                                    {group_}));
  std::map<kafka::TopicPartition, int64_t> out;
  for (int i = 0; i < r.rows(); ++i) {
    out[{std::string(r.GetValue(i, 0)), std::stoi(std::string(r.GetValue(i, 1)))}] =
        std::stoll(std::string(r.GetValue(i, 2)));
  }
  return out;
}

Status PgSink::CopyRaw(const std::string& sql, std::string_view data, int64_t* rows) {
  // The chunk builder's COPY text goes out from its own buffer (SendLines: no copy).
  ASSIGN_OR_RETURN(pg::CopyIn copy, pg::CopyIn::Start(conn_, sql));
  RETURN_IF_ERROR(copy.SendLines(data));
  ASSIGN_OR_RETURN(int64_t stored, copy.Finish());
  if (rows != nullptr) *rows = stored;
  return Status::Ok();
}

StatusOr<bool> PgSink::ApplyOffsets(const std::vector<OffsetUpdate>& offsets) {
  for (const OffsetUpdate& u : offsets) {
    const std::string partition = std::to_string(u.key.partition);
    const std::string next = std::to_string(u.next);
    StatusOr<pg::Result> r =
        u.expected ? conn_.ExecParams(
                         "UPDATE pinpipe_stream_offsets SET next_offset = $4, updated_at = now() "
                         "WHERE consumer_group = $1 AND topic = $2 AND partition = $3 "
                         "AND next_offset = $5",
                         {group_, u.key.topic, partition, next, std::to_string(*u.expected)})
                   : conn_.ExecParams(
                         "INSERT INTO pinpipe_stream_offsets (consumer_group, topic, partition, "
                         "next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                         {group_, u.key.topic, partition, next});
    if (!r.ok()) return r.status();
    if (r->AffectedRows() != 1) return false;
  }
  return true;
}

Status PgSink::EnsureStaging(core::RecordKind kind) {
  const size_t k = static_cast<size_t>(kind);
  if (staging_ready_[k]) return Status::Ok();
  RETURN_IF_ERROR(conn_.Run(fmt::format(
      "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
      StageName(kind), pg::QuoteIdentifier(transform_->table(kind).table))));
  staging_ready_[k] = true;
  return Status::Ok();
}

StatusOr<int64_t> PgSink::WriteTable(core::RecordKind kind, std::string_view copy_data,
                                     WriteResult* result) {
  const size_t k = static_cast<size_t>(kind);
  const transform::TableDef& def = transform_->table(kind);
  int64_t rows = 0;
  if (!def.dedup_column) {
    RETURN_IF_ERROR(CopyRaw(copy_sql_[k], copy_data, &rows));
    return rows;
  }
  if (mode_ == DedupMode::kDirectFirst) {
    RETURN_IF_ERROR(conn_.Run("SAVEPOINT pinpipe_direct"));
    Status direct = CopyRaw(copy_sql_[k], copy_data, &rows);
    if (direct.ok()) {
      RETURN_IF_ERROR(conn_.Run("RELEASE SAVEPOINT pinpipe_direct"));
      return rows;
    }
    if (direct.code() != StatusCode::kAlreadyExists) return direct;  // 23505 unique_violation
    RETURN_IF_ERROR(conn_.Run("ROLLBACK TO SAVEPOINT pinpipe_direct"));
  }
  // Staging: the TEMP table was created by Write() before the transaction began.
  result->used_staging = true;
  int64_t staged = 0;
  RETURN_IF_ERROR(CopyRaw(stage_copy_[k], copy_data, &staged));
  ASSIGN_OR_RETURN(pg::Result ins,
                   conn_.Exec(fmt::format("INSERT INTO {} SELECT * FROM {} ON CONFLICT DO NOTHING",
                                          pg::QuoteIdentifier(def.table), StageName(kind))));
  rows = ins.AffectedRows();
  result->dedup_stored += staged - rows;
  // ON COMMIT DELETE ROWS empties it at commit; a rollback empties it too.
  return rows;
}

StatusOr<int64_t> PgSink::WriteTableRowSafe(core::RecordKind kind, const PreparedTable& table,
                                            WriteResult* result, std::string* rejected_letters) {
  RETURN_IF_ERROR(conn_.Run("SAVEPOINT pinpipe_rows"));
  StatusOr<int64_t> all = WriteTable(kind, table.copy_data, result);
  if (all.ok() || !IsRowRejection(conn_.last_sqlstate())) {
    if (all.ok()) RETURN_IF_ERROR(conn_.Run("RELEASE SAVEPOINT pinpipe_rows"));
    return all;
  }
  RETURN_IF_ERROR(conn_.Run("ROLLBACK TO SAVEPOINT pinpipe_rows"));
  const std::vector<size_t> starts = LineStarts(table.copy_data);
  if (starts.size() == 2) {
    Reject(table, starts, 0, all.status(), result, rejected_letters);
    return 0;
  }
  return Bisect(kind, table, starts, 0, starts.size() - 1, result, rejected_letters);
}

// Rows [lo, hi) hold at least one row PostgreSQL refuses. Each half is tried under its own
// savepoint: a half that loads is kept, a refused single row is dead-lettered, a refused larger
// half is split again. A chunk with r bad rows of n costs about 2 r log2(n) extra COPYs.
StatusOr<int64_t> PgSink::Bisect(core::RecordKind kind, const PreparedTable& table,
                                 const std::vector<size_t>& starts, size_t lo, size_t hi,
                                 WriteResult* result, std::string* rejected_letters) {
  const size_t mid = lo + (hi - lo) / 2;
  int64_t stored = 0;
  for (auto [a, b] : {std::pair{lo, mid}, std::pair{mid, hi}}) {
    if (a == b) continue;
    const std::string_view part =
        std::string_view(table.copy_data).substr(starts[a], starts[b] - starts[a]);
    RETURN_IF_ERROR(conn_.Run("SAVEPOINT pinpipe_rows"));
    StatusOr<int64_t> n = WriteTable(kind, part, result);
    if (n.ok()) {
      RETURN_IF_ERROR(conn_.Run("RELEASE SAVEPOINT pinpipe_rows"));
      stored += *n;
      continue;
    }
    if (!IsRowRejection(conn_.last_sqlstate())) return n.status();
    RETURN_IF_ERROR(conn_.Run("ROLLBACK TO SAVEPOINT pinpipe_rows"));
    if (b - a == 1) {
      Reject(table, starts, a, n.status(), result, rejected_letters);
    } else {
      ASSIGN_OR_RETURN(int64_t sub, Bisect(kind, table, starts, a, b, result, rejected_letters));
      stored += sub;
    }
  }
  return stored;
}

void PgSink::Reject(const PreparedTable& table, const std::vector<size_t>& starts, size_t line,
                    const Status& why, WriteResult* result, std::string* rejected_letters) {
  std::string_view row =
      std::string_view(table.copy_data).substr(starts[line], starts[line + 1] - starts[line]);
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  const RowOrigin origin = line < table.origins.size() ? table.origins[line] : RowOrigin{};
  std::string reason = "rejected by PostgreSQL: " + why.message();
  std::erase(reason, '\0');
  std::string& out = *rejected_letters;
  pg::AppendCopyField(out, table.topic);
  fmt::format_to(std::back_inserter(out), "\t{}\t{}\t", origin.partition, origin.offset);
  AppendByteaField(row, &out);
  out.push_back('\t');
  pg::AppendCopyField(out, reason);
  out.append("\tload\n");
  if (result->rejected++ == 0) result->first_rejection = reason.substr(0, reason.find('\n'));
}

StatusOr<WriteResult> PgSink::Write(const PreparedChunk& chunk, double duration_ms) {
  WriteResult result;
  // TEMP staging tables are created outside the chunk transaction, so that a rolled-back chunk
  // cannot take them away while staging_ready_ says they exist.
  for (core::RecordKind kind : core::kAllRecordKinds) {
    if (transform_->table(kind).dedup_column && chunk.tables[static_cast<size_t>(kind)].rows > 0) {
      RETURN_IF_ERROR(EnsureStaging(kind));
    }
  }
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn_));
  ASSIGN_OR_RETURN(bool owned, ApplyOffsets(chunk.offsets));
  if (!owned) {
    RETURN_IF_ERROR(tx.Rollback());
    result.conflict = true;
    return result;
  }
  std::string rejected_letters;
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const size_t k = static_cast<size_t>(kind);
    if (chunk.tables[k].rows == 0) continue;
    ASSIGN_OR_RETURN(result.inserted[k],
                     WriteTableRowSafe(kind, chunk.tables[k], &result, &rejected_letters));
  }
  if (chunk.dead > 0) {
    RETURN_IF_ERROR(CopyRaw(
        "COPY pinpipe_dead_letters (topic, partition, kafka_offset, raw, reason) FROM STDIN",
        chunk.dead_letters, nullptr));
  }
  if (result.rejected > 0) {
    RETURN_IF_ERROR(CopyRaw(
        "COPY pinpipe_dead_letters (topic, partition, kafka_offset, raw, reason, stage) FROM STDIN",
        rejected_letters, nullptr));
  }
  // rows = what the tables got: not the chunk's rows refused by PostgreSQL (dead letters) nor
  // those the staging path's ON CONFLICT DO NOTHING skipped (counted in dedup), so that
  // rows + dropped + dead + dedup + rejected = records.
  int64_t stored = 0;
  for (const int64_t n : result.inserted) stored += n;
  RETURN_IF_ERROR(
      conn_
          .ExecParams(
              "INSERT INTO pinpipe_stream_batches (consumer_group, records, rows, dropped, dead, "
              "dedup, duration_ms, quality, rejected) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
              {group_, std::to_string(chunk.records), std::to_string(stored),
               std::to_string(chunk.dropped), std::to_string(chunk.dead),
               std::to_string(chunk.dedup_in_chunk + result.dedup_stored),
               fmt::format("{:.3f}", duration_ms), chunk.quality.ToJson(),
               std::to_string(result.rejected)})
          .status());
  RETURN_IF_ERROR(tx.Commit());
  return result;
}

}  // namespace pinpipe::stream
