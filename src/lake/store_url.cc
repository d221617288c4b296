#include "lake/store_url.h"

#include "lake/object_key.h"
#include "lake/sigv4.h"

namespace pinpipe::lake {
Status ValidateBucketName(std::string_view bucket) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("S3 bucket name \"" + std::string(bucket) + "\": " + std::string(why));
  };
  if (bucket.size() < 3 || bucket.size() > 63) return bad("must be 3 to 63 characters long");
  bool all_digits_and_dots = true;
  for (char c : bucket) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    if (!lower && !digit && c != '.' && c != '-') {
      return bad("only lowercase letters, digits, '.' and '-' are allowed");
    }
    if (lower || c == '-') all_digits_and_dots = false;
  }
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return bad("must start and end with a letter or digit");
  }
  if (bucket.find("..") != std::string_view::npos) return bad("must not contain \"..\"");
  if (all_digits_and_dots) return bad("must not look like an IP address");
  return Status::Ok();
}

StatusOr<StoreUrl> ParseStoreUrl(std::string_view url) {
  StoreUrl out;
  if (url.empty()) return InvalidArgument("object store URL is empty");
  if (url.starts_with("s3://")) {
    out.kind = StoreUrl::Kind::kS3;
    std::string_view rest = url.substr(5);
    const size_t slash = rest.find('/');
    out.bucket = std::string(rest.substr(0, slash));
    RETURN_IF_ERROR(ValidateBucketName(out.bucket));
    if (slash != std::string_view::npos) {
      std::string_view prefix = rest.substr(slash + 1);
      while (prefix.ends_with('/')) prefix.remove_suffix(1);
      if (!prefix.empty()) {
        RETURN_IF_ERROR(ValidateKey(prefix).WithContext("s3 URL prefix"));
        out.prefix = std::string(prefix) + "/";
      }
    }
    return out;
  }
  if (url.starts_with("file://")) {
    const std::string_view rest = url.substr(7);
    if (!rest.starts_with('/')) {
      return InvalidArgument("file URL \"" + std::string(url) +
                             "\": use file:///absolute/path (no host, no relative path)");
    }
    if (!UriDecode(rest, &out.path) || out.path.find('\0') != std::string::npos) {
      return InvalidArgument("file URL \"" + std::string(url) + "\": bad percent-escape");
    }
    out.kind = StoreUrl::Kind::kLocal;
    return out;
  }
  if (const size_t scheme_end = url.find("://"); scheme_end != std::string_view::npos) {
    return InvalidArgument(
        "object store URL \"" + std::string(url) +
        "\": unknown scheme (use file:///dir, a plain path or s3://bucket/prefix)");
  }
  out.kind = StoreUrl::Kind::kLocal;
  out.path = std::string(url);
  return out;
}

}  // namespace pinpipe::lake
