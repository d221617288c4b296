// SplitBulk: cuts a bulk request body into the exact bytes of each record.
//
// Two body formats are accepted:
//   * a JSON array of records: `[{...}, {...}]` (detected by its first non-blank byte '[');
//   * NDJSON: one record per line; blank lines are not items; a trailing "\r" is dropped.
// Items are returned as views into `body` (the bytes the client sent, so the Kafka message is
// byte-for-byte what was posted). Each item is validated later on its own, so a bad item costs
// only that item. Only the array's own framing is checked here (brackets, strings, commas); an
// error there concerns the whole body and is returned as InvalidArgument naming the byte offset.
// Pure function, thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::ingest {

enum class BulkFormat { kJsonArray, kNdjson };

struct BulkItems {
  BulkFormat format = BulkFormat::kNdjson;
  std::vector<std::string_view> items;
};

// `max_items` bounds the work one request can cause; more items give ResourceExhausted.
StatusOr<BulkItems> SplitBulk(std::string_view body, size_t max_items);

}  // namespace pinpipe::ingest
