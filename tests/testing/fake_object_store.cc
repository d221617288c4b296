#include "testing/fake_object_store.h"

#include <functional>

#include "lake/object_key.h"

namespace pinpipe::testing {
namespace {

// Changes with every write, like a real ETag (the version) and with the content.
std::string EtagOf(const std::string& bytes, int version) {
  return std::to_string(std::hash<std::string>{}(bytes)) + "-v" + std::to_string(version);
}

}  // namespace

class FakeObjectWriter final : public lake::ObjectWriter {
 public:
  FakeObjectWriter(FakeObjectStore* store, std::string key, lake::PutOptions options)
      : store_(store), key_(std::move(key)), options_(std::move(options)) {}
  ~FakeObjectWriter() override {
    if (!closed_) store_->WriterFinished();
  }

  Status Append(std::string_view bytes) override {
    if (closed_) return FailedPrecondition("Append after Close");
    if (!status_.ok()) return status_;
    if (Status fault = store_->AppendFault(); !fault.ok()) {
      status_ = fault;
      return status_;
    }
    buffer_.append(bytes);
    appended_ += bytes.size();
    return Status::Ok();
  }

  Status Close() override {
    if (closed_) return status_;
    closed_ = true;
    store_->WriterFinished();
    if (!status_.ok()) return status_;
    status_ = store_->Commit(key_, std::move(buffer_), options_);
    return status_;
  }

  uint64_t bytes_appended() const override { return appended_; }

 private:
  FakeObjectStore* store_;
  std::string key_;
  lake::PutOptions options_;
  std::string buffer_;
  uint64_t appended_ = 0;
  bool closed_ = false;
  Status status_;
};

Status FakeObjectStore::Commit(std::string_view key, std::string bytes,
                               const lake::PutOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  ++puts_;
  if (fail_put_at_ != 0 && puts_ == fail_put_at_) {
    fail_put_at_ = 0;
    return fail_put_status_;
  }
  const std::string k(key);
  if (options.if_none_match && !ignore_if_none_match_ && objects_.count(k) > 0) {
    return AlreadyExists("object exists: " + k);
  }
  objects_[k] = Object{std::move(bytes), next_version_++, std::chrono::system_clock::now()};
  return Status::Ok();
}

Status FakeObjectStore::Put(std::string_view key, std::string_view bytes,
                            const lake::PutOptions& options) {
  if (Status s = lake::ValidateKey(key); !s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++puts_;
    return s;
  }
  return Commit(key, std::string(bytes), options);
}

StatusOr<std::string> FakeObjectStore::Get(std::string_view key) {
  RETURN_IF_ERROR(lake::ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  ++gets_;
  const std::string k(key);
  if (auto it = fail_get_.find(k); it != fail_get_.end()) return it->second;
  auto it = objects_.find(k);
  if (it == objects_.end()) return NotFound("no object " + k);
  return it->second.bytes;
}

StatusOr<std::optional<lake::ObjectInfo>> FakeObjectStore::Head(std::string_view key) {
  RETURN_IF_ERROR(lake::ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string k(key);
  if (auto it = fail_get_.find(k); it != fail_get_.end()) return it->second;
  auto it = objects_.find(k);
  if (it == objects_.end()) return std::optional<lake::ObjectInfo>();
  lake::ObjectInfo info;
  info.key = k;
  info.size = it->second.bytes.size();
  info.etag = EtagOf(it->second.bytes, it->second.version);
  info.last_modified = it->second.modified;
  return std::optional<lake::ObjectInfo>(std::move(info));
}

StatusOr<std::vector<lake::ObjectInfo>> FakeObjectStore::List(std::string_view prefix) {
  RETURN_IF_ERROR(lake::ValidatePrefix(prefix));
  std::vector<lake::ObjectInfo> out;
  std::lock_guard<std::mutex> lock(mu_);
  ++lists_;
  if (fail_lists_ > 0) {
    --fail_lists_;
    return fail_list_status_;
  }
  for (auto it = objects_.lower_bound(std::string(prefix));
       it != objects_.end() && it->first.starts_with(prefix); ++it) {
    lake::ObjectInfo info;
    info.key = it->first;
    info.size = it->second.bytes.size();
    info.etag = EtagOf(it->second.bytes, it->second.version);
    info.last_modified = it->second.modified;
    out.push_back(std::move(info));
  }
  return out;
}

Status FakeObjectStore::Delete(std::string_view key) {
  RETURN_IF_ERROR(lake::ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  ++deletes_;
  if (fail_deletes_ > 0) {
    --fail_deletes_;
    return fail_delete_status_;
  }
  objects_.erase(std::string(key));
  return Status::Ok();
}

StatusOr<std::unique_ptr<lake::ObjectWriter>> FakeObjectStore::NewWriter(
    std::string_view key, const lake::PutOptions& options) {
  RETURN_IF_ERROR(lake::ValidateKey(key));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++writers_;
  }
  return std::unique_ptr<lake::ObjectWriter>(new FakeObjectWriter(this, std::string(key), options));
}

void FakeObjectStore::FailNthPut(int n, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_put_at_ = n <= 0 ? 0 : puts_ + n;
  fail_put_status_ = std::move(status);
}

void FakeObjectStore::FailGetOf(std::string key, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_get_[std::move(key)] = std::move(status);
}

void FakeObjectStore::FailNextLists(int count, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_lists_ = count;
  fail_list_status_ = std::move(status);
}

void FakeObjectStore::FailNextDeletes(int count, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_deletes_ = count;
  fail_delete_status_ = std::move(status);
}

void FakeObjectStore::FailAppends(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_append_ = std::move(status);
}

void FakeObjectStore::IgnoreIfNoneMatch(bool ignore) {
  std::lock_guard<std::mutex> lock(mu_);
  ignore_if_none_match_ = ignore;
}

void FakeObjectStore::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_put_at_ = 0;
  fail_get_.clear();
  fail_lists_ = 0;
  fail_deletes_ = 0;
  fail_append_.reset();
  ignore_if_none_match_ = false;
}

Status FakeObjectStore::AppendFault() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fail_append_.value_or(Status::Ok());
}

void FakeObjectStore::WriterFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  --writers_;
}

std::map<std::string, std::string> FakeObjectStore::objects() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : objects_) out[k] = v.bytes;
  return out;
}

int FakeObjectStore::put_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return puts_;
}
int FakeObjectStore::get_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gets_;
}
int FakeObjectStore::list_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lists_;
}
int FakeObjectStore::delete_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deletes_;
}
int FakeObjectStore::open_writers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writers_;
}

}  // namespace pinpipe::testing
