// RecordValidator: strict validation of one JSON record against its kind's schema table.
//
// The rules (see docs/design.md "Record kinds and schemas"): top-level JSON object; exact JSON
// types; every required field present; no unknown fields; no duplicate keys; valid UTF-8; no NUL
// in strings; nothing after the document but whitespace; timestamps in either accepted form and a
// real calendar date; numeric ranges per the schema table. Keys may come in any order.
//
// Thread-safety: an instance owns a simdjson parser and scratch buffers, so it is NOT thread-safe;
// use one per thread. Validate() does not allocate in the steady state beyond what it writes out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/record_schema.h"

namespace pinpipe::core {

// One field-level error, rendered by the API as a FastAPI/pydantic v2 detail item:
//   {"loc":["body", <field>], "msg": msg, "type": type}
// `field` is empty when the error concerns the whole body (loc is then ["body"]).
struct FieldError {
  std::string field;
  std::string msg;   // human readable, e.g. "Input should be a valid integer"
  std::string type;  // pydantic v2 error type, e.g. "int_type", "missing", "json_invalid"

  friend bool operator==(const FieldError&, const FieldError&) = default;
};

// Every FieldError::type that RecordValidator produces: a closed set, so a metric may use the
// type as a label (tests check each error the validator reports against this list).
inline constexpr std::string_view kFieldErrorTypes[] = {"json_invalid",    "model_attributes_type",
                                                        "missing",         "extra_forbidden",
                                                        "duplicate_key",   "int_type",
                                                        "float_type",      "greater_than_equal",
                                                        "less_than_equal", "string_type",
                                                        "string_nul",      "uuid_type",
                                                        "uuid_parsing",    "datetime_type",
                                                        "datetime_parsing"};

// The fixed messages of the validator's errors (pydantic v2's, so clients written against the
// original FastAPI service keep working), public so that code which states the schema checks in
// another language (src/spark/spark_export.h) takes them from here. Messages with a variable
// part start with a prefix here: "Input should be greater than or equal to " + bound,
// "Input should be a valid UUID, " + why, "Input should be a valid datetime, " + why,
// "JSON decode error: " + why.
namespace validator_messages {
inline constexpr std::string_view kMissing = "Field required";
inline constexpr std::string_view kIntType = "Input should be a valid integer";
inline constexpr std::string_view kFloatType = "Input should be a valid number";
inline constexpr std::string_view kStringType = "Input should be a valid string";
inline constexpr std::string_view kUuidType = "UUID input should be a string, bytes or UUID object";
inline constexpr std::string_view kDatetimeType = "Input should be a valid datetime";
inline constexpr std::string_view kExtra = "Extra inputs are not permitted";
inline constexpr std::string_view kDuplicate = "Duplicate key in JSON object";
inline constexpr std::string_view kNul =
    "String should not contain the NUL character (U+0000): PostgreSQL text cannot store it";
inline constexpr std::string_view kNotObject =
    "Input should be a valid dictionary or object to extract fields from";
inline constexpr std::string_view kGreaterEqualPrefix = "Input should be greater than or equal to ";
inline constexpr std::string_view kLessEqualPrefix = "Input should be less than or equal to ";
inline constexpr std::string_view kUuidParsingPrefix = "Input should be a valid UUID, ";
inline constexpr std::string_view kDatetimeParsingPrefix = "Input should be a valid datetime, ";
inline constexpr std::string_view kJsonInvalidPrefix = "JSON decode error: ";
}  // namespace validator_messages

// The errors as one line, "field: msg (type); ..." ("body" for whole-body errors), or `fallback`
// ("invalid record" if empty) when there are none: the dead-letter reason of both layers
// (pinpipe_dead_letters.reason and the batch job's _rejected files), which the differential
// test compares, so it is written once here.
std::string FieldErrorsText(const std::vector<FieldError>& errors, std::string_view fallback);

struct ValidatedRecord {
  RecordKind kind = RecordKind::kPin;
  // The key field's value as a decimal string ("7528"): the Kafka message key.
  std::string key;
  // The validated record re-serialised as compact JSON, fields in schema order, strings
  // byte-exact (only `"`, `\` and control characters escaped) except UUIDs, which are written
  // in lower case as pydantic's UUID type prints them (core/uuid_text.h). Used as the API's
  // answer.
  std::string canonical_json;
};

// The value of one schema field as the last successful Validate() saw it. Strings are unescaped
// and byte-exact; they point into the validated `json` itself (a string without escapes, read by
// the fast path) or into the validator's parser buffer: valid until the next Validate() call and
// only while `json` is.
struct FieldValue {
  enum class Type : uint8_t { kAbsent, kInt, kDouble, kString };
  Type type = Type::kAbsent;
  int64_t int_value = 0;          // kInt
  double double_value = 0;        // kDouble (a kNumber field written with a fraction or exponent)
  std::string_view string_value;  // kString (kString, kUuid and kTimestamp fields)
};

class RecordValidator {
 public:
  // How records are parsed. kFastPathFirst (the default): a one-pass scanner takes the common
  // record (a flat object of schema fields with numbers and strings without escapes) and leaves
  // everything else, errors included, to simdjson's DOM parser; results and errors are the same
  // either way (the fuzz target compares the two on every input). kSimdjsonOnly: always the DOM
  // parser; for tests and comparisons.
  enum class Parser { kFastPathFirst, kSimdjsonOnly };

  explicit RecordValidator(Parser parser = Parser::kFastPathFirst);
  ~RecordValidator();
  RecordValidator(const RecordValidator&) = delete;
  RecordValidator& operator=(const RecordValidator&) = delete;

  // Validates `json` (the exact bytes of one record) as a record of `kind`.
  // Returns true and fills `*out` when valid. Returns false and appends one or more errors to
  // `*errors` otherwise (all field errors found, not just the first; a JSON syntax error is one
  // error with type "json_invalid").
  // `out` may be null: the record is then only checked (no canonical JSON is built), which is
  // what the transform wants.
  bool Validate(RecordKind kind, std::string_view json, ValidatedRecord* out,
                std::vector<FieldError>* errors);

  // After Validate() returned true: the value of each schema field, by schema index (size =
  // SchemaFor(kind).fields.size()); an optional field that was not sent is kAbsent. Lets a caller
  // read the fields without parsing the JSON a second time. Unspecified after a failed Validate().
  std::span<const FieldValue> values() const;

  // How many Validate() calls each parser settled since construction: `fast_path` records the
  // fast path took whole, `simdjson` the others (failed records included). Lets tests see that
  // the common record really takes the fast path.
  struct ParserCounts {
    uint64_t fast_path = 0;
    uint64_t simdjson = 0;
  };
  ParserCounts parser_counts() const;

 private:
  struct Impl;
  Impl* impl_;  // owned; pimpl keeps simdjson out of this header
};

// Appends `s` to `out` as a JSON string literal (with quotes), escaping only `"`, `\` and
// control characters below U+0020; all other bytes (valid UTF-8) are copied as they are.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace pinpipe::core
