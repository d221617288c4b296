// The compiled form of a transform file (transforms/pinterest.toml documents the format) and the
// compiler from TOML. Internal to src/transform: other modules use transform/transform.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/record_schema.h"
#include "core/status.h"
#include "transform/transform.h"

namespace pinpipe::transform::internal {

enum class SourceKind : uint8_t { kField, kArray, kConcat };

// Rule names, also the last part of the QualityStats keys.
enum class Rule : uint8_t { kTrim, kNullIf, kStripPrefix, kParse, kCast };
inline constexpr size_t kRuleCount = 5;
std::string_view RuleName(Rule rule);

struct CompiledColumn {
  std::string name;
  ColumnType type = ColumnType::kText;
  SourceKind source = SourceKind::kField;
  std::vector<size_t> fields;                             // schema field indexes (one for kField)
  core::FieldType field_type = core::FieldType::kString;  // of fields[0], for kField
  std::string separator;                                  // kConcat

  bool trim = false;
  std::vector<std::string> null_if;
  bool strip_prefix_set = false;
  std::string strip_prefix;
  bool parse_count_suffix = false;

  // "<kind>.<column>.<rule>", by Rule: built once so counting does not allocate.
  std::array<std::string, kRuleCount> stat_keys;
  // First QualityTally slot of this column: slot + rule * 3 + {0 changed, 1 nulled,
  // 2 unparseable}. Numbered by Transform's constructor.
  size_t tally_slot = 0;
};

struct CompiledTable {
  TableDef def;
  std::vector<CompiledColumn> columns;      // parallel to def.columns
  std::vector<std::string> drop_stat_keys;  // parallel to def.drop_if_null_columns
  std::vector<std::string> drop_reasons;    // parallel to def.drop_if_null_columns
  std::vector<size_t> drop_tally_slots;     // parallel to def.drop_if_null_columns
};

struct CompiledSpec {
  std::array<CompiledTable, 3> tables;  // by RecordKind value
};

// Compiles `text`; errors are InvalidArgument "<source_name>: <kind>.<column> (line N): what".
StatusOr<CompiledSpec> CompileSpec(std::string_view text, std::string_view source_name);

std::string_view ColumnTypeName(ColumnType type);     // as in the file: "double_array"
std::string_view ColumnTypeSqlName(ColumnType type);  // "double precision[]"

}  // namespace pinpipe::transform::internal
