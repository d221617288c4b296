// Reading the archive's own small JSON documents (segment manifests, done markers, the _SUCCESS
// marker): the root object of a document, and typed field access over it that remembers the
// first error. Internal to src/archive/; a Fields is used by one thread at a time.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::archive::internal {

// Field access over a parsed JSON object that remembers the first error, so a parser reads like
// a list of fields instead of a ladder of ifs.
class Fields {
 public:
  Fields(simdjson::dom::object object, std::string_view what) : object_(object), what_(what) {}

  int64_t Int(std::string_view name);
  std::optional<int64_t> OptionalInt(std::string_view name);
  // A string field that older files may lack: `missing` then.
  std::string OptionalString(std::string_view name, std::string_view missing);
  std::string String(std::string_view name);
  simdjson::dom::array Array(std::string_view name);
  // Calls `each(element_fields)` for every object of the array `name`; stops at the first
  // element that is not an object or whose fields fail. Returns the first error.
  template <typename F>
  Status EachObject(std::string_view name, std::string_view element_what, F each) {
    const simdjson::dom::array array = Array(name);
    RETURN_IF_ERROR(status_);
    for (simdjson::dom::element e : array) {
      simdjson::dom::object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) {
        Fail(name, "an array of objects");
        break;
      }
      Fields of(o, element_what);
      each(of);
      RETURN_IF_ERROR(of.status());
    }
    return status_;
  }
  // Records InvalidArgument "<what>: field "<name>" must be <expected>" unless an error is
  // already recorded.
  void Fail(std::string_view name, std::string_view expected);
  const Status& status() const { return status_; }

 private:
  simdjson::dom::object object_;
  std::string_view what_;
  Status status_;
};

// The root object of `json`; InvalidArgument "<what>: ..." when it is not valid JSON or not an
// object. The object lives in `parser`.
StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view json,
                                            std::string_view what);

}  // namespace pinpipe::archive::internal
