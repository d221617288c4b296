#include "lake/s3_store.h"

#include <algorithm>

#include "lake/object_key.h"
#include "lake/s3_writer.h"
#include "lake/store_url.h"

namespace pinpipe::lake {

StatusOr<std::unique_ptr<S3Store>> S3Store::Open(const std::string& bucket,
                                                 const std::string& prefix,
                                                 const S3Options& options, const EnvLookup& env) {
  RETURN_IF_ERROR(ValidateBucketName(bucket));
  if (!prefix.empty() && prefix.back() != '/') {
    return InvalidArgument("S3 store prefix \"" + prefix + "\" must end with '/'");
  }
  ASSIGN_OR_RETURN(S3Config config, ResolveS3Config(options, bucket, env));
  return std::unique_ptr<S3Store>(
      new S3Store(std::make_unique<S3Client>(std::move(config), bucket), prefix));
}

StatusOr<std::string> S3Store::FullKey(std::string_view key) const {
  RETURN_IF_ERROR(ValidateKey(key));
  return prefix_ + std::string(key);
}

Status S3Store::Put(std::string_view key, std::string_view bytes, const PutOptions& options) {
  ASSIGN_OR_RETURN(std::string full, FullKey(key));
  return bucket_.PutObject(full, bytes, options);
}

StatusOr<std::string> S3Store::Get(std::string_view key) {
  ASSIGN_OR_RETURN(std::string full, FullKey(key));
  return bucket_.GetObject(full);
}

StatusOr<std::optional<ObjectInfo>> S3Store::Head(std::string_view key) {
  ASSIGN_OR_RETURN(std::string full, FullKey(key));
  ASSIGN_OR_RETURN(std::optional<ObjectInfo> info, bucket_.HeadObject(full));
  if (info) info->key = std::string(key);
  return info;
}

StatusOr<std::vector<ObjectInfo>> S3Store::List(std::string_view prefix) {
  RETURN_IF_ERROR(ValidatePrefix(prefix));
  const std::string full_prefix = prefix_ + std::string(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  for (;;) {
    ASSIGN_OR_RETURN(ListPage page, bucket_.ListObjectsPage(full_prefix, token, list_page_size_));
    for (ObjectInfo& info : page.objects) {
      // The server filters by prefix; a key outside ours would be a server bug, not ours to show.
      if (!info.key.starts_with(prefix_)) continue;
      info.key.erase(0, prefix_.size());
      out.push_back(std::move(info));
    }
    if (!page.truncated) break;
    if (page.next_continuation_token == token) {
      return Internal("ListObjectsV2 " + full_prefix + ": the continuation token did not advance");
    }
    token = std::move(page.next_continuation_token);
  }
  // S3 returns UTF-8 binary order already; sorting makes that a promise for every server.
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3Store::Delete(std::string_view key) {
  ASSIGN_OR_RETURN(std::string full, FullKey(key));
  return bucket_.DeleteObject(full);
}

StatusOr<std::unique_ptr<ObjectWriter>> S3Store::NewWriter(std::string_view key,
                                                           const PutOptions& options) {
  ASSIGN_OR_RETURN(std::string full, FullKey(key));
  return std::unique_ptr<ObjectWriter>(
      new S3Writer(&bucket_, std::move(full), options, config().options.part_size));
}

std::string S3Store::Describe() const {
  const S3Config& c = config();
  return "s3://" + bucket_.client().bucket() + "/" + prefix_ + " (" + c.endpoint.scheme + "://" +
         c.endpoint.Authority() + ", region " + c.region + ")";
}

}  // namespace pinpipe::lake
