#include "archive/json_fields.h"

#include <fmt/format.h>

namespace pinpipe::archive::internal {

int64_t Fields::Int(std::string_view name) {
  int64_t v = 0;
  if (object_[name].get_int64().get(v) != simdjson::SUCCESS) Fail(name, "an integer");
  return v;
}

std::optional<int64_t> Fields::OptionalInt(std::string_view name) {
  simdjson::dom::element e;
  if (object_[name].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) {
    Fail(name, "an integer or null");
    return std::nullopt;
  }
  return v;
}

std::string Fields::OptionalString(std::string_view name, std::string_view missing) {
  simdjson::dom::element e;
  if (object_[name].get(e) != simdjson::SUCCESS) return std::string(missing);
  return String(name);
}

std::string Fields::String(std::string_view name) {
  std::string_view v;
  if (object_[name].get_string().get(v) != simdjson::SUCCESS) Fail(name, "a string");
  return std::string(v);
}

simdjson::dom::array Fields::Array(std::string_view name) {
  simdjson::dom::array a;
  if (object_[name].get_array().get(a) != simdjson::SUCCESS) Fail(name, "an array");
  return a;
}

void Fields::Fail(std::string_view name, std::string_view expected) {
  if (status_.ok()) {
    status_ = InvalidArgument(fmt::format("{}: field \"{}\" must be {}", what_, name, expected));
  }
}

StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view json,
                                            std::string_view what) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return InvalidArgument(fmt::format("{}: not valid JSON", what));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidArgument(fmt::format("{}: not a JSON object", what));
  }
  return object;
}

}  // namespace pinpipe::archive::internal
