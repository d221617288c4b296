// libFuzzer target for RecordValidator. The first byte picks the record kind, the rest is the
// record. Besides "no crash, no sanitizer report", it checks a real property: canonical JSON is a
// fixed point, i.e. a record that validates re-validates from its canonical JSON to the same
// canonical JSON and key (so the API's answer is itself a valid request); and the validator's
// fast path (the default) gives exactly what the simdjson-only path gives: the same verdict, the
// same errors, the same canonical JSON and the same field values, bit for bit; and a UUID comes
// back in canonical (lower) case.
// Seed corpus: tests/fuzz/corpus/record_validator/ (one kind byte + a tests/data/records file).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/record_schema.h"
#include "core/record_validator.h"
#include "core/uuid_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pinpipe::core::FieldError;
  using pinpipe::core::RecordKind;
  using pinpipe::core::RecordValidator;
  using pinpipe::core::ValidatedRecord;
  if (size == 0) return 0;
  // One validator for the whole run, as the ingest API keeps one per thread: this also fuzzes
  // the reuse of parser state and buffers across records.
  static RecordValidator* validator = new RecordValidator();
  const auto kind = static_cast<RecordKind>(data[0] % 3);
  const std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  ValidatedRecord first;
  std::vector<FieldError> errors;
  const bool ok = validator->Validate(kind, json, &first, &errors);
  PINPIPE_CHECK(ok == errors.empty()) << "result and errors disagree";

  // The same bytes through simdjson alone (a copy, so that no string can alias the input).
  static RecordValidator* reference = new RecordValidator(RecordValidator::Parser::kSimdjsonOnly);
  static RecordValidator* fast_values = new RecordValidator();
  const std::string copy(json);
  ValidatedRecord expected;
  std::vector<FieldError> expected_errors;
  const bool expected_ok = reference->Validate(kind, copy, &expected, &expected_errors);
  PINPIPE_CHECK(ok == expected_ok) << "fast path and simdjson disagree on validity";
  PINPIPE_CHECK(errors == expected_errors) << "fast path and simdjson report different errors";
  if (ok) {
    PINPIPE_CHECK(first.canonical_json == expected.canonical_json && first.key == expected.key)
        << "fast path and simdjson build different canonical JSON: " << first.canonical_json
        << " vs " << expected.canonical_json;
    // values() without canonical output (the transform's call).
    std::vector<FieldError> ignored;
    PINPIPE_CHECK(fast_values->Validate(kind, json, nullptr, &ignored)) << "check-only call";
    const std::span<const pinpipe::core::FieldValue> a = fast_values->values();
    const std::span<const pinpipe::core::FieldValue> b = reference->values();
    PINPIPE_CHECK(a.size() == b.size()) << "value counts differ";
    for (size_t i = 0; i < a.size(); ++i) {
      using Type = pinpipe::core::FieldValue::Type;
      bool same = a[i].type == b[i].type;
      if (same && a[i].type == Type::kInt) same = a[i].int_value == b[i].int_value;
      if (same && a[i].type == Type::kDouble) {
        same = std::memcmp(&a[i].double_value, &b[i].double_value, sizeof(double)) == 0;
      }
      if (same && a[i].type == Type::kString) same = a[i].string_value == b[i].string_value;
      PINPIPE_CHECK(same) << "field " << i << " differs between the fast path and simdjson";
    }
  }
  if (!ok) {
    for (const FieldError& e : errors) {
      PINPIPE_CHECK(!e.type.empty() && !e.msg.empty()) << "error without type or message";
    }
    return 0;
  }
  ValidatedRecord second;
  PINPIPE_CHECK(validator->Validate(kind, first.canonical_json, &second, &errors))
      << "canonical JSON does not validate: " << first.canonical_json << " first error: "
      << (errors.empty() ? "" : errors[0].field + " " + errors[0].type + " " + errors[0].msg);
  PINPIPE_CHECK(second.canonical_json == first.canonical_json)
      << "canonical JSON is not a fixed point: " << first.canonical_json << " -> "
      << second.canonical_json;
  PINPIPE_CHECK(second.key == first.key && second.kind == first.kind) << "key changed";
  // A UUID comes back as the one sent, in canonical (lower) case.
  const auto& fields = pinpipe::core::SchemaFor(kind).fields;
  const std::span<const pinpipe::core::FieldValue> sent = reference->values();  // of `copy`
  const std::span<const pinpipe::core::FieldValue> answered = validator->values();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].type != pinpipe::core::FieldType::kUuid) continue;
    std::string lowered;
    pinpipe::core::AppendLowerCaseUuid(sent[i].string_value, &lowered);
    PINPIPE_CHECK(answered[i].string_value == lowered &&
                  pinpipe::core::IsLowerCaseUuid(answered[i].string_value))
        << "UUID not canonical in the answer: " << sent[i].string_value << " -> "
        << answered[i].string_value;
  }
  return 0;
}
