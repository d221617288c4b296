// Transform: the one definition of how raw records become clean table rows, shared by the speed
// layer (src/stream) and the batch layer (src/batch). It is built from a declarative TOML file
// (the default is transforms/pinterest.toml, compiled into the binary; users may pass their own)
// so there is no second copy of any cleaning rule anywhere.
//
// Apply() validates a raw record against its kind's schema (core::RecordValidator: the same
// rules as the ingest API) and then runs the column rules in file order. Each record ends as:
//   * kRow      - `row` holds one cell per output column, in table column order;
//   * kDropped  - a row-level rule removed it (e.g. drop_if_null follower_count), `reason` says;
//   * kInvalid  - not valid JSON or not the schema: `errors` say why (the speed layer
//                 dead-letters it with its raw bytes).
// Every rule counts, per column, how many values it changed and how many it turned NULL
// (QualityStats), so data quality can be exported and recorded per chunk of the speed layer.
//
// Thread-safety: a Transform is immutable after construction and may be shared by threads;
// Apply() needs a per-thread Scratch (it owns a validator/parser).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/record_schema.h"
#include "core/record_validator.h"
#include "core/status.h"

namespace pinpipe::transform {

enum class ColumnType : uint8_t {
  kInteger,      // PostgreSQL integer (int4)
  kBigint,       // bigint
  kDouble,       // double precision
  kText,         // text
  kBoolean,      // boolean
  kTimestamp,    // timestamp without time zone (UTC), microsecond precision
  kDoubleArray,  // double precision[] (e.g. geo coordinates)
};

// A timestamp as microseconds since the Unix epoch, UTC.
struct Timestamp {
  int64_t micros = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// One cell: NULL (monostate) or a value of the column's type.
using Cell = std::variant<std::monostate, int64_t, double, std::string, bool, Timestamp,
                          std::vector<double>>;

// Reuse one Row across Apply() calls: cells that keep their alternative (a text column stays
// text) keep their heap capacity, so the steady state does not allocate.
struct Row {
  std::vector<Cell> cells;  // one per output column, in table column order
};

struct ColumnDef {
  std::string name;
  ColumnType type;
};

// A read-only description of one compiled column, for code that turns the rules into another
// language (src/spark/spark_export.h): everything Apply() does to the column, as data. The
// rules run in this order: uuid fields lowered (not a rule), trim (per part for concat),
// null_if, strip_prefix, then parse (count_suffix) or the cast to `type`.
struct ColumnRules {
  enum class Source : uint8_t { kField, kArray, kConcat };
  std::string name;
  ColumnType type = ColumnType::kText;
  Source source = Source::kField;
  std::vector<size_t> fields;  // schema field indexes (core::SchemaFor(kind).fields)
  std::string separator;       // kConcat
  bool trim = false;
  std::vector<std::string> null_if;
  std::optional<std::string> strip_prefix;
  bool parse_count_suffix = false;
};

// The output table of one record kind.
struct TableDef {
  core::RecordKind kind;
  std::string table;                         // e.g. "experimental_data"
  std::vector<ColumnDef> columns;            // in order
  std::optional<size_t> dedup_column;        // index into columns, e.g. unique_id for pins
  std::vector<size_t> drop_if_null_columns;  // rows with NULL in any of these are dropped
};

// Data-quality counters. Keys are "<kind>.<column>.<rule>" (rule names as in the file, e.g.
// "pin.follower_count.null_if", "pin.title.trim"; casts count under "cast"); values count
// affected records. Rules run and count on every valid record, dropped ones included. A key is
// present only once its counter is non-zero.
struct QualityStats {
  std::map<std::string, int64_t> changed;  // value changed but not NULL
  std::map<std::string, int64_t> nulled;   // value turned NULL
  // parse/cast failures ("pin.follower_count.parse"); each is also counted in `nulled`.
  std::map<std::string, int64_t> unparseable;
  std::map<std::string, int64_t> dropped;  // rows dropped, by "<kind>.<rule>.<column>"
  int64_t rows = 0;                        // rows produced
  int64_t invalid = 0;                     // records that failed validation
  void Merge(const QualityStats& other);
  // {"changed":{key:n,...},"nulled":{...},"unparseable":{...},"dropped":{...},"rows":n,
  //  "invalid":n}, keys in order: the speed layer's pinpipe_stream_batches.quality and the
  // batch job's quality report use the same shape.
  std::string ToJson() const;
};

// QualityStats counts by slot, for a caller that applies many records into one QualityStats:
// ApplyToTally() adds 1 to an array slot for each rule that fires, where Apply() with a
// QualityStats looks the rule's key up in a map (string comparisons: ~10% of Apply's time).
// Transform::FoldTally() adds the counts to a QualityStats under the same keys and zeroes the
// tally. A tally belongs to the Transform that first counted into it.
class QualityTally {
 public:
  QualityTally() = default;
  // Zeroes the counts (a caller that gives up on what it counted, e.g. after an error).
  void Clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    rows_ = 0;
    invalid_ = 0;
  }

