// Distinct post ids for the load generator: `pinpipe emulate --distinct-from N` sends the n-th
// post it draws as a new post, with index/ind N + n and a unique_id that is a pure function of
// that index, so every record of a run is distinct and a benchmark can account for each one
// exactly (acknowledged = rows = lake records), where replays of the source posts would be
// de-duplicated by design. Everything else in the records comes from the drawn source post.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pinpipe::emulate {

// The largest index a distinct post may get: `ind` is an integer (int4) column downstream.
inline constexpr int64_t kMaxDistinctIndex = 2147483647;

// A version-4-shaped, lower-case UUID derived from `index` (a bijection of it, so different
// indexes never share a UUID).
std::string DistinctUuid(int64_t index);

// `record` (a pin, geo or user JSON object as record_json.h encodes it: `{"index":..,
// "unique_id":"..",` for pins, `{"ind":..,` for geo and user) with its id fields replaced by
// `index` (and DistinctUuid(index) for pins), appended to *out. Returns false (and appends
// nothing) when `record` does not start that way.
bool AppendWithDistinctIds(std::string_view record, int64_t index, std::string* out);

}  // namespace pinpipe::emulate
