#include "testing/s3_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace pinpipe::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

std::optional<TestS3> TestS3FromEnv() {
  TestS3 s3;
  s3.endpoint = Env("PINPIPE_TEST_S3_ENDPOINT");
  if (s3.endpoint.empty()) return std::nullopt;
  s3.bucket = Env("PINPIPE_TEST_S3_BUCKET");
  if (s3.bucket.empty()) s3.bucket = "pinpipe";
  s3.access_key = Env("PINPIPE_TEST_S3_ACCESS_KEY");
  s3.secret_key = Env("PINPIPE_TEST_S3_SECRET_KEY");
  return s3;
}

lake::S3Options TestS3Options(const TestS3& s3) {
  lake::S3Options o;
  o.endpoint = s3.endpoint;
  o.access_key_id = s3.access_key;
  o.secret_access_key = s3.secret_key;
  o.region = "us-east-1";
  o.addressing = lake::S3Addressing::kPath;
  o.initial_backoff = std::chrono::milliseconds(20);
  o.max_backoff = std::chrono::milliseconds(200);
  return o;
}

ScratchS3Prefix::ScratchS3Prefix(const TestS3& s3, const std::string& name,
                                 const lake::S3Options& options)
    : s3_(s3) {
  static std::atomic<int> counter{0};
  prefix_ = "pinpipe-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1)) + "-" + name + "/";
  auto store = lake::S3Store::Open(s3.bucket, prefix_, options);
  if (!store.ok()) {
    error_ = store.status().ToString();
    return;
  }
  store_ = std::move(store).value();
}

ScratchS3Prefix::~ScratchS3Prefix() {
  if (!store_) return;
  auto objects = store_->List("");
  if (!objects.ok()) return;
  for (const lake::ObjectInfo& info : *objects) store_->Delete(info.key).IgnoreError();
}

std::string ScratchS3Prefix::url() const { return "s3://" + s3_.bucket + "/" + prefix_; }

}  // namespace pinpipe::testing
