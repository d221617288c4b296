#include "batch/batch_tables.h"

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "pg/transaction.h"

namespace pinpipe::batch {
namespace {

// "20240101" for the day.
std::string Compact(int64_t day) {
  std::string date = core::DateOfDay(day);
  std::erase(date, '-');
  return date;
}

std::string Quoted(int64_t day) { return "'" + core::DateOfDay(day) + "'"; }

std::string Q(std::string_view name) { return pg::QuoteIdentifier(name); }

// format_type()'s spelling, for comparing with an existing table.
std::string_view CatalogTypeName(transform::ColumnType type) {
  return type == transform::ColumnType::kTimestamp ? "timestamp without time zone"
                                                   : SqlTypeName(type);
}

}  // namespace

std::string_view SqlTypeName(transform::ColumnType type) {
  switch (type) {
    case transform::ColumnType::kInteger: return "integer";
    case transform::ColumnType::kBigint: return "bigint";
    case transform::ColumnType::kDouble: return "double precision";
    case transform::ColumnType::kText: return "text";
    case transform::ColumnType::kBoolean: return "boolean";
    case transform::ColumnType::kTimestamp: return "timestamp";
    case transform::ColumnType::kDoubleArray: return "double precision[]";
  }
  return "text";
}

StatusOr<BatchTables> BatchTables::Create(std::shared_ptr<const transform::Transform> transform) {
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& def = transform->table(kind);
    // The longest derived name is <table>_load_YYYYMMDD (14 more bytes).
    if (def.table.size() + 14 > 63) {
      return InvalidArgument(fmt::format(
          "table name '{}' is too long for the batch layer's partition names (at most 49 "
          "bytes)",
          def.table));
    }
    for (const transform::ColumnDef& c : def.columns) {
      if (c.name == "dt") {
        return InvalidArgument(fmt::format(
            "table '{}' has a column named 'dt', which the batch tables use for the day; rename "
            "it in the transform file",
            def.table));
      }
    }
  }
  return BatchTables(std::move(transform));
}

std::string BatchTables::Parent(core::RecordKind kind) const {
  return fmt::format("{}.{}", Q(kSchema), Q(transform_->table(kind).table));
}

std::string BatchTables::PartitionName(core::RecordKind kind, int64_t day) const {
  return fmt::format("{}_d{}", transform_->table(kind).table, Compact(day));
}

std::string BatchTables::StagingName(core::RecordKind kind, int64_t day) const {
  return fmt::format("{}_load_{}", transform_->table(kind).table, Compact(day));
}

std::string BatchTables::ColumnsSql(core::RecordKind kind) const {
  std::string out;
  const transform::TableDef& def = transform_->table(kind);
  for (size_t i = 0; i < def.columns.size(); ++i) {
    const transform::ColumnDef& c = def.columns[i];
    out += fmt::format("  {} {}{},\n", Q(c.name), SqlTypeName(c.type),
                       def.dedup_column == i ? transform::DedupColumnSuffix(c.type) : "");
  }
  return out;
}

std::string BatchTables::SetupSql() const {
  std::string sql = fmt::format("CREATE SCHEMA IF NOT EXISTS {};\n", Q(kSchema));
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& def = transform_->table(kind);
    std::string unique;
    if (def.dedup_column) {
      unique = fmt::format(",\n  UNIQUE (dt, {})", Q(def.columns[*def.dedup_column].name));
    }
    sql += fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (\n{}  dt date NOT NULL{}\n) PARTITION BY LIST (dt);\n",
        Parent(kind), ColumnsSql(kind), unique);
  }
  sql += fmt::format(R"sql(CREATE TABLE IF NOT EXISTS {}.quality (
  dt date NOT NULL,
  kind text NOT NULL,
  table_name text NOT NULL,
  sealed boolean NOT NULL,
  objects integer NOT NULL,
  input_bytes bigint NOT NULL,
  records bigint NOT NULL,
  rows bigint NOT NULL,
  dropped bigint NOT NULL,
  dead bigint NOT NULL,
  duplicates bigint NOT NULL,
  quality jsonb NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dt, kind));
)sql",
                     Q(kSchema));
  return sql;
}

