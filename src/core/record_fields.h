// RecordFieldReader: reads one top-level field of a raw JSON record (the event time of the archiver
// and the speed layer, the archiver's record ids) without validating the record: the archiver
// stores records as they came and the batch job validates them later, so a malformed record only
// means "no such field here".
//
// Uses simdjson On-Demand over a reused padded copy of the record, so a lookup costs a copy of
// the record and a partial parse, no allocation in the steady state. With duplicate keys the
// first one wins. Not thread-safe (one parser per instance); strings returned are valid until
// the next call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace pinpipe::core {

class RecordFieldReader {
 public:
  RecordFieldReader();
  ~RecordFieldReader();
  RecordFieldReader(const RecordFieldReader&) = delete;
  RecordFieldReader& operator=(const RecordFieldReader&) = delete;

  // The unescaped value of `field` when `json` is an object whose `field` is a JSON string;
  // nullopt otherwise (not JSON, not an object, absent, another type).
  std::optional<std::string_view> String(std::string_view json, std::string_view field);
  // The value of `field` when it is a JSON integer that fits int64; nullopt otherwise.
  std::optional<int64_t> Int(std::string_view json, std::string_view field);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pinpipe::core