 private:
  friend class Transform;
  std::vector<int64_t> counts_;  // sized by the transform on first use
  int64_t rows_ = 0;
  int64_t invalid_ = 0;
};

enum class Outcome : uint8_t { kRow, kDropped, kInvalid };

// What follows a dedup column's type in DDL: ` COLLATE "C"` for text. Equality is byte equality
// under any deterministic collation, so uniqueness is the same, and for UTF-8 text "C" orders as
// C.UTF-8 does (by code point); but the unique index's comparisons become a plain memcmp instead
// of the collation's copy-and-compare, which is much of PostgreSQL's cost per appended row.
std::string DedupColumnSuffix(ColumnType type);

class Transform {
 public:
  // Per-thread working state for Apply().
  class Scratch {
   public:
    Scratch();
    ~Scratch();

   private:
    friend class Transform;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  // Compiles a transform file. Errors: InvalidArgument naming the file, the table/column and
  // what is wrong (unknown rule, unknown source field, type mismatch, ...).
  static StatusOr<std::shared_ptr<const Transform>> FromToml(std::string_view text,
                                                             std::string_view source_name);
  // The default rules (transforms/pinterest.toml, embedded at build time).
  static std::shared_ptr<const Transform> Default();
  // FromToml() of a file on disk.
  static StatusOr<std::shared_ptr<const Transform>> FromFile(const std::string& path);

  const TableDef& table(core::RecordKind kind) const;
  // The compiled rules of the kind's columns, parallel to table(kind).columns.
  std::vector<ColumnRules> DescribeColumns(core::RecordKind kind) const;

  // See the class comment. `reason` and `errors` are cleared first; `row` is resized to the
  // table's column count (cells keep their capacity) and holds the row only when kRow is
  // returned. `stats` may be null (no counting).
  Outcome Apply(core::RecordKind kind, std::string_view json, Scratch* scratch, Row* row,
                std::string* reason, std::vector<core::FieldError>* errors,
                QualityStats* stats) const;
  // The same, counting into `tally` (not null); FoldTally() moves the counts into a
  // QualityStats. The batch and speed layers use this form.
  Outcome ApplyToTally(core::RecordKind kind, std::string_view json, Scratch* scratch, Row* row,
                       std::string* reason, std::vector<core::FieldError>* errors,
                       QualityTally* tally) const;
  // Adds `tally`'s counts to `stats` and zeroes `tally`.
  void FoldTally(QualityTally* tally, QualityStats* stats) const;

  // CREATE TABLE IF NOT EXISTS for the kind's table (with a unique index on the dedup column).
  std::string CreateTableSql(core::RecordKind kind) const;

  // Appends `row` as one line of PostgreSQL COPY text format (tab-separated, \N for NULL,
  // escapes as COPY requires, arrays as {a,b}, timestamps as ISO 8601), ending in '\n'.
  static void AppendCopyLine(const Row& row, std::string* out);

  // Appends `row` as one CSV line (RFC 4180 quoting, empty for NULL) and as one JSON object
  // line, for the batch layer's cleaned output in the lake.
  void AppendCsvLine(core::RecordKind kind, const Row& row, std::string* out) const;
  void AppendJsonLine(core::RecordKind kind, const Row& row, std::string* out) const;

 private:
  struct Impl;
  explicit Transform(std::unique_ptr<Impl> impl);
  // Apply() counting into `stats` by key or `tally` by slot (at most one non-null); the
  // callers count rows and invalid records.
  Outcome ApplyCounting(core::RecordKind kind, std::string_view json, Scratch* scratch, Row* row,
                        std::string* reason, std::vector<core::FieldError>* errors,
                        QualityStats* stats, int64_t* tally) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinpipe::transform
