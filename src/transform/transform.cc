#include "transform/transform.h"

#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "core/check.h"
#include "core/record_validator.h"
#include "core/timestamp_parser.h"
#include "core/uuid_text.h"
#include "transform/internal/default_transform.h"
#include "transform/internal/spec.h"
#include "transform/value_rules.h"

namespace pinpipe::transform {

using internal::CompiledColumn;
using internal::CompiledTable;
using internal::Rule;
using internal::SourceKind;

void QualityStats::Merge(const QualityStats& other) {
  for (const auto& [key, n] : other.changed) changed[key] += n;
  for (const auto& [key, n] : other.nulled) nulled[key] += n;
  for (const auto& [key, n] : other.unparseable) unparseable[key] += n;
  for (const auto& [key, n] : other.dropped) dropped[key] += n;
  rows += other.rows;
  invalid += other.invalid;
}

namespace {

void AppendCounterMap(const std::map<std::string, int64_t>& m, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, value] : m) {
    if (!first) out->push_back(',');
    first = false;
    core::AppendJsonString(key, out);
    fmt::format_to(std::back_inserter(*out), ":{}", value);
  }
  out->push_back('}');
}

}  // namespace

std::string DedupColumnSuffix(ColumnType type) {
  return type == ColumnType::kText ? " COLLATE \"C\"" : "";
}

std::string QualityStats::ToJson() const {
  std::string out = "{\"changed\":";
  AppendCounterMap(changed, &out);
  out.append(",\"nulled\":");
  AppendCounterMap(nulled, &out);
  out.append(",\"unparseable\":");
  AppendCounterMap(unparseable, &out);
  out.append(",\"dropped\":");
  AppendCounterMap(dropped, &out);
  fmt::format_to(std::back_inserter(out), ",\"rows\":{},\"invalid\":{}}}", rows, invalid);
  return out;
}

struct Transform::Impl {
  internal::CompiledSpec spec;
  // QualityTally slots: which map of QualityStats and which key each one counts under.
  enum class Map : uint8_t { kChanged, kNulled, kUnparseable, kDropped };
  std::vector<std::pair<Map, const std::string*>> slots;

  // Numbers the tally slots of every column and drop rule.
  void NumberSlots() {
    slots.clear();
    for (internal::CompiledTable& table : spec.tables) {
      for (CompiledColumn& column : table.columns) {
        column.tally_slot = slots.size();
        for (const std::string& key : column.stat_keys) {
          slots.emplace_back(Map::kChanged, &key);
          slots.emplace_back(Map::kNulled, &key);
          slots.emplace_back(Map::kUnparseable, &key);
        }
      }
      table.drop_tally_slots.clear();
      for (const std::string& key : table.drop_stat_keys) {
        table.drop_tally_slots.push_back(slots.size());
        slots.emplace_back(Map::kDropped, &key);
      }
    }
  }
};

struct Transform::Scratch::Impl {
  core::RecordValidator validator;
  std::string concat;  // concat columns are joined here before their rules run
  std::string uuid;    // a uuid field lowered to its canonical case, when it was not already
};

Transform::Scratch::Scratch() : impl_(std::make_unique<Impl>()) {}
Transform::Scratch::~Scratch() = default;

Transform::Transform(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->NumberSlots(); }

StatusOr<std::shared_ptr<const Transform>> Transform::FromToml(std::string_view text,
                                                               std::string_view source_name) {
  StatusOr<internal::CompiledSpec> spec = internal::CompileSpec(text, source_name);
  if (!spec.ok()) return spec.status();
  auto impl = std::make_unique<Impl>();
  impl->spec = std::move(spec).value();
  return std::shared_ptr<const Transform>(new Transform(std::move(impl)));
}

std::shared_ptr<const Transform> Transform::Default() {
  // Compiled once; a broken embedded file is a build defect, caught by the unit tests.
  static const std::shared_ptr<const Transform> instance = [] {
    StatusOr<std::shared_ptr<const Transform>> t =
        FromToml(internal::kDefaultTransformToml, "transforms/pinterest.toml (built in)");
    PINPIPE_CHECK(t.ok()) << t.status().ToString();
    return std::move(t).value();
  }();
  return instance;
}

StatusOr<std::shared_ptr<const Transform>> Transform::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot open transform file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Internal(fmt::format("cannot read transform file {}", path));
  return FromToml(text.str(), path);
}

const TableDef& Transform::table(core::RecordKind kind) const {
  return impl_->spec.tables[static_cast<size_t>(kind)].def;
}

