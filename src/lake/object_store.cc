#include "lake/object_store.h"

#include "lake/local_store.h"
#include "lake/s3_store.h"
#include "lake/store_url.h"

namespace pinpipe::lake {

StatusOr<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url, const S3Options& s3) {
  ASSIGN_OR_RETURN(StoreUrl parsed, ParseStoreUrl(url));
  if (parsed.kind == StoreUrl::Kind::kLocal) {
    ASSIGN_OR_RETURN(std::unique_ptr<LocalStore> store, LocalStore::Open(parsed.path));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<S3Store> store, S3Store::Open(parsed.bucket, parsed.prefix, s3));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace pinpipe::lake
