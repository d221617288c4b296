#include "lake/s3_bucket.h"

#include "lake/internal/crypto.h"
#include "lake/internal/xml.h"
#include "lake/s3_errors.h"

namespace pinpipe::lake {
namespace {

std::optional<uint64_t> ParseContentLength(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string MultipartEtag(const std::vector<UploadedPart>& parts) {
  std::string md5s;
  for (const UploadedPart& p : parts) md5s += p.md5_raw;
  return internal::Md5Hex(md5s) + "-" + std::to_string(parts.size());
}

StatusOr<bool> S3Bucket::ObjectHasEtag(const std::string& key, const std::string& expected_etag) {
  ASSIGN_OR_RETURN(std::optional<ObjectInfo> info, HeadObject(key));
  return info.has_value() && info->etag == expected_etag;
}

Status S3Bucket::PutObject(const std::string& key, std::string_view bytes,
                           const PutOptions& options) {
  S3Request req;
  req.method = "PUT";
  req.key = key;
  req.body = bytes;
  req.operation = "PutObject " + key;
  req.headers.emplace_back("Content-Type", options.content_type);
  // Content-MD5 lets the server reject a body corrupted on the way (S3 checks it).
  req.headers.emplace_back("Content-MD5", internal::Base64Encode(internal::Md5Raw(bytes)));
  if (options.if_none_match) req.headers.emplace_back("If-None-Match", "*");
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  if (resp.status == 412 && options.if_none_match) {
    if (resp.attempts > 1) {
      ASSIGN_OR_RETURN(bool ours, ObjectHasEtag(key, internal::Md5Hex(bytes)));
      if (ours) return Status::Ok();
    }
    return AlreadyExists("PutObject " + key + ": the object exists (If-None-Match: *)");
  }
  return StatusFromS3(resp.status, resp.body, req.operation);
}

StatusOr<std::string> S3Bucket::GetObject(const std::string& key) {
  S3Request req;
  req.method = "GET";
  req.key = key;
  req.operation = "GetObject " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  // A connection cut short after the headers would otherwise return a truncated object.
  if (auto length = ParseContentLength(resp.Header("Content-Length"));
      length && *length != resp.body.size()) {
    return Unavailable(req.operation + ": got " + std::to_string(resp.body.size()) + " of " +
                       std::to_string(*length) + " bytes");
  }
  return std::move(resp.body);
}

StatusOr<std::optional<ObjectInfo>> S3Bucket::HeadObject(const std::string& key) {
  S3Request req;
  req.method = "HEAD";
  req.key = key;
  req.operation = "HeadObject " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  if (resp.status == 404) return std::optional<ObjectInfo>();
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  ObjectInfo info;
  info.key = key;
  const auto size = ParseContentLength(resp.Header("Content-Length"));
  if (!size) return Internal(req.operation + ": no Content-Length in the answer");
  info.size = *size;
  info.etag = UnquoteEtag(resp.Header("ETag"));
  if (auto t = ParseHttpDate(resp.Header("Last-Modified"))) info.last_modified = *t;
  return std::optional<ObjectInfo>(std::move(info));
}

StatusOr<ListPage> S3Bucket::ListObjectsPage(const std::string& prefix,
                                             const std::string& continuation, int max_keys) {
  S3Request req;
  req.method = "GET";
  req.operation = "ListObjectsV2 " + prefix;
  req.query.emplace_back("list-type", "2");
  req.query.emplace_back("max-keys", std::to_string(max_keys));
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  if (!continuation.empty()) req.query.emplace_back("continuation-token", continuation);
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  return ParseListObjectsV2(resp.body);
}

Status S3Bucket::DeleteObject(const std::string& key) {
  S3Request req;
  req.method = "DELETE";
  req.key = key;
  req.operation = "DeleteObject " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  if (resp.status == 404) return Status::Ok();  // some servers say NoSuchKey; S3 says 204
  return StatusFromS3(resp.status, resp.body, req.operation);
}

StatusOr<std::string> S3Bucket::CreateMultipartUpload(const std::string& key,
                                                      const PutOptions& options) {
  S3Request req;
  req.method = "POST";
  req.key = key;
  req.query.emplace_back("uploads", "");
  req.headers.emplace_back("Content-Type", options.content_type);
  req.operation = "CreateMultipartUpload " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  return ParseInitiateMultipartUpload(resp.body);
}

StatusOr<UploadedPart> S3Bucket::UploadPart(const std::string& key, const std::string& upload_id,
                                            int part_number, std::string_view bytes) {
  UploadedPart part;
  part.number = part_number;
  part.md5_raw = internal::Md5Raw(bytes);
  S3Request req;
  req.method = "PUT";
  req.key = key;
  req.body = bytes;
  req.query.emplace_back("partNumber", std::to_string(part_number));
  req.query.emplace_back("uploadId", upload_id);
  req.headers.emplace_back("Content-MD5", internal::Base64Encode(part.md5_raw));
  req.operation = "UploadPart " + key + " #" + std::to_string(part_number);
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  part.etag = UnquoteEtag(resp.Header("ETag"));
  if (part.etag.empty()) return Internal(req.operation + ": no ETag in the answer");
  return part;
}

Status S3Bucket::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                         const std::vector<UploadedPart>& parts,
                                         bool if_none_match) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const UploadedPart& p : parts) {
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" +
           internal::XmlEscape(p.etag) + "\"</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3Request req;
  req.method = "POST";
  req.key = key;
  req.body = xml;
  req.query.emplace_back("uploadId", upload_id);
  req.headers.emplace_back("Content-Type", "application/xml");
  if (if_none_match) req.headers.emplace_back("If-None-Match", "*");
  req.operation = "CompleteMultipartUpload " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  // A retry after a lost answer finds the upload completed (404 NoSuchUpload) or, when
  // conditional, the object present (412): both are fine if the object is ours.
  const bool maybe_ours = resp.attempts > 1 && (resp.status == 404 || resp.status == 412);
  if (maybe_ours) {
    ASSIGN_OR_RETURN(bool ours, ObjectHasEtag(key, MultipartEtag(parts)));
    if (ours) return Status::Ok();
  }
  if (resp.status == 412 && if_none_match) {
    return AlreadyExists(req.operation + ": the object exists (If-None-Match: *)");
  }
  RETURN_IF_ERROR(StatusFromS3(resp.status, resp.body, req.operation));
  // S3 may answer 200 and still fail: the error then comes in the body (it starts sending
  // whitespace to keep the connection open while it assembles the parts).
  if (const auto error = ParseS3Error(resp.body)) {
    // Map it like the HTTP status such an error normally carries.
    const int as_status = error->code == "InternalError" || error->code == "SlowDown" ? 500 : 400;
    return StatusFromS3(as_status, resp.body, req.operation);
  }
  return Status::Ok();
}

Status S3Bucket::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  S3Request req;
  req.method = "DELETE";
  req.key = key;
  req.query.emplace_back("uploadId", upload_id);
  req.operation = "AbortMultipartUpload " + key;
  ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
  if (resp.status == 404) return Status::Ok();
  return StatusFromS3(resp.status, resp.body, req.operation);
}

}  // namespace pinpipe::lake
