#include "core/json_writer.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "core/check.h"
#include "core/record_validator.h"

namespace pinpipe::core {

void JsonWriter::BeforeValue() {
  if (stack_.empty()) return;
  Level& level = stack_.back();
  if (level.object) {
    PINPIPE_CHECK(level.after_key) << "JsonWriter: a value in an object needs a Key() first";
    level.after_key = false;
    return;
  }
  if (!level.empty) out_->push_back(',');
  level.empty = false;
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  stack_.push_back({.object = true});
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  PINPIPE_CHECK(!stack_.empty() && stack_.back().object && !stack_.back().after_key)
      << "JsonWriter: EndObject without a matching BeginObject";
  stack_.pop_back();
  out_->push_back('}');
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  stack_.push_back({.object = false});
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  PINPIPE_CHECK(!stack_.empty() && !stack_.back().object)
      << "JsonWriter: EndArray without a matching BeginArray";
  stack_.pop_back();
  out_->push_back(']');
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  PINPIPE_CHECK(!stack_.empty() && stack_.back().object && !stack_.back().after_key)
      << "JsonWriter: Key outside an object or twice";
  Level& level = stack_.back();
  if (!level.empty) out_->push_back(',');
  level.empty = false;
  level.after_key = true;
  AppendJsonString(name, out_);
  out_->push_back(':');
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(value, out_);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  fmt::format_to(std::back_inserter(*out_), "{}", value);
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_->append("null");
  } else {
    fmt::format_to(std::back_inserter(*out_), "{}", value);
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  return *this;
}

JsonWriter& JsonWriter::OptionalString(const std::optional<std::string>& value) {
  return value ? String(*value) : Null();
}

JsonWriter& JsonWriter::OptionalInt(const std::optional<int64_t>& value) {
  return value ? Int(*value) : Null();
}

JsonWriter& JsonWriter::OptionalDouble(const std::optional<double>& value) {
  return value ? Double(*value) : Null();
}

}  // namespace pinpipe::core
