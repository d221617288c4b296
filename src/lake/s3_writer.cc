#include "lake/s3_writer.h"

namespace pinpipe::lake {

S3Writer::S3Writer(S3Bucket* bucket, std::string key, PutOptions options, size_t part_size)
    : bucket_(bucket), key_(std::move(key)), options_(std::move(options)), part_size_(part_size) {}

S3Writer::~S3Writer() {
  // An upload that was never completed would keep its parts (and their storage cost) on the
  // server until a lifecycle rule removes them.
  if (!upload_id_.empty()) bucket_->AbortMultipartUpload(key_, upload_id_).IgnoreError();
}

Status S3Writer::Fail(Status status) {
  if (!upload_id_.empty()) {
    bucket_->AbortMultipartUpload(key_, upload_id_).IgnoreError();
    upload_id_.clear();
  }
  status_ = status;
  return status;
}

Status S3Writer::Append(std::string_view bytes) {
  if (closed_) return FailedPrecondition("S3 writer " + key_ + ": Append after Close");
  if (!status_.ok()) return status_;
  appended_ += bytes.size();
  buffer_.append(bytes);
  // Strictly more than one part: an object of exactly part_size bytes stays a single PUT, and a
  // multipart upload always has a non-empty last part for Close().
  if (buffer_.size() > part_size_) {
    if (upload_id_.empty()) {
      if (Status s = StartMultipart(); !s.ok()) return Fail(s);
    }
    if (Status s = UploadFullParts(); !s.ok()) return Fail(s);
  }
  return Status::Ok();
}

Status S3Writer::StartMultipart() {
  if (options_.if_none_match) {
    ASSIGN_OR_RETURN(std::optional<ObjectInfo> existing, bucket_->HeadObject(key_));
    if (existing) {
      return AlreadyExists("S3 writer " + key_ + ": the object exists (If-None-Match: *)");
    }
  }
  ASSIGN_OR_RETURN(upload_id_, bucket_->CreateMultipartUpload(key_, options_));
  return Status::Ok();
}

Status S3Writer::UploadFullParts() {
  size_t offset = 0;
  // Leave at least one byte: the final part is sent by Close().
  while (buffer_.size() - offset > part_size_) {
    const int number = static_cast<int>(parts_.size()) + 1;
    if (number > 10000) {
      return InvalidArgument("S3 writer " + key_ + ": more than 10000 parts; raise part_size");
    }
    ASSIGN_OR_RETURN(UploadedPart part,
                     bucket_->UploadPart(key_, upload_id_, number,
                                         std::string_view(buffer_).substr(offset, part_size_)));
    parts_.push_back(std::move(part));
    offset += part_size_;
  }
  buffer_.erase(0, offset);
  return Status::Ok();
}

Status S3Writer::Close() {
  if (closed_) return status_;
  closed_ = true;
  if (!status_.ok()) return status_;
  if (upload_id_.empty()) {
    status_ = bucket_->PutObject(key_, buffer_, options_);
    buffer_.clear();
    return status_;
  }
  const int number = static_cast<int>(parts_.size()) + 1;
  auto last = bucket_->UploadPart(key_, upload_id_, number, buffer_);
  if (!last.ok()) return Fail(last.status());
  parts_.push_back(std::move(last).value());
  buffer_.clear();
  Status done = bucket_->CompleteMultipartUpload(key_, upload_id_, parts_, options_.if_none_match);
  if (!done.ok()) return Fail(done);
  upload_id_.clear();  // completed: nothing to abort
  status_ = Status::Ok();
  return status_;
}

}  // namespace pinpipe::lake
