// SigV4: AWS Signature Version 4 (header-based, "AWS4-HMAC-SHA256"), pure functions only: no
// clock, no I/O, so every step can be checked against AWS's published test vectors
// (tests/data/sigv4/) and the S3 examples of AWS's documentation.
//
// The steps: CanonicalRequest (method, URI-encoded path, sorted encoded query, lowercase sorted
// trimmed headers, signed header list, payload hash) -> StringToSign (algorithm, time, scope,
// SHA-256 of the canonical request) -> SigningKey (HMAC chain over date, region, service,
// "aws4_request") -> Signature (hex HMAC of the string to sign) -> Authorization header.
//
// S3 rules (the only service pinpipe talks to): the path is encoded once (no double encoding,
// no dot-segment normalization), '/' is kept in the path and encoded in query values; the
// payload hash is also sent as x-amz-content-sha256. Every header passed in is signed, so pass
// only the headers that will be sent. Thread-safety: a Signer is immutable after construction.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinpipe::lake {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials: sent and signed as x-amz-security-token
};

// One request as it will be sent. Names and values are plain (not yet percent-encoded).
struct SigV4Request {
  std::string method;                                        // "GET"
  std::string path;                                          // "/bucket/my key.txt"
  std::vector<std::pair<std::string, std::string>> query;    // {"prefix", "a/b"}, {"uploads", ""}
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, Host included
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

class SigV4Signer {
 public:
  SigV4Signer(SigV4Credentials credentials, std::string region, std::string service);

  // "20150830T123600Z" for a time point (UTC), the x-amz-date header value.
  static std::string AmzDate(std::chrono::system_clock::time_point now);

  // The canonical request (step 1). Header names are lowercased, values trimmed with inner runs
  // of spaces collapsed, repeated headers joined with ',' in order, all sorted by name.
  static std::string CanonicalRequest(const SigV4Request& request);
  // "host;range;x-amz-date": the lowercase, sorted, de-duplicated header names.
  static std::string SignedHeaders(const SigV4Request& request);
  // "20130524/us-east-1/s3/aws4_request" for amz_date "20130524T000000Z".
  std::string Scope(std::string_view amz_date) const;
  // Step 2.
  std::string StringToSign(std::string_view amz_date, std::string_view canonical_request) const;
  // Step 3: the raw 32-byte key for the date part ("20130524") of amz_date.
  std::string SigningKey(std::string_view amz_date) const;
  // Step 4: lowercase hex.
  std::string Signature(std::string_view amz_date, std::string_view string_to_sign) const;
  // The Authorization header value for `request` at `amz_date`. The request must already carry
  // the x-amz-date header (and x-amz-security-token when a session token is set).
  std::string Authorization(const SigV4Request& request, std::string_view amz_date) const;

  // Adds what an S3 request needs and signs it: x-amz-date, x-amz-content-sha256,
  // x-amz-security-token (if any), then Authorization. `request.headers` must hold Host.
  void SignS3Request(SigV4Request& request, std::chrono::system_clock::time_point now) const;

  const SigV4Credentials& credentials() const { return credentials_; }
  const std::string& region() const { return region_; }

 private:
  SigV4Credentials credentials_;
  std::string region_;
  std::string service_;
};

// URI encoding as SigV4 defines it: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase
// hex); '/' too unless keep_slash (paths). Spaces are %20, never '+'.
std::string UriEncode(std::string_view text, bool keep_slash);
// The inverse for "%XX" sequences ('+' stays '+'); false for a malformed escape.
bool UriDecode(std::string_view text, std::string* out);

// SHA-256 of the empty string, the payload hash of bodiless requests.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace pinpipe::lake
