// libFuzzer target for RecordValidator. The first byte picks the record kind, the rest is the
// record. Besides "no crash, no sanitizer report", it checks a real property: canonical JSON is a
// fixed point, i.e. a record that validates re-validates from its canonical JSON to the same
// canonical JSON and key (so the API's answer is itself a valid request).
// Seed corpus: tests/fuzz/corpus/record_validator/ (one kind byte + a tests/data/records file).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/record_schema.h"
#include "core/record_validator.h"

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
  return 0;
}
