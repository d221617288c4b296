// Parsing of object-store URLs (the `--lake` setting): where a store lives, before it is opened.
//   file:///abs/dir           local, "/abs/dir" (percent-escapes decoded: file:///my%20lake)
//   /abs/dir, rel/dir, .      local, the path as given (resolved by LocalStore::Open)
//   s3://bucket               S3, no key prefix
//   s3://bucket/some/prefix/  S3, keys stored under "some/prefix/" (a '/' is appended if missing)
// Pure; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::lake {

struct StoreUrl {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::string path;    // kLocal: the directory
  std::string bucket;  // kS3
  std::string prefix;  // kS3: "" or ending in '/'
};

// Errors: InvalidArgument for an unknown scheme ("gs://"), file:// with a host or a relative
// path, an invalid bucket name (S3's rules: 3-63 of a-z 0-9 . -, starting and ending with a letter
// or digit, no "..", not an IP address) or a prefix that is not a valid key prefix.
StatusOr<StoreUrl> ParseStoreUrl(std::string_view url);

// S3's bucket naming rules (above); InvalidArgument saying which rule is broken.
Status ValidateBucketName(std::string_view bucket);

}  // namespace pinpipe::lake
