// BatchTables: the batch layer's tables in PostgreSQL and the SQL that loads a day into them.
//
// Everything lives in the schema `batch` (of database pinterest_streaming by default), so the
// batch tables keep the transform's table names (batch.experimental_data,
// batch.geolocation_data_clean, batch.user_data_clean) and share the database with the speed
// layer's tables of the same names (schema public) without clashing; the serving views
// (src/serving/) merge the two:
//   * one table per kind: the transform's columns plus `dt date NOT NULL` (the archive day),
//     PARTITION BY LIST (dt), one partition per day named <table>_dYYYYMMDD, and
//     UNIQUE (dt, <dedup column>) (the speed layer's UNIQUE, per day);
//   * batch.quality: one row per day and kind (counts, the QualityStats JSON, sealed or not).
//
// A day is replaced atomically (PgDayLoader): its rows are COPYed into a fresh table
// batch.<table>_load_YYYYMMDD created with CHECK (dt = D) and DEFAULT D, then in the same
// transaction the old partition is dropped, the new table renamed and ATTACHed FOR VALUES IN
// (D); the CHECK lets PostgreSQL skip the validation scan. Readers see the old day or the new
// day, never a mix, and a re-run or backfill simply replaces the day.
// Immutable after Create(); thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/record_schema.h"
#include "core/status.h"
#include "pg/connection.h"
#include "transform/transform.h"

namespace pinpipe::batch {

// The statement that serialises DDL on the batch schema (its tables here, the analytics views
// and functions in analytics_sql.h) across sessions: concurrent first runs would otherwise
// collide on the catalog's unique indexes or interleave view DDL ("tuple concurrently
// updated"). One key for all of it.
inline constexpr const char* kBatchDdlLockSql = "SELECT pg_advisory_xact_lock(7365656402)";

class BatchTables {
 public:
  static constexpr const char* kSchema = "batch";

  // Errors: InvalidArgument when a transform table has a column named `dt` or a name too long
  // for the partition names (PostgreSQL identifiers have at most 63 bytes).
  static StatusOr<BatchTables> Create(std::shared_ptr<const transform::Transform> transform);

  // CREATE SCHEMA / TABLE IF NOT EXISTS for every table.
  std::string SetupSql() const;
  // Runs SetupSql() (serialised by an advisory lock, so concurrent first runs do not collide)
  // and checks that existing tables have the transform's columns. Errors: FailedPrecondition
  // naming the table and both column lists when they differ (e.g. after a transform change);
  // the connection's errors.
  Status Ensure(pg::Connection& conn) const;

  // "batch"."experimental_data"
  std::string Parent(core::RecordKind kind) const;
  // Unqualified names of the day's partition and staging table.
  std::string PartitionName(core::RecordKind kind, int64_t day) const;
  std::string StagingName(core::RecordKind kind, int64_t day) const;
  // CREATE TABLE of the staging table (columns, dt DEFAULT D, CHECK (dt = D)).
  std::string StagingSql(core::RecordKind kind, int64_t day) const;
  // COPY into the staging table of the transform's columns (dt comes from the DEFAULT).
  std::string CopySql(core::RecordKind kind, int64_t day) const;
  // Drops the old partition, renames the staging table, attaches it, drops the CHECK, and
  // ANALYZEs the new partition (cheap: one day).
  std::string SwapSql(core::RecordKind kind, int64_t day) const;
  // ANALYZE of the three partitioned tables. PostgreSQL's autovacuum never analyzes a
  // partitioned table itself, and without its statistics the planner guesses 200 distinct values
  // for any column: the views' DISTINCT ON and joins then get nested loops that take minutes on
  // 100,000 rows. It samples every partition, so it runs once per `pinpipe batch` run (and by
  // --views-only), not per day.
  std::string AnalyzeSql() const;

  const transform::Transform& transform() const { return *transform_; }
  const std::shared_ptr<const transform::Transform>& transform_ptr() const { return transform_; }

 private:
  explicit BatchTables(std::shared_ptr<const transform::Transform> transform)
      : transform_(std::move(transform)) {}
  std::string ColumnsSql(core::RecordKind kind) const;

  std::shared_ptr<const transform::Transform> transform_;
};

// "integer", "double precision[]", ...: the PostgreSQL type of a transform column.
std::string_view SqlTypeName(transform::ColumnType type);

}  // namespace pinpipe::batch
