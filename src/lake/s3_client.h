// S3Client: sends SigV4-signed HTTP requests to one bucket over libcurl, with retries.
//
// It builds the URL for the configured addressing (path-style http://endpoint/bucket/key or
// virtual-hosted http://bucket.endpoint/key), encodes the key exactly as it is signed, signs each
// attempt afresh (x-amz-date must be current), and retries connection errors, timeouts, 5xx,
// 429 and the other retriable answers of lake/s3_errors.h up to max_attempts tries with full
// jitter back-off. Any other answer, success or not, is returned to the caller, which maps it
// with StatusFromS3 (only the caller knows e.g. that 412 means AlreadyExists).
//
// Thread-safety: Send may be called from many threads at once; each request leases its own curl
// handle from a pool (lake/internal/curl_pool.h), so connections are reused but never shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "lake/internal/curl_pool.h"
#include "lake/s3_config.h"
#include "lake/sigv4.h"

namespace pinpipe::lake {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct S3Request {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string key;             // full object key in the bucket; empty for bucket requests
  HeaderPairs query;           // plain names/values, encoded by the client
  HeaderPairs headers;         // extra headers, all signed (Content-Type, If-None-Match, Range)
  std::string_view body;       // must outlive Send
  std::string operation;       // "PutObject pin/x.jsonl", for messages
};

struct S3Response {
  int status = 0;
  std::string body;
  HeaderPairs headers;  // of the final response, names as received
  int attempts = 0;     // tries it took, 1 when the first one answered

  // Case-insensitive; "" when absent.
  std::string_view Header(std::string_view name) const;
};

class S3Client {
 public:
  S3Client(S3Config config, std::string bucket);

  // The final answer (any HTTP status) or, when no attempt got an answer, the transport error
  // (Unavailable, DeadlineExceeded, ...). A retriable HTTP answer that persisted through every
  // attempt is returned as the answer.
  StatusOr<S3Response> Send(const S3Request& request);

  const S3Config& config() const { return config_; }
  const std::string& bucket() const { return bucket_; }
  // HTTP requests sent (every attempt counts). Any thread.
  uint64_t requests_sent() const { return requests_sent_.load(std::memory_order_relaxed); }

  // "http://127.0.0.1:9000/bucket/key?x=y" as sent (for tests and messages).
  std::string Url(const S3Request& request) const;

 private:
  // One attempt. `payload_hash` is computed once per request.
  StatusOr<S3Response> SendOnce(const S3Request& request, const std::string& payload_hash);
  std::string HostHeader() const;
  std::string Path(const S3Request& request) const;  // unencoded, starting with '/'

  const S3Config config_;
  const std::string bucket_;
  const SigV4Signer signer_;
  internal::CurlPool pool_;
  std::atomic<uint64_t> requests_sent_{0};
};

}  // namespace pinpipe::lake
