#include "transform/internal/spec.h"

#include <toml++/toml.h>
#include <exception>
#include <optional>

#include <fmt/format.h>

#include "core/toml_errors.h"

namespace pinpipe::transform::internal {
namespace {

constexpr std::string_view kKindKeys[] = {"table", "columns", "dedup_key", "drop_if_null"};
constexpr std::string_view kColumnKeys[] = {
    "name", "type", "from", "concat", "separator", "trim", "null_if", "strip_prefix", "parse"};
constexpr ColumnType kAllTypes[] = {
    ColumnType::kInteger, ColumnType::kBigint,    ColumnType::kDouble,     ColumnType::kText,
    ColumnType::kBoolean, ColumnType::kTimestamp, ColumnType::kDoubleArray};

std::string SchemaFieldNames(const core::RecordSchema& schema) {
  std::string out;
  for (const core::FieldSpec& field : schema.fields) {
    if (!out.empty()) out += ", ";
    out += field.name;
  }
  return out;
}

// Lowercase SQL identifier that needs no quoting in a reader's queries: [a-z_][a-z0-9_]{0,62}.
bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsTextField(core::FieldType type) {
  return type == core::FieldType::kString || type == core::FieldType::kUuid ||
         type == core::FieldType::kTimestamp;
}

bool IsNumericField(core::FieldType type) {
  return type == core::FieldType::kInt || type == core::FieldType::kNumber;
}

std::string_view FieldTypeName(core::FieldType type) {
  switch (type) {
    case core::FieldType::kInt: return "an integer";
    case core::FieldType::kNumber: return "a number";
    case core::FieldType::kString: return "a string";
    case core::FieldType::kUuid: return "a UUID string";
    case core::FieldType::kTimestamp: return "a timestamp string";
  }
  return "?";
}

std::optional<ColumnType> ParseColumnType(std::string_view name) {
  for (ColumnType type : kAllTypes) {
    if (ColumnTypeName(type) == name) return type;
  }
  return std::nullopt;
}

// Whether a kField source of `field` may produce a column of `type` (before rules).
bool CastAllowed(core::FieldType field, ColumnType type) {
  if (type == ColumnType::kDoubleArray) return false;
  if (IsTextField(field)) return true;  // text casts to anything scalar (NULL when it fails)
  if (field == core::FieldType::kInt) return type != ColumnType::kTimestamp;
  return type == ColumnType::kDouble || type == ColumnType::kText;  // kNumber
}

// Builds the error messages of one compilation; every message starts with the file name.
class Compiler {
 public:
  explicit Compiler(std::string_view source_name) : errors_(source_name) {}

  StatusOr<CompiledSpec> Compile(std::string_view text);

 private:
  Status Error(std::string_view where, const toml::node* node, std::string_view what) const {
    return errors_.Error(where, node, what);
  }

  Status CompileKind(core::RecordKind kind, const toml::node& node, CompiledTable* out);
  Status CompileColumn(const core::RecordSchema& schema, const std::string& where,
                       const toml::table& column, CompiledColumn* out);
  // Reads an array of strings; false if `node` is not one.
  static bool StringArray(const toml::node& node, std::vector<std::string>* out);
  // Resolves field names of the schema into indexes.
  Status ResolveFields(const core::RecordSchema& schema, const std::string& where,
                       const toml::node& node, const std::vector<std::string>& names,
                       std::vector<size_t>* out) const;

