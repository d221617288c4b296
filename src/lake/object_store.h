// ObjectStore: the batch layer's view of object storage (a local directory or an S3 bucket).
//
// Keys are '/'-separated UTF-8 paths relative to the store's root ("pin/2024/01/01/part-0.jsonl");
// both implementations accept exactly the same keys (lake/object_key.h), so code tested against
// the local store behaves the same on S3. Objects are immutable blobs: a Put or a writer's Close
// replaces the whole object atomically, a reader never sees a partial object.
//
// Errors say how to react (core/status.h): NotFound (no such object), AlreadyExists (a
// conditional create lost), InvalidArgument (bad key or request: permanent), Unauthenticated
// (the server refused the credentials or the request's permissions, HTTP 401/403: permanent until
// someone fixes the configuration), Unavailable / DeadlineExceeded / ResourceExhausted (network
// errors, 5xx, throttling: retriable; the S3 store has already retried with back-off before
// returning them), FailedPrecondition (the server cannot do what was asked, e.g. 501), Internal.
//
// Thread-safety: every ObjectStore method may be called from several threads at once. An
// ObjectWriter is used by one thread at a time. A store must outlive its writers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/s3_options.h"

namespace pinpipe::lake {

struct ObjectInfo {
  std::string key;  // relative to the store's root (and the s3:// URL's prefix)
  uint64_t size = 0;
  // Opaque version tag, without quotes: changes when the content changes. S3: the server's ETag
  // (the MD5 of the bytes for single-PUT objects). Local: derived from inode, size and mtime.
  std::string etag;
  std::chrono::system_clock::time_point last_modified{};

  friend bool operator==(const ObjectInfo&, const ObjectInfo&) = default;
};

struct PutOptions {
  // Conditional create: fail with AlreadyExists when the key exists, so that two writers racing
  // for one key cannot both win. Local: link()/renameat2(RENAME_NOREPLACE). S3: the
  // `If-None-Match: *` header (HTTP 412 -> AlreadyExists); see docs/design.md for servers that
  // ignore the header.
  bool if_none_match = false;
  // Stored with the object (S3 Content-Type); ignored by the local store.
  std::string content_type = "application/octet-stream";
};

// A streaming upload of one object. Nothing is visible under the key until Close() succeeds.
// Destroying a writer without a successful Close() abandons the upload (temp file removed,
// S3 multipart upload aborted). Not thread-safe: one thread at a time.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;

  // Adds bytes to the object. May upload (S3: one part each time part_size is exceeded).
  // After an error the writer is failed: every later call returns the same error.
  virtual Status Append(std::string_view bytes) = 0;
  // Commits the object. AlreadyExists when the writer was opened with if_none_match and the key
  // exists; on any error nothing is committed (a started multipart upload is aborted). A second
  // Close() returns the first one's result; Append() after Close() is FailedPrecondition.
  virtual Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t bytes_appended() const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `bytes` under `key`, replacing an existing object unless options.if_none_match (then
  // AlreadyExists). InvalidArgument for a bad key.
  virtual Status Put(std::string_view key, std::string_view bytes, const PutOptions& options) = 0;
  Status Put(std::string_view key, std::string_view bytes) { return Put(key, bytes, PutOptions{}); }

  // The whole object. NotFound when absent.
  virtual StatusOr<std::string> Get(std::string_view key) = 0;

  // Size and etag, or nullopt when the object does not exist.
  virtual StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) = 0;

  // Every object whose key starts with `prefix` (a plain string prefix, not only whole path
  // segments: "pin/2024-0" matches "pin/2024-01/x"), all pages, sorted by key (byte order).
  virtual StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;

  // Removes the object. Deleting a missing key is OK (S3 semantics), so a retry is harmless.
  virtual Status Delete(std::string_view key) = 0;

  // A streaming writer for large objects (see ObjectWriter). InvalidArgument for a bad key.
  virtual StatusOr<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key,
                                                            const PutOptions& options) = 0;

  // "file:///data/lake" or "s3://bucket/prefix", for logs.
  virtual std::string Describe() const = 0;

  // Network requests sent so far, retries included (S3: HTTP requests); 0 for a store that
  // sends none (local). For metrics and benchmarks. Any thread.
  virtual uint64_t requests_sent() const { return 0; }
};

// Opens a store by URL:
//   file:///abs/dir or a plain path (absolute or relative to the working directory): LocalStore,
//     the directory is created if missing;
//   s3://bucket or s3://bucket/some/prefix: S3Store; keys are stored under "some/prefix/".
// Settings missing from `s3` come from the environment and ~/.aws files (lake/s3_config.h).
// Errors: InvalidArgument for an unknown scheme or a malformed URL/bucket; the local store's or
// S3 configuration's errors. No request is sent to S3 here.
StatusOr<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url,
                                                       const S3Options& s3 = S3Options{});

}  // namespace pinpipe::lake
