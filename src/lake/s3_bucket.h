// S3Bucket: the S3 API operations pinpipe uses, on full keys of one bucket, each returning a
// Status mapped through lake/s3_errors.h. S3Store adds the key prefix and the ObjectStore
// contract on top; S3Writer drives the multipart calls.
//
// Retried conditional writes: when a conditional PUT or CompleteMultipartUpload is retried after
// a lost answer, the first attempt may have succeeded, so the retry sees 412 (or 404 NoSuchUpload
// for a completed upload). Then the object's ETag is compared with the one our bytes produce
// (MD5 for a single PUT, MD5 of the part MD5s plus "-N" for a multipart upload): equal means
// our write won and the call succeeds; otherwise AlreadyExists.
//
// Thread-safety: as S3Client (all methods may run concurrently).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"
#include "lake/s3_client.h"
#include "lake/s3_responses.h"

namespace pinpipe::lake {

struct UploadedPart {
  int number = 0;
  std::string etag;     // as the server returned it, without quotes
  std::string md5_raw;  // MD5 of the part's bytes (16 bytes), for the expected multipart ETag
};

class S3Bucket {
 public:
  explicit S3Bucket(std::unique_ptr<S3Client> client) : client_(std::move(client)) {}

  // PutObject. With if_none_match sends `If-None-Match: *`; 412 -> AlreadyExists.
  Status PutObject(const std::string& key, std::string_view bytes, const PutOptions& options);
  // GetObject; NotFound for a missing key.
  StatusOr<std::string> GetObject(const std::string& key);
  // HeadObject; nullopt for a missing key (404 carries no body, so no NoSuchBucket distinction).
  StatusOr<std::optional<ObjectInfo>> HeadObject(const std::string& key);
  // One ListObjectsV2 page of at most max_keys keys.
  StatusOr<ListPage> ListObjectsPage(const std::string& prefix, const std::string& continuation,
                                     int max_keys);
  // DeleteObject; a missing key is OK (S3 answers 204 either way).
  Status DeleteObject(const std::string& key);

  // Multipart upload. Create returns the upload id.
  StatusOr<std::string> CreateMultipartUpload(const std::string& key, const PutOptions& options);
  StatusOr<UploadedPart> UploadPart(const std::string& key, const std::string& upload_id,
                                    int part_number, std::string_view bytes);
  // With if_none_match sends `If-None-Match: *`; 412 -> AlreadyExists.
  Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                 const std::vector<UploadedPart>& parts, bool if_none_match);
  // Best effort; a missing upload (already aborted or completed) is OK.
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);

  S3Client& client() { return *client_; }

 private:
  // After a retried conditional write answered "exists": did our own earlier attempt write it?
  StatusOr<bool> ObjectHasEtag(const std::string& key, const std::string& expected_etag);

  std::unique_ptr<S3Client> client_;
};

// The ETag S3 gives a multipart object: hex MD5 of the concatenated part MD5s, "-", part count.
std::string MultipartEtag(const std::vector<UploadedPart>& parts);

}  // namespace pinpipe::lake