Status BatchTables::Ensure(pg::Connection& conn) const {
  RETURN_IF_ERROR(conn.Run("SET client_min_messages = warning"));
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kBatchDdlLockSql));
  RETURN_IF_ERROR(conn.Run(SetupSql()));
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const transform::TableDef& def = transform_->table(kind);
    std::string want;
    for (const transform::ColumnDef& c : def.columns) {
      want += fmt::format("{} {}, ", c.name, CatalogTypeName(c.type));
    }
    want += "dt date";
    ASSIGN_OR_RETURN(pg::Result r,
                     conn.ExecParams("SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
                                     "FROM pg_attribute a WHERE a.attrelid = $1::regclass "
                                     "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                                     {Parent(kind)}));
    std::string have;
    for (int i = 0; i < r.rows(); ++i) {
      if (i > 0) have += ", ";
      have += fmt::format("{} {}", r.GetValue(i, 0), r.GetValue(i, 1));
    }
    if (have != want) {
      return FailedPrecondition(fmt::format(
          "{} has the columns ({}) but the transform defines ({}); the batch tables were made by "
          "another transform: drop the table (DROP TABLE {} CASCADE) to reload every day, or "
          "use another database",
          Parent(kind), have, want, Parent(kind)));
    }
  }
  return tx.Commit();
}

std::string BatchTables::StagingSql(core::RecordKind kind, int64_t day) const {
  return fmt::format(
      "CREATE TABLE {}.{} (\n{}  dt date NOT NULL DEFAULT {} CONSTRAINT {} CHECK (dt = {})\n)",
      Q(kSchema), Q(StagingName(kind, day)), ColumnsSql(kind), Quoted(day),
      Q(StagingName(kind, day) + "_dt"), Quoted(day));
}

std::string BatchTables::CopySql(core::RecordKind kind, int64_t day) const {
  std::string columns;
  for (const transform::ColumnDef& c : transform_->table(kind).columns) {
    if (!columns.empty()) columns += ", ";
    columns += Q(c.name);
  }
  return fmt::format("COPY {}.{} ({}) FROM STDIN", Q(kSchema), Q(StagingName(kind, day)), columns);
}

std::string BatchTables::AnalyzeSql() const {
  return fmt::format("ANALYZE {}, {}, {}", Parent(core::RecordKind::kPin),
                     Parent(core::RecordKind::kGeo), Parent(core::RecordKind::kUser));
}

std::string BatchTables::SwapSql(core::RecordKind kind, int64_t day) const {
  const std::string partition = Q(PartitionName(kind, day));
  const std::string staging = Q(StagingName(kind, day));
  const std::string schema = Q(kSchema);
  // DROP of a partition detaches it too. ATTACH finds the CHECK constraint implies the bound
  // (dt is NOT NULL and = D), so it does not scan the rows; it builds the UNIQUE index's
  // partition (one sort of the day). The CHECK is redundant afterwards.
  return fmt::format(
      "DROP TABLE IF EXISTS {schema}.{partition};\n"
      "ALTER TABLE {schema}.{staging} RENAME TO {partition};\n"
      "ALTER TABLE {parent} ATTACH PARTITION {schema}.{partition} FOR VALUES IN ({day});\n"
      "ALTER TABLE {schema}.{partition} DROP CONSTRAINT {check};\n"
      "ANALYZE {schema}.{partition};\n",
      fmt::arg("schema", schema), fmt::arg("partition", partition), fmt::arg("staging", staging),
      fmt::arg("parent", Parent(kind)), fmt::arg("day", Quoted(day)),
      fmt::arg("check", Q(StagingName(kind, day) + "_dt")));
}

}  // namespace pinpipe::batch
