// Readers for the S3 response bodies and headers pinpipe uses: the <Error> document, one page of
// ListObjectsV2, InitiateMultipartUpload's UploadId, CompleteMultipartUpload's result (which can
// be an <Error> inside a 200 answer), and S3's two time formats. Pure; safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::lake {

struct S3Error {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", "SlowDown", ...
  std::string message;  // the server's human-readable text
  std::string request_id;
};

// The <Error> document in `body`, or nullopt when the body is empty or not an S3 error.
std::optional<S3Error> ParseS3Error(std::string_view body);

struct ListPage {
  std::vector<ObjectInfo> objects;  // full keys, as the server sent them
  bool truncated = false;
  std::string next_continuation_token;
};

// A ListObjectsV2 result. Internal for a body that is not a ListBucketResult, or that says it is
// truncated without a continuation token (which would make the caller loop forever).
StatusOr<ListPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult; Internal when absent.
StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view body);

// "2024-01-31T12:00:00.000Z" (ListObjects' LastModified); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);
// "Wed, 31 Jan 2024 12:00:00 GMT" (the Last-Modified header); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);

// `"abc"` -> `abc` (ETags come quoted, sometimes as &quot; entities already decoded).
std::string UnquoteEtag(std::string_view etag);

}  // namespace pinpipe::lake
