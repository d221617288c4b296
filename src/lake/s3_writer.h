// S3Writer: the ObjectWriter of S3Store. Appended bytes are buffered; as long as the object fits
// in one part_size it is sent by Close() as a single PutObject. Once more than part_size bytes
// were appended, it starts a multipart upload and sends every full part_size chunk as a part
// (all parts but the last are exactly part_size, at least S3's 5 MiB minimum); Close() sends the
// rest as the last part and completes the upload. Memory: at most part_size plus one Append.
//
// Failure: any error aborts the multipart upload (best effort) and fails the writer; so does
// destruction without Close(). Conditional create (if_none_match) is checked early with a
// HeadObject before a multipart upload starts (to fail fast instead of after uploading
// gigabytes) and enforced by `If-None-Match: *` on the final PutObject/CompleteMultipartUpload.
// Not thread-safe (one thread at a time); the S3Bucket must outlive the writer.
#pragma once

#include <string>
#include <vector>

#include "lake/object_store.h"
#include "lake/s3_bucket.h"

namespace pinpipe::lake {

class S3Writer final : public ObjectWriter {
 public:
  S3Writer(S3Bucket* bucket, std::string key, PutOptions options, size_t part_size);
  ~S3Writer() override;
  S3Writer(const S3Writer&) = delete;
  S3Writer& operator=(const S3Writer&) = delete;

  Status Append(std::string_view bytes) override;
  Status Close() override;
  uint64_t bytes_appended() const override { return appended_; }

  // The number of parts uploaded so far (0 while the object is a single PUT), for tests.
  size_t parts_uploaded() const { return parts_.size(); }

 private:
  Status StartMultipart();
  Status UploadFullParts();
  Status Fail(Status status);  // aborts the upload, remembers and returns `status`

  S3Bucket* bucket_;
  const std::string key_;  // full key in the bucket
  const PutOptions options_;
  const size_t part_size_;
  std::string buffer_;
  uint64_t appended_ = 0;
  std::string upload_id_;  // empty until the multipart upload starts
  std::vector<UploadedPart> parts_;
  bool closed_ = false;
  Status status_;  // the first error, or after Close() its result
};

}  // namespace pinpipe::lake