std::vector<ColumnRules> Transform::DescribeColumns(core::RecordKind kind) const {
  std::vector<ColumnRules> out;
  for (const CompiledColumn& c : impl_->spec.tables[static_cast<size_t>(kind)].columns) {
    ColumnRules r;
    r.name = c.name;
    r.type = c.type;
    r.source = c.source == SourceKind::kField   ? ColumnRules::Source::kField
               : c.source == SourceKind::kArray ? ColumnRules::Source::kArray
                                                : ColumnRules::Source::kConcat;
    r.fields = c.fields;
    r.separator = c.separator;
    r.trim = c.trim;
    r.null_if = c.null_if;
    // An empty prefix strips nothing (TextRules), so it is no rule at all.
    if (c.strip_prefix_set && !c.strip_prefix.empty()) r.strip_prefix = c.strip_prefix;
    r.parse_count_suffix = c.parse_count_suffix;
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// Counts rule outcomes into the caller's QualityStats (by key) or QualityTally (by slot); with
// neither, nothing is counted. The keys were built at compile time, so a map lookup does not
// allocate; an insert happens once per key.
class Counter {
 public:
  Counter(QualityStats* stats, int64_t* tally) : stats_(stats), tally_(tally) {}
  void Changed(const CompiledColumn& column, Rule rule) { Count(column, rule, 0); }
  void Nulled(const CompiledColumn& column, Rule rule) { Count(column, rule, 1); }
  void Unparseable(const CompiledColumn& column, Rule rule) {
    Count(column, rule, 1);
    Count(column, rule, 2);
  }
  void Dropped(const std::string& key, size_t slot) {
    if (tally_ != nullptr) {
      ++tally_[slot];
    } else if (stats_ != nullptr) {
      Bump(&stats_->dropped, key);
    }
  }

 private:
  // which: 0 changed, 1 nulled, 2 unparseable (the order of Transform::Impl::NumberSlots).
  void Count(const CompiledColumn& column, Rule rule, size_t which) {
    const auto r = static_cast<size_t>(rule);
    if (tally_ != nullptr) {
      ++tally_[column.tally_slot + r * 3 + which];
    } else if (stats_ != nullptr) {
      Bump(which == 0   ? &stats_->changed
           : which == 1 ? &stats_->nulled
                        : &stats_->unparseable,
           column.stat_keys[r]);
    }
  }
  static void Bump(std::map<std::string, int64_t>* counters, const std::string& key) {
    const auto it = counters->find(key);
    if (it != counters->end()) {
      ++it->second;
    } else {
      counters->emplace(key, 1);
    }
  }
  QualityStats* stats_;
  int64_t* tally_;
};

// Cell setters that keep a string's or vector's capacity when the cell already holds one.
std::string& TextCell(Cell* cell) {
  if (auto* s = std::get_if<std::string>(cell)) {
    s->clear();
    return *s;
  }
  return cell->emplace<std::string>();
}

std::vector<double>& ArrayCell(Cell* cell) {
  if (auto* v = std::get_if<std::vector<double>>(cell)) {
    v->clear();
    return *v;
  }
  return cell->emplace<std::vector<double>>();
}

void SetNull(Cell* cell) { cell->emplace<std::monostate>(); }

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// Stores an integer into an integer/bigint cell; NULL (counted under `rule`) if it does not fit.
void SetInteger(const CompiledColumn& column, int64_t v, Rule rule, Cell* cell, Counter* counter) {
  if (column.type == ColumnType::kInteger && (v < kInt32Min || v > kInt32Max)) {
    SetNull(cell);
    counter->Unparseable(column, rule);
    return;
  }
  *cell = v;
}

// Runs trim (unless already done per part), null_if and strip_prefix on `*v`. Returns false when
// the value became NULL.
bool TextRules(const CompiledColumn& column, bool do_trim, std::string_view* v, Counter* counter) {
  if (do_trim) {
    const std::string_view trimmed = TrimSpace(*v);
    if (trimmed.size() != v->size()) counter->Changed(column, Rule::kTrim);
    *v = trimmed;
  }
  for (const std::string& placeholder : column.null_if) {
    if (*v == placeholder) {
      counter->Nulled(column, Rule::kNullIf);
      return false;
    }
  }
  if (column.strip_prefix_set && !column.strip_prefix.empty() &&
      v->starts_with(column.strip_prefix)) {
    v->remove_prefix(column.strip_prefix.size());
    counter->Changed(column, Rule::kStripPrefix);
  }
  return true;
}

// The final cast of a text value (after its rules) into the column's type.
void CastText(const CompiledColumn& column, std::string_view v, Cell* cell, Counter* counter) {
  switch (column.type) {
    case ColumnType::kText: TextCell(cell).assign(v); return;
    case ColumnType::kInteger:
    case ColumnType::kBigint: {
      int64_t n = 0;
      if (column.parse_count_suffix) {
        const CountParse parsed = ParseCountSuffix(v, &n);
        if (parsed == CountParse::kInvalid) {
          SetNull(cell);
          counter->Unparseable(column, Rule::kParse);
          return;
        }
        if (parsed == CountParse::kExpanded) counter->Changed(column, Rule::kParse);
        SetInteger(column, n, Rule::kParse, cell, counter);
        return;
      }
      if (!ParseInt64Text(v, &n)) {
        SetNull(cell);
        counter->Unparseable(column, Rule::kCast);
        return;
      }
      SetInteger(column, n, Rule::kCast, cell, counter);
      return;
    }
    case ColumnType::kDouble: {
      double d = 0;
      if (!ParseDoubleText(v, &d)) {
        SetNull(cell);
        counter->Unparseable(column, Rule::kCast);
        return;
      }
      *cell = d;
      return;
    }
    case ColumnType::kBoolean: {
      bool b = false;
      if (!ParseBoolText(v, &b)) {
        SetNull(cell);
        counter->Unparseable(column, Rule::kCast);
        return;
      }
      *cell = b;
      return;
    }
    case ColumnType::kTimestamp: {
      core::CivilTimestamp ts;
      std::string_view why;
      if (!core::ParseTimestamp(v, &ts, &why)) {
        SetNull(cell);
        counter->Unparseable(column, Rule::kCast);
        return;
      }
      *cell = Timestamp{TimestampMicros(ts)};
      return;
    }
    case ColumnType::kDoubleArray: break;  // refused by the compiler
  }
  PINPIPE_CHECK(false) << "text cast to " << internal::ColumnTypeName(column.type);
}

// A numeric field value (kInt or kDouble) into the column's type.
void CastNumber(const CompiledColumn& column, const core::FieldValue& value, Cell* cell,
                Counter* counter) {
  const bool is_int = value.type == core::FieldValue::Type::kInt;
  switch (column.type) {
    case ColumnType::kInteger:
    case ColumnType::kBigint:
      if (!is_int) break;  // refused by the compiler (a number field never casts to integer)
      SetInteger(column, value.int_value, Rule::kCast, cell, counter);
      return;
    case ColumnType::kDouble:
      *cell = is_int ? static_cast<double>(value.int_value) : value.double_value;
      return;
    case ColumnType::kText: {
      std::string& s = TextCell(cell);
      if (is_int) {
        AppendInt64(value.int_value, &s);
      } else {
        AppendDouble(value.double_value, &s);
      }
      return;
    }
    case ColumnType::kBoolean:
      if (is_int && (value.int_value == 0 || value.int_value == 1)) {
        *cell = value.int_value == 1;
      } else {
        SetNull(cell);
        counter->Unparseable(column, Rule::kCast);
      }
      return;
    case ColumnType::kTimestamp:
    case ColumnType::kDoubleArray: break;
  }
  PINPIPE_CHECK(false) << "number cast to " << internal::ColumnTypeName(column.type);
}

}  // namespace

Outcome Transform::Apply(core::RecordKind kind, std::string_view json, Scratch* scratch, Row* row,
                         std::string* reason, std::vector<core::FieldError>* errors,
                         QualityStats* stats) const {
  const Outcome outcome = ApplyCounting(kind, json, scratch, row, reason, errors, stats, nullptr);
  if (stats != nullptr) {
    if (outcome == Outcome::kInvalid) ++stats->invalid;
    if (outcome == Outcome::kRow) ++stats->rows;
  }
  return outcome;
}

Outcome Transform::ApplyToTally(core::RecordKind kind, std::string_view json, Scratch* scratch,
                                Row* row, std::string* reason,
                                std::vector<core::FieldError>* errors, QualityTally* tally) const {
  if (tally->counts_.size() != impl_->slots.size()) tally->counts_.assign(impl_->slots.size(), 0);
  const Outcome outcome =
      ApplyCounting(kind, json, scratch, row, reason, errors, nullptr, tally->counts_.data());
  if (outcome == Outcome::kInvalid) ++tally->invalid_;
  if (outcome == Outcome::kRow) ++tally->rows_;
  return outcome;
}

void Transform::FoldTally(QualityTally* tally, QualityStats* stats) const {
  for (size_t i = 0; i < tally->counts_.size() && i < impl_->slots.size(); ++i) {
    const int64_t n = tally->counts_[i];
    if (n == 0) continue;
    tally->counts_[i] = 0;
    const auto& [map, key] = impl_->slots[i];
    std::map<std::string, int64_t>* counters = map == Impl::Map::kChanged  ? &stats->changed
                                               : map == Impl::Map::kNulled ? &stats->nulled
                                               : map == Impl::Map::kUnparseable
                                                   ? &stats->unparseable
                                                   : &stats->dropped;
    (*counters)[*key] += n;
  }
  stats->rows += tally->rows_;
  stats->invalid += tally->invalid_;
  tally->rows_ = 0;
  tally->invalid_ = 0;
}

Outcome Transform::ApplyCounting(core::RecordKind kind, std::string_view json, Scratch* scratch,
                                 Row* row, std::string* reason,
                                 std::vector<core::FieldError>* errors, QualityStats* stats,
                                 int64_t* tally) const {
  reason->clear();
  errors->clear();
  const CompiledTable& table = impl_->spec.tables[static_cast<size_t>(kind)];
  row->cells.resize(table.columns.size());
  Scratch::Impl& work = *scratch->impl_;
  if (!work.validator.Validate(kind, json, nullptr, errors)) return Outcome::kInvalid;
  const std::span<const core::FieldValue> values = work.validator.values();
  Counter counter(stats, tally);

  for (size_t c = 0; c < table.columns.size(); ++c) {
    const CompiledColumn& column = table.columns[c];
    Cell* cell = &row->cells[c];
    switch (column.source) {
      case SourceKind::kField: {
        const core::FieldValue& value = values[column.fields[0]];
        if (value.type == core::FieldValue::Type::kAbsent) {
          SetNull(cell);
        } else if (value.type == core::FieldValue::Type::kString) {
          std::string_view v = value.string_value;
          // A uuid field is read in its canonical (lower-case) spelling, before any rule: the
          // same UUID in another case is the same post (dedup_key), as pydantic's UUID type sees
          // it (transforms/pinterest.toml, core/uuid_text.h).
          if (column.field_type == core::FieldType::kUuid && !core::IsLowerCaseUuid(v)) {
            work.uuid.clear();
            core::AppendLowerCaseUuid(v, &work.uuid);
            v = work.uuid;
          }
          if (TextRules(column, column.trim, &v, &counter)) {
            CastText(column, v, cell, &counter);
          } else {
            SetNull(cell);
          }
        } else {
          CastNumber(column, value, cell, &counter);
        }
        break;
      }
      case SourceKind::kArray: {
        bool absent = false;
        for (size_t field : column.fields) {
          absent = absent || values[field].type == core::FieldValue::Type::kAbsent;
        }
        if (absent) {
          SetNull(cell);
          break;
        }
        std::vector<double>& array = ArrayCell(cell);
        for (size_t field : column.fields) {
          const core::FieldValue& value = values[field];
          array.push_back(value.type == core::FieldValue::Type::kInt
                              ? static_cast<double>(value.int_value)
                              : value.double_value);
        }
        break;
      }
      case SourceKind::kConcat: {
        const core::RecordSchema& schema = core::SchemaFor(kind);
        std::string& joined = work.concat;
        joined.clear();
        bool absent = false;
        bool trimmed = false;
        for (size_t i = 0; i < column.fields.size(); ++i) {
          const core::FieldValue& value = values[column.fields[i]];
          if (value.type != core::FieldValue::Type::kString) {
            absent = true;
            break;
          }
          std::string_view part = value.string_value;
          if (column.trim) {
            const std::string_view t = TrimSpace(part);
            trimmed = trimmed || t.size() != part.size();
            part = t;
          }
          if (i > 0) joined += column.separator;
          if (schema.fields[column.fields[i]].type == core::FieldType::kUuid) {
            core::AppendLowerCaseUuid(part, &joined);  // canonical case, as for a `from` source
          } else {
            joined += part;
          }
        }
        if (absent) {
          SetNull(cell);
          break;
        }
        if (trimmed) counter.Changed(column, Rule::kTrim);
        std::string_view v = joined;
        if (TextRules(column, /*do_trim=*/false, &v, &counter)) {
          CastText(column, v, cell, &counter);
        } else {
          SetNull(cell);
        }
        break;
      }
    }
  }

  for (size_t d = 0; d < table.def.drop_if_null_columns.size(); ++d) {
    if (std::holds_alternative<std::monostate>(row->cells[table.def.drop_if_null_columns[d]])) {
      reason->assign(table.drop_reasons[d]);
      counter.Dropped(table.drop_stat_keys[d], table.drop_tally_slots[d]);
      return Outcome::kDropped;
    }
  }
  return Outcome::kRow;
}

std::string Transform::CreateTableSql(core::RecordKind kind) const {
  const TableDef& def = table(kind);
  // Names are checked to be plain lowercase identifiers; quoting them anyway keeps words such as
  // "timestamp" unambiguous.
  std::string sql = fmt::format("CREATE TABLE IF NOT EXISTS \"{}\" (\n", def.table);
  for (size_t i = 0; i < def.columns.size(); ++i) {
    sql += fmt::format(
        "  \"{}\" {}{}{}\n", def.columns[i].name, internal::ColumnTypeSqlName(def.columns[i].type),
        def.dedup_column == i ? DedupColumnSuffix(def.columns[i].type) + " UNIQUE" : std::string(),
        i + 1 < def.columns.size() ? "," : "");
  }
  sql += ");\n";
  return sql;
}

}  // namespace pinpipe::transform
