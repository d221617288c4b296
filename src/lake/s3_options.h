// S3Options: what a caller may set for an S3 store. Every empty field is filled from the
// environment and the AWS shared files by ResolveS3Config (lake/s3_config.h); the defaults of the
// numeric fields are the ones used in production. Plain value type.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace pinpipe::lake {

enum class S3Addressing : uint8_t {
  kAuto,           // path-style for a custom endpoint or a bucket with dots, else virtual-hosted
  kPath,           // http://endpoint/bucket/key
  kVirtualHosted,  // http://bucket.endpoint/key
};

struct S3Options {
  // "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com". Empty: PINPIPE_S3_ENDPOINT,
  // AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS's regional
  // endpoint https://s3.<region>.amazonaws.com.
  std::string endpoint;
  // Empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else "us-east-1".
  std::string region;
  // Empty access key: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, else the
  // profile in ~/.aws/credentials, else in ~/.aws/config. Set both keys or neither.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // Empty: AWS_PROFILE, else "default".
  std::string profile;
  S3Addressing addressing = S3Addressing::kAuto;

  // Streaming uploads switch to multipart once more than part_size bytes were appended; every
  // part but the last has exactly part_size bytes. S3 needs at least 5 MiB.
  size_t part_size = 8 * 1024 * 1024;

  // Retries of retriable failures (connection errors, timeouts, 5xx, 503 SlowDown, 429): at most
  // max_attempts tries in all, sleeping a random time in [0, min(max_backoff,
  // initial_backoff * 2^n)] before retry n+1 ("full jitter").
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};

  std::chrono::milliseconds connect_timeout{5000};
  // A transfer is abandoned (and retried) when it moves no byte for this long. There is no total
  // timeout, so large objects on slow links are fine.
  std::chrono::seconds stall_timeout{30};
  // Idle connections kept for reuse (one per concurrent request up to this many).
  size_t max_idle_connections = 8;
};

}  // namespace pinpipe::lake
