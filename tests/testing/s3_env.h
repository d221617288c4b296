// S3 for integration tests: the S3-compatible server (MinIO) started by scripts/test, announced
// through PINPIPE_TEST_S3_ENDPOINT, PINPIPE_TEST_S3_BUCKET, PINPIPE_TEST_S3_ACCESS_KEY and
// PINPIPE_TEST_S3_SECRET_KEY. Each test works under its own key prefix, removed afterwards, so
// tests can run in parallel and leave nothing behind.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lake/s3_options.h"
#include "lake/s3_store.h"

namespace pinpipe::testing {

struct TestS3 {
  std::string endpoint;  // "http://127.0.0.1:39000"
  std::string bucket;    // "pinpipe"
  std::string access_key;
  std::string secret_key;
};

// The server from the environment, or nullopt when PINPIPE_TEST_S3_ENDPOINT is unset (tests then
// GTEST_SKIP).
std::optional<TestS3> TestS3FromEnv();

// S3Options for that server: endpoint, fixed credentials, path-style, short back-off (tests).
lake::S3Options TestS3Options(const TestS3& s3);

// An S3Store on "s3://<bucket>/pinpipe-test-<pid>-<n>-<name>/" that deletes every object under
// its prefix on destruction. `ok()` is false when the store could not be opened.
class ScratchS3Prefix {
 public:
  ScratchS3Prefix(const TestS3& s3, const std::string& name, const lake::S3Options& options);
  ScratchS3Prefix(const TestS3& s3, const std::string& name)
      : ScratchS3Prefix(s3, name, TestS3Options(s3)) {}
  ~ScratchS3Prefix();
  ScratchS3Prefix(const ScratchS3Prefix&) = delete;
  ScratchS3Prefix& operator=(const ScratchS3Prefix&) = delete;

  bool ok() const { return store_ != nullptr; }
  const std::string& error() const { return error_; }
  lake::S3Store& store() { return *store_; }
  // "pinpipe-test-123-0-name/"
  const std::string& prefix() const { return prefix_; }
  // "s3://pinpipe/pinpipe-test-123-0-name/" for OpenObjectStore.
  std::string url() const;

 private:
  TestS3 s3_;
  std::string prefix_;
  std::unique_ptr<lake::S3Store> store_;
  std::string error_;
};

}  // namespace pinpipe::testing
