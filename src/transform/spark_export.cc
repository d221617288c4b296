#include "transform/spark_export.h"

#include <fmt/format.h>

#include "core/record_schema.h"
#include "core/record_validator.h"
#include "transform/internal/spark_job_runtime.h"
#include "transform/internal/spec.h"
#include "transform/value_rules.h"

namespace pinpipe::transform {
namespace {

// Appends one code point as a Python escape (\xNN, \uNNNN or \UNNNNNNNN).
void AppendPyEscape(char32_t cp, std::string* out) {
  if (cp < 0x100) {
    fmt::format_to(std::back_inserter(*out), "\\x{:02x}", static_cast<unsigned>(cp));
  } else if (cp < 0x10000) {
    fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<unsigned>(cp));
  } else {
    fmt::format_to(std::back_inserter(*out), "\\U{:08x}", static_cast<unsigned>(cp));
  }
}

// `s` (valid UTF-8: the transform file was) as a Python string literal in ASCII: printable ASCII
// as it is, everything else escaped, so invisible characters (NBSP, U+200B) stay visible.
std::string PyStringLiteral(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t n = 1;
    char32_t cp = c;
    if (c >= 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      n = 2;
      cp = c & 0x1F;
    }
    for (size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    AppendPyEscape(cp, &out);
    i += n;
  }
  out.push_back('"');
  return out;
}

std::string_view PyFieldType(core::FieldType type) {
  switch (type) {
    case core::FieldType::kInt: return "int";
    case core::FieldType::kNumber: return "number";
    case core::FieldType::kString: return "string";
    case core::FieldType::kUuid: return "uuid";
    case core::FieldType::kTimestamp: return "timestamp";
  }
  return "string";
}

bool IsTextField(core::FieldType type) {
  return type == core::FieldType::kString || type == core::FieldType::kUuid ||
         type == core::FieldType::kTimestamp;
}

// The statement that casts the text value `x` (not None) to the column's type; "" for text.
StatusOr<std::string> PyTextCast(const ColumnRules& c) {
  const bool integer = c.type == ColumnType::kInteger;
  switch (c.type) {
    case ColumnType::kText: return std::string();
    case ColumnType::kInteger:
    case ColumnType::kBigint:
      return std::string(c.parse_count_suffix ? "_parse_count(x, " : "_text_to_int(x, ") +
             (integer ? "True)" : "False)");
    case ColumnType::kDouble: return std::string("_text_to_double(x)");
    case ColumnType::kBoolean: return std::string("_text_to_bool(x)");
    case ColumnType::kTimestamp: return std::string("_text_to_timestamp(x)");
    case ColumnType::kDoubleArray: break;
  }
  return InvalidArgument(
      fmt::format("column {}: no text cast to {}", c.name, internal::ColumnTypeName(c.type)));
}

StatusOr<std::string> PyNumberCast(const ColumnRules& c) {
  switch (c.type) {
    case ColumnType::kInteger: return std::string("_number_to_int(x, True)");
    case ColumnType::kBigint: return std::string("_number_to_int(x, False)");
    case ColumnType::kDouble: return std::string("_number_to_double(x)");
    case ColumnType::kText: return std::string("_number_to_text(x)");
    case ColumnType::kBoolean: return std::string("_number_to_bool(x)");
    case ColumnType::kTimestamp:
    case ColumnType::kDoubleArray: break;
  }
  return InvalidArgument(
      fmt::format("column {}: no number cast to {}", c.name, internal::ColumnTypeName(c.type)));
}

// null_if, strip_prefix and the cast of `x` (a str or None), after trim, as Apply() runs them.
Status AppendTextRulesAndCast(const ColumnRules& c, std::string* out) {
  if (!c.null_if.empty()) {
    std::string set;
    for (const std::string& placeholder : c.null_if) set += PyStringLiteral(placeholder) + ", ";
    fmt::format_to(std::back_inserter(*out),
                   "    if x is not None and x in ({}):  # null_if\n        x = None\n", set);
  }
  if (c.strip_prefix) {
    fmt::format_to(std::back_inserter(*out),
                   "    if x is not None and x.startswith({0}):  # strip_prefix\n"
                   "        x = x[{1}:]\n",
                   PyStringLiteral(*c.strip_prefix),
                   // Python slices count code points.
                   [&] {
                     size_t n = 0;
                     for (unsigned char ch : *c.strip_prefix) n += (ch & 0xC0) != 0x80 ? 1 : 0;
                     return n;
                   }());
  }
  ASSIGN_OR_RETURN(std::string cast, PyTextCast(c));
  if (!cast.empty()) {
    fmt::format_to(std::back_inserter(*out), "    if x is not None:  # {}\n        x = {}\n",
                   c.parse_count_suffix ? "parse = \"count_suffix\"" : "cast", cast);
  }
  return Status::Ok();
}

Status AppendColumn(const core::RecordSchema& schema, size_t index, const ColumnRules& c,
                    std::string* out) {
  auto field_name = [&](size_t f) { return std::string(schema.fields[f].name); };
  switch (c.source) {
    case ColumnRules::Source::kField: {
      const size_t f = c.fields.at(0);
      const core::FieldType type = schema.fields[f].type;
      fmt::format_to(std::back_inserter(*out), "    # {}: from {} ({}), {}\n    x = v[{}]\n",
                     c.name, field_name(f), PyFieldType(type), internal::ColumnTypeName(c.type), f);
      if (!IsTextField(type)) {
        if (c.trim || !c.null_if.empty() || c.strip_prefix || c.parse_count_suffix) {
          return InvalidArgument(fmt::format("column {}: text rules on a number field", c.name));
        }
        ASSIGN_OR_RETURN(std::string cast, PyNumberCast(c));
        fmt::format_to(std::back_inserter(*out), "    if x is not None:  # cast\n        x = {}\n",
                       cast);
        break;
      }
      if (type == core::FieldType::kUuid) {
        out->append(
            "    if x is not None:  # a uuid is read in lower case\n        x = x.lower()\n");
      }
      if (c.trim) out->append("    if x is not None:  # trim\n        x = _trim(x)\n");
      RETURN_IF_ERROR(AppendTextRulesAndCast(c, out));
      break;
    }
    case ColumnRules::Source::kArray: {
      std::string absent;
      std::string items;
      for (size_t f : c.fields) {
        absent += fmt::format("v[{}] is None or ", f);
        items += fmt::format("float(v[{}]), ", f);
      }
      absent.resize(absent.size() - 4);
      std::string names;
      for (size_t f : c.fields) names += field_name(f) + " ";
      fmt::format_to(std::back_inserter(*out),
                     "    # {}: array of {}\n    x = None if {} else [{}]\n", c.name, names, absent,
                     items);
      break;
    }
    case ColumnRules::Source::kConcat: {
      std::string absent;
      std::string parts;
      std::string names;
      for (size_t f : c.fields) {
        absent += fmt::format("v[{}] is None or ", f);
        std::string part = fmt::format("v[{}]", f);
        if (c.trim) part = "_trim(" + part + ")";
        if (schema.fields[f].type == core::FieldType::kUuid) part += ".lower()";
        parts += part + ", ";
        names += field_name(f) + " ";
      }
      absent.resize(absent.size() - 4);
      fmt::format_to(std::back_inserter(*out),
                     "    # {}: concat of {}(each part trimmed: {})\n"
                     "    x = None if {} else {}.join([{}])\n",
                     c.name, names, c.trim ? "yes" : "no", absent, PyStringLiteral(c.separator),
                     parts);
      RETURN_IF_ERROR(AppendTextRulesAndCast(c, out));
      break;
    }
  }
  fmt::format_to(std::back_inserter(*out), "    row[{}] = x\n\n", index);
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> ExportSparkJob(const Transform& transform,
                                     const SparkExportOptions& options) {
  std::string out;
  fmt::format_to(
      std::back_inserter(out),
      "#!/usr/bin/env python3\n"
      "\"\"\"pinpipe's batch job on Apache Spark, generated by `pinpipe export-spark` "
      "from {}.\n\n"
      "Reads days of the lake that `pinpipe archive` writes and writes the rows of the "
      "tables that\n`pinpipe batch` loads (PostgreSQL COPY text) and its dead letters "
      "(JSON lines):\n"
      "  <out>/table=<table>/dt=D/part-*.txt, <out>/table=_rejected_<kind>/dt=D/part-*.txt\n"
      "Do not edit: change the transform file and export again.\n\"\"\"\n\n",
      options.source_name);
  fmt::format_to(std::back_inserter(out), "JOB_NAME = {}\n\n", PyStringLiteral("export-spark"));

  // The value rules' tables (transform/value_rules.h).
  out.append("# The characters `trim` removes (transform::kTrimSpaceCodePoints).\nTRIM_CHARS = \"");
  for (const char32_t cp : kTrimSpaceCodePoints) AppendPyEscape(cp, &out);
  out.append("\"\n# Follower-count suffixes (transform::kCountSuffixes).\nCOUNT_SUFFIXES = {");
  for (const CountSuffix& s : kCountSuffixes) {
    fmt::format_to(std::back_inserter(out), "\"{}\": {}, ", s.letter, s.multiplier);
  }
  fmt::format_to(std::back_inserter(out), "}}\nMAX_COUNT_DIGITS = {}\n\n", kMaxCountDigits);

  // The validator's messages (core::validator_messages).
  namespace m = core::validator_messages;
  const std::pair<std::string_view, std::string_view> messages[] = {
      {"missing", m::kMissing},
      {"int_type", m::kIntType},
      {"float_type", m::kFloatType},
      {"string_type", m::kStringType},
      {"uuid_type", m::kUuidType},
      {"datetime_type", m::kDatetimeType},
      {"extra", m::kExtra},
      {"duplicate", m::kDuplicate},
      {"nul", m::kNul},
      {"not_object", m::kNotObject},
      {"ge_prefix", m::kGreaterEqualPrefix},
      {"le_prefix", m::kLessEqualPrefix},
      {"uuid_parsing_prefix", m::kUuidParsingPrefix},
      {"datetime_parsing_prefix", m::kDatetimeParsingPrefix},
      {"json_invalid_prefix", m::kJsonInvalidPrefix},
  };
  out.append("# The record validator's messages (core::validator_messages).\nMSG = {\n");
  for (const auto& [key, text] : messages) {
    fmt::format_to(std::back_inserter(out), "    \"{}\": {},\n", key, PyStringLiteral(text));
  }
  out.append("}\n\n");

  // The record schemas (core::SchemaFor): (name, type, required, min, max) per field.
  out.append(
      "# The record schemas (core::SchemaFor): (field, type, required, min, max).\nSCHEMAS = {\n");
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const core::RecordSchema& schema = core::SchemaFor(kind);
    fmt::format_to(std::back_inserter(out), "    \"{}\": (\n", schema.name);
    for (const core::FieldSpec& f : schema.fields) {
      fmt::format_to(std::back_inserter(out), "        ({}, \"{}\", {}, {}, {}),\n",
                     PyStringLiteral(f.name), PyFieldType(f.type), f.required ? "True" : "False",
                     f.min, f.max);
    }
    out.append("    ),\n");
  }
  out.append("}\n\n\n");

  // One function per table: the column rules, then drop_if_null.
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const core::RecordSchema& schema = core::SchemaFor(kind);
    const TableDef& def = transform.table(kind);
    const std::vector<ColumnRules> columns = transform.DescribeColumns(kind);
    fmt::format_to(std::back_inserter(out),
                   "def clean_{}(v):\n"
                   "    \"\"\"A valid {} record's field values (SCHEMAS[\"{}\"] order) -> the row "
                   "of {},\n    or None when drop_if_null drops it.\"\"\"\n"
                   "    row = [None] * {}\n",
                   schema.name, schema.name, schema.name, def.table, columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      RETURN_IF_ERROR(AppendColumn(schema, i, columns[i], &out));
    }
    for (size_t d : def.drop_if_null_columns) {
      fmt::format_to(std::back_inserter(out),
                     "    if row[{}] is None:  # drop_if_null {}\n        return None\n", d,
                     def.columns[d].name);
    }
    out.append("    return row\n\n\n");
  }

  out.append(
      "# One entry per record kind: its table, columns, types and dedup column.\nKINDS = [\n");
  for (core::RecordKind kind : core::kAllRecordKinds) {
    const core::RecordSchema& schema = core::SchemaFor(kind);
    const TableDef& def = transform.table(kind);
    std::string names;
    std::string types;
    for (const ColumnDef& c : def.columns) {
      names += PyStringLiteral(c.name) + ", ";
      types += fmt::format("\"{}\", ", internal::ColumnTypeName(c.type));
    }
    fmt::format_to(std::back_inserter(out),
                   "    {{\"name\": \"{}\", \"topic\": {}, \"table\": {}, \"clean\": clean_{},\n"
                   "     \"columns\": [{}],\n     \"types\": [{}],\n     \"dedup\": {}}},\n",
                   schema.name, PyStringLiteral(options.topics[static_cast<size_t>(kind)]),
                   PyStringLiteral(def.table), schema.name, names, types,
                   def.dedup_column ? std::to_string(*def.dedup_column) : "None");
  }
  out.append("]\n\n");
  out.append(internal::kSparkJobRuntime);
  return out;
}

}  // namespace pinpipe::transform
