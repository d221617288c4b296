// S3Store: an ObjectStore over one bucket of an S3-compatible service (AWS S3, MinIO, ...),
// optionally under a key prefix (s3://bucket/prefix/). Requests are signed with SigV4
// (lake/sigv4.h), sent by libcurl with keep-alive and retried with back-off (lake/s3_client.h);
// errors map through lake/s3_errors.h. Put/Get/Head/Delete are one request each; List follows
// ListObjectsV2 continuation tokens through every page; NewWriter streams large objects as a
// multipart upload (lake/s3_writer.h).
//
// Conditional create (if_none_match) relies on the server honouring `If-None-Match: *` (AWS S3
// since 2024, MinIO); a server that ignores the header silently overwrites (docs/design.md).
//
// Thread-safety: all methods may be called from many threads at once (each request uses its own
// pooled curl handle). Writers must not outlive the store.
#pragma once

#include <memory>
#include <string>

#include "lake/object_store.h"
#include "lake/s3_bucket.h"
#include "lake/s3_config.h"

namespace pinpipe::lake {

class S3Store final : public ObjectStore {
 public:
  // `prefix` is "" or ends with '/'. Resolves the configuration (lake/s3_config.h); sends
  // nothing. Errors as ResolveS3Config.
  static StatusOr<std::unique_ptr<S3Store>> Open(const std::string& bucket,
                                                 const std::string& prefix,
                                                 const S3Options& options,
                                                 const EnvLookup& env = ProcessEnv());

  Status Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  using ObjectStore::Put;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override;
  StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key,
                                                    const PutOptions& options) override;
  std::string Describe() const override;
  uint64_t requests_sent() const override { return bucket_.client().requests_sent(); }

  // Keys per ListObjectsV2 page (S3's maximum and default: 1000); tests lower it to force paging.
  void set_list_page_size(int keys) { list_page_size_ = keys; }
  const S3Config& config() const { return bucket_.client().config(); }

 private:
  S3Store(std::unique_ptr<S3Client> client, std::string prefix)
      : bucket_(std::move(client)), prefix_(std::move(prefix)) {}
  StatusOr<std::string> FullKey(std::string_view key) const;

  mutable S3Bucket bucket_;
  const std::string prefix_;
  int list_page_size_ = 1000;
};

}  // namespace pinpipe::lake
