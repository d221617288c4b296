// Record schemas: each record kind (pin, geo, user) is defined once, as a table of fields, with
// its default Kafka topic and the field that holds its event time. Validation, the OpenAPI
// document, the synthetic data generator, the event-time rule (core/event_time.h) and every
// component's default topics are driven by these tables; no other C++ code lists the fields,
// the topics or the event-time fields again.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
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
  std::string_view name;          // "pin", "geo", "user"
  std::string_view source_table;  // "pinterest_data", "geolocation_data", "user_data"
  std::string_view key_field;     // "index" for pin, "ind" for geo and user
  // The Kafka topic of this kind unless a command is told otherwise (its --topic-* flag):
  // "pinterest", "pinterest_geo", "pinterest_user".
  std::string_view default_topic;
  // The kTimestamp field holding the time of the event ("timestamp" for geo, "date_joined" for
  // user); "" for pin, which carries none. See core/event_time.h for how it is used.
  std::string_view event_time_field;
  std::span<const FieldSpec> fields;  // in canonical (database column) order

  // Index of the field called `name`, or nullopt.
  std::optional<size_t> FieldIndex(std::string_view name) const;
};

const RecordSchema& SchemaFor(RecordKind kind);
std::string_view RecordKindName(RecordKind kind);
std::optional<RecordKind> ParseRecordKind(std::string_view name);

// SchemaFor(kind).default_topic as a string (the type of the topic options and flags).
std::string DefaultTopic(RecordKind kind);
// The three default topics, indexed by RecordKind.
std::array<std::string, 3> DefaultTopics();

}  // namespace pinpipe::core
