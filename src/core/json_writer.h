// JsonWriter: appends a JSON document to a string, one value at a time, placing the commas and
// colons itself. Strings go through core::AppendJsonString (the project's one escaper), so the
// caller must hand it valid UTF-8 (see core/utf8_text.h for bytes of unknown origin). Numbers:
// integers as they are, doubles in their shortest round-trip form, NaN and infinities as null
// (JSON has none).
//
// The writer checks its own nesting with PINPIPE_CHECK (a key outside an object, an unbalanced
// End): a mistake in the caller's code, never something input can cause. Not thread-safe; a
// value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::core {

class JsonWriter {
 public:
  // Appends to `out` (not owned; must outlive the writer).
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The next value's name; only inside an object, once per value.
  JsonWriter& Key(std::string_view name);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value already encoded as JSON (e.g. a body rendered elsewhere), copied as it is.
  JsonWriter& Raw(std::string_view json);
  // nullopt is null.
  JsonWriter& OptionalString(const std::optional<std::string>& value);
  JsonWriter& OptionalInt(const std::optional<int64_t>& value);
  JsonWriter& OptionalDouble(const std::optional<double>& value);

  // True when every object and array begun has ended.
  bool complete() const { return stack_.empty(); }

 private:
  // Before a value: the comma (or the key's colon was already written).
  void BeforeValue();

  struct Level {
    bool object = false;
    bool empty = true;
    bool after_key = false;
  };
  std::string* out_;
  std::vector<Level> stack_;
};

}  // namespace pinpipe::core
