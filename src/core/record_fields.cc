#include "core/record_fields.h"

#include <simdjson.h>

#include <string>

namespace pinpipe::core {

struct RecordFieldReader::Impl {
  simdjson::ondemand::parser parser;
  std::string buffer;  // the record plus SIMDJSON_PADDING bytes, reused

  // Finds `field` in the top-level object of `json`; false when there is none.
  bool Find(std::string_view json, std::string_view field, simdjson::ondemand::value* out) {
    buffer.assign(json);
    buffer.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::padded_string_view view(buffer.data(), json.size(), buffer.size());
    if (parser.iterate(view).get(doc) != simdjson::SUCCESS) return false;
    simdjson::ondemand::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return false;
    return object.find_field_unordered(field).get(*out) == simdjson::SUCCESS;
  }

  simdjson::ondemand::document doc;  // alive while a found value is read
};

RecordFieldReader::RecordFieldReader() : impl_(std::make_unique<Impl>()) {}
RecordFieldReader::~RecordFieldReader() = default;

std::optional<std::string_view> RecordFieldReader::String(std::string_view json,
                                                          std::string_view field) {
  simdjson::ondemand::value value;
  if (!impl_->Find(json, field, &value)) return std::nullopt;
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<int64_t> RecordFieldReader::Int(std::string_view json, std::string_view field) {
  simdjson::ondemand::value value;
  if (!impl_->Find(json, field, &value)) return std::nullopt;
  int64_t v = 0;
  if (value.get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

}  // namespace pinpipe::core
