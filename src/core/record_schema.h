// Record schemas: each record kind (pin, geo, user) is defined once, as a table of fields.
// Validation, the OpenAPI document, the synthetic data generator and (later) the transform and
// the PostgreSQL DDL are all driven by these tables; nothing else lists the fields again.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace pinpipe::core {

enum class RecordKind : uint8_t { kPin = 0, kGeo = 1, kUser = 2 };
inline constexpr RecordKind kAllRecordKinds[] = {RecordKind::kPin, RecordKind::kGeo,
                                                  RecordKind::kUser};

enum class FieldType : uint8_t {
  kInt,        // JSON integer (no fraction, no exponent), within [min, max]
  kNumber,     // JSON number (integer or float), within [min, max]
  kString,     // JSON string
  kUuid,       // JSON string holding a UUID (8-4-4-4-12 hex digits, any case)
  kTimestamp,  // JSON string "YYYY-MM-DD HH:MM:SS" or ISO 8601 with 'T' (+fraction, Z/offset)
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required = true;
  // Inclusive bounds for kInt and kNumber; ignored otherwise.
  double min = 0;
  double max = 0;
  std::string_view description;  // shown in the OpenAPI document
};

struct RecordSchema {
  RecordKind kind;
  std::string_view name;        // "pin", "geo", "user"
  std::string_view source_table;  // "pinterest_data", "geolocation_data", "user_data"
  std::string_view key_field;   // "index" for pin, "ind" for geo and user
  std::span<const FieldSpec> fields;  // in canonical (database column) order

  // Index of the field called `name`, or nullopt.
  std::optional<size_t> FieldIndex(std::string_view name) const;
};

const RecordSchema& SchemaFor(RecordKind kind);
std::string_view RecordKindName(RecordKind kind);
std::optional<RecordKind> ParseRecordKind(std::string_view name);

}  // namespace pinpipe::core