  core::TomlErrors errors_;
};

bool Compiler::StringArray(const toml::node& node, std::vector<std::string>* out) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return false;
  out->clear();
  for (const toml::node& element : *array) {
    const auto* s = element.as_string();
    if (s == nullptr) return false;
    out->push_back(s->get());
  }
  return true;
}

Status Compiler::ResolveFields(const core::RecordSchema& schema, const std::string& where,
                               const toml::node& node, const std::vector<std::string>& names,
                               std::vector<size_t>* out) const {
  out->clear();
  for (const std::string& name : names) {
    const std::optional<size_t> index = schema.FieldIndex(name);
    if (!index) {
      return Error(where, &node,
                   fmt::format("unknown source field \"{}\" ({} fields: {})", name, schema.name,
                               SchemaFieldNames(schema)));
    }
    out->push_back(*index);
  }
  return Status::Ok();
}

Status Compiler::CompileColumn(const core::RecordSchema& schema, const std::string& where,
                               const toml::table& column, CompiledColumn* out) {
  RETURN_IF_ERROR(errors_.CheckKeys(where, column, kColumnKeys));
  // name was checked by the caller.
  const toml::node* type_node = column.get("type");
  if (type_node == nullptr) return Error(where, &column, "missing \"type\"");
  const auto* type_name = type_node->as_string();
  const std::optional<ColumnType> type =
      type_name != nullptr ? ParseColumnType(type_name->get()) : std::nullopt;
  if (!type) {
    std::string names;
    for (ColumnType t : kAllTypes)
      names += (names.empty() ? "" : ", ") + std::string(ColumnTypeName(t));
    return Error(where, type_node, fmt::format("\"type\" must be one of: {}", names));
  }
  out->type = *type;

  const toml::node* from = column.get("from");
  const toml::node* concat = column.get("concat");
  const toml::node* separator = column.get("separator");
  if ((from == nullptr) == (concat == nullptr)) {
    return Error(where, &column, "needs exactly one source: \"from\" or \"concat\"");
  }
  std::vector<std::string> names;
  if (from != nullptr) {
    if (const auto* single = from->as_string()) {
      out->source = SourceKind::kField;
      names.push_back(single->get());
    } else if (StringArray(*from, &names) && !names.empty()) {
      out->source = SourceKind::kArray;
    } else {
      return Error(where, from,
                   "\"from\" must be a field name or a non-empty array of field names");
    }
  } else {
    if (!StringArray(*concat, &names) || names.empty()) {
      return Error(where, concat, "\"concat\" must be a non-empty array of field names");
    }
    out->source = SourceKind::kConcat;
  }
  RETURN_IF_ERROR(
      ResolveFields(schema, where, from != nullptr ? *from : *concat, names, &out->fields));
  if (separator != nullptr) {
    if (concat == nullptr)
      return Error(where, separator, "\"separator\" is only allowed with \"concat\"");
    const auto* s = separator->as_string();
    if (s == nullptr) return Error(where, separator, "\"separator\" must be a string");
    out->separator = s->get();
  }

  // Rules.
  const toml::node* trim = column.get("trim");
  const toml::node* null_if = column.get("null_if");
  const toml::node* strip_prefix = column.get("strip_prefix");
  const toml::node* parse = column.get("parse");
  if (trim != nullptr) {
    const auto* b = trim->as_boolean();
    if (b == nullptr) return Error(where, trim, "\"trim\" must be true or false");
    out->trim = b->get();
  }
  if (null_if != nullptr && !StringArray(*null_if, &out->null_if)) {
    return Error(where, null_if, "\"null_if\" must be an array of strings");
  }
  if (strip_prefix != nullptr) {
    const auto* s = strip_prefix->as_string();
    if (s == nullptr) return Error(where, strip_prefix, "\"strip_prefix\" must be a string");
    out->strip_prefix_set = true;
    out->strip_prefix = s->get();
  }
  if (parse != nullptr) {
    const auto* s = parse->as_string();
    if (s == nullptr || s->get() != "count_suffix") {
      return Error(where, parse, "\"parse\" must be \"count_suffix\" (the only parser)");
    }
    out->parse_count_suffix = true;
  }

  // Type combinations.
  const std::string type_str(ColumnTypeName(out->type));
  switch (out->source) {
    case SourceKind::kArray:
      if (out->type != ColumnType::kDoubleArray) {
        return Error(where, type_node,
                     fmt::format("an array \"from\" makes a double_array, not {}", type_str));
      }
      for (size_t i = 0; i < out->fields.size(); ++i) {
        const core::FieldSpec& field = schema.fields[out->fields[i]];
        if (!IsNumericField(field.type)) {
          return Error(where, from,
                       fmt::format("double_array source field \"{}\" is {}, not a number",
                                   field.name, FieldTypeName(field.type)));
        }
      }
      break;
    case SourceKind::kConcat:
      if (out->type != ColumnType::kText) {
        return Error(where, type_node, fmt::format("\"concat\" makes text, not {}", type_str));
      }
      for (size_t i = 0; i < out->fields.size(); ++i) {
        const core::FieldSpec& field = schema.fields[out->fields[i]];
        if (!IsTextField(field.type)) {
          return Error(where, concat,
                       fmt::format("concat source field \"{}\" is {}, not a string", field.name,
                                   FieldTypeName(field.type)));
        }
      }
      break;
    case SourceKind::kField: {
      const core::FieldSpec& field = schema.fields[out->fields[0]];
      out->field_type = field.type;
      if (!CastAllowed(field.type, out->type)) {
        return Error(where, type_node,
                     fmt::format("source field \"{}\" is {} and cannot become {}", field.name,
                                 FieldTypeName(field.type), type_str));
      }
      break;
    }
  }
  const bool text_source = out->source == SourceKind::kConcat ||
                           (out->source == SourceKind::kField && IsTextField(out->field_type));
  const std::pair<const toml::node*, std::string_view> text_rules[] = {
      {trim, "trim"}, {null_if, "null_if"}, {strip_prefix, "strip_prefix"}, {parse, "parse"}};
  for (const auto& [node, rule] : text_rules) {
    if (node != nullptr && !text_source) {
      return Error(where, node,
                   fmt::format("rule \"{}\" needs a text source (a string field or concat)", rule));
    }
  }
  if (out->parse_count_suffix && out->type != ColumnType::kInteger &&
      out->type != ColumnType::kBigint) {
    return Error(where, parse,
                 fmt::format("parse = \"count_suffix\" makes integer or bigint, not {}", type_str));
  }
  return Status::Ok();
}

Status Compiler::CompileKind(core::RecordKind kind, const toml::node& node, CompiledTable* out) {
  const core::RecordSchema& schema = core::SchemaFor(kind);
  const std::string kind_name(schema.name);
  const toml::table* table = node.as_table();
  if (table == nullptr) return Error(kind_name, &node, "must be a table");
  RETURN_IF_ERROR(errors_.CheckKeys(kind_name, *table, kKindKeys));
  TableDef& def = out->def;
  def.kind = kind;
  const toml::node* name = table->get("table");
  if (name == nullptr) return Error(kind_name, table, "missing \"table\" (the output table name)");
  if (!name->is_string() || !IsIdentifier(name->as_string()->get())) {
    return Error(kind_name, name,
                 "\"table\" must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)");
  }
  def.table = name->as_string()->get();

  const toml::node* columns_node = table->get("columns");
  const toml::array* columns = columns_node != nullptr ? columns_node->as_array() : nullptr;
  if (columns == nullptr || columns->empty()) {
    return Error(kind_name, columns_node != nullptr ? columns_node : table,
                 "needs a non-empty array of [[" + kind_name + ".columns]] tables");
  }
  for (size_t i = 0; i < columns->size(); ++i) {
    const toml::node& column_node = *columns->get(i);
    std::string where = fmt::format("{}.columns[{}]", kind_name, i);
    const toml::table* column = column_node.as_table();
    if (column == nullptr) return Error(where, &column_node, "must be a table");
    const toml::node* column_name = column->get("name");
    if (column_name == nullptr) return Error(where, column, "missing \"name\"");
    if (!column_name->is_string() || !IsIdentifier(column_name->as_string()->get())) {
      return Error(where, column_name,
                   "\"name\" must be a lowercase SQL identifier ([a-z_][a-z0-9_]*)");
    }
    CompiledColumn compiled;
    compiled.name = column_name->as_string()->get();
    where = kind_name + "." + compiled.name;
    for (const CompiledColumn& earlier : out->columns) {
      if (earlier.name == compiled.name) {
        return Error(where, column_name, fmt::format("duplicate column \"{}\"", compiled.name));
      }
    }
    RETURN_IF_ERROR(CompileColumn(schema, where, *column, &compiled));
    for (size_t r = 0; r < kRuleCount; ++r) {
      compiled.stat_keys[r] =
          fmt::format("{}.{}.{}", kind_name, compiled.name, RuleName(static_cast<Rule>(r)));
    }
    def.columns.push_back(ColumnDef{compiled.name, compiled.type});
    out->columns.push_back(std::move(compiled));
  }

  auto column_index = [&](std::string_view column_name) -> std::optional<size_t> {
    for (size_t i = 0; i < def.columns.size(); ++i) {
      if (def.columns[i].name == column_name) return i;
    }
    return std::nullopt;
  };
  if (const toml::node* dedup = table->get("dedup_key")) {
    const auto* s = dedup->as_string();
    if (s == nullptr) return Error(kind_name, dedup, "\"dedup_key\" must be a column name");
    def.dedup_column = column_index(s->get());
    if (!def.dedup_column) {
      return Error(kind_name, dedup,
                   fmt::format("\"dedup_key\" names no column of {}: \"{}\"", def.table, s->get()));
    }
    if (def.columns[*def.dedup_column].type == ColumnType::kDoubleArray) {
      return Error(kind_name, dedup, "\"dedup_key\" cannot be a double_array column");
    }
  }
  if (const toml::node* drop = table->get("drop_if_null")) {
    std::vector<std::string> names;
    if (!StringArray(*drop, &names)) {
      return Error(kind_name, drop, "\"drop_if_null\" must be an array of column names");
    }
    for (const std::string& column_name : names) {
      const std::optional<size_t> index = column_index(column_name);
      if (!index) {
        return Error(
            kind_name, drop,
            fmt::format("\"drop_if_null\" names no column of {}: \"{}\"", def.table, column_name));
      }
      def.drop_if_null_columns.push_back(*index);
      out->drop_stat_keys.push_back(fmt::format("{}.drop_if_null.{}", kind_name, column_name));
      out->drop_reasons.push_back(fmt::format("drop_if_null: {} is NULL", column_name));
    }
  }
  return Status::Ok();
}

StatusOr<CompiledSpec> Compiler::Compile(std::string_view text) {
  ASSIGN_OR_RETURN(toml::table root, errors_.Parse(text));
  for (auto&& [key, value] : root) {
    if (!core::ParseRecordKind(key.str())) {
      return Error(key.str(), &value, "unknown record kind (expected pin, geo or user)");
    }
  }
  CompiledSpec spec;
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const std::string_view kind_name = core::RecordKindName(kind);
    const toml::node* node = root.get(kind_name);
    if (node == nullptr) {
      return Error(kind_name, nullptr, fmt::format("missing table [{}]", kind_name));
    }
    RETURN_IF_ERROR(CompileKind(kind, *node, &spec.tables[static_cast<size_t>(kind)]));
  }
  for (size_t a = 0; a < spec.tables.size(); ++a) {
    for (size_t b = 0; b < a; ++b) {
      if (spec.tables[a].def.table == spec.tables[b].def.table) {
        return Error(core::RecordKindName(spec.tables[a].def.kind), nullptr,
                     fmt::format("table \"{}\" is also the table of {}", spec.tables[a].def.table,
                                 core::RecordKindName(spec.tables[b].def.kind)));
      }
    }
  }
  return spec;
}

}  // namespace

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kTrim: return "trim";
    case Rule::kNullIf: return "null_if";
    case Rule::kStripPrefix: return "strip_prefix";
    case Rule::kParse: return "parse";
    case Rule::kCast: return "cast";
  }
  return "?";
}

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "integer";
    case ColumnType::kBigint: return "bigint";
    case ColumnType::kDouble: return "double";
    case ColumnType::kText: return "text";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kDoubleArray: return "double_array";
  }
  return "?";
}

std::string_view ColumnTypeSqlName(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "integer";
    case ColumnType::kBigint: return "bigint";
    case ColumnType::kDouble: return "double precision";
    case ColumnType::kText: return "text";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kDoubleArray: return "double precision[]";
  }
  return "?";
}

StatusOr<CompiledSpec> CompileSpec(std::string_view text, std::string_view source_name) {
  try {
    return Compiler(source_name).Compile(text);
  } catch (const std::exception& e) {
    // toml++ reports syntax errors as parse_error (handled above); anything else (bad_alloc on
    // a hostile file) must not escape the module.
    return InvalidArgument(
        fmt::format("{}: cannot load transform file: {}", source_name, e.what()));
  }
}

}  // namespace pinpipe::transform::internal
