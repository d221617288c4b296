// LocalStore: an ObjectStore over a directory of the local filesystem (development, tests, a
// single-machine lake). Key "a/b/c.jsonl" is the file <root>/a/b/c.jsonl.
//
// Durability and atomicity: every object is written to a temp file in its final directory
// (".pinpipe-tmp-*", never listed), fsync'ed, then renamed into place and the directory fsync'ed,
// so after a crash a key holds either its old or its new complete content, never a torn file.
// Directories created on the way are fsync'ed into their parents. A conditional create
// (if_none_match) commits with renameat2(RENAME_NOREPLACE), or link() on filesystems without it,
// both of which fail atomically when the name exists: of two racing writers exactly one wins.
// Temp files of a crashed writer stay behind (invisible to List, Get and Head).
//
// Thread-safety: all methods may run concurrently, also across processes sharing the root.
#pragma once

#include <memory>
#include <string>

#include "lake/object_store.h"

namespace pinpipe::lake {

class LocalStore final : public ObjectStore {
 public:
  // Opens (creating if missing, with parents) the directory `root`; a relative path is taken
  // relative to the working directory. Errors: InvalidArgument when `root` exists but is not a
  // directory, Internal/Unauthenticated for filesystem errors (EACCES -> Unauthenticated).
  static StatusOr<std::unique_ptr<LocalStore>> Open(const std::string& root);

  Status Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  using ObjectStore::Put;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::optional<ObjectInfo>> Head(std::string_view key) override;
  StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::unique_ptr<ObjectWriter>> NewWriter(std::string_view key,
                                                    const PutOptions& options) override;
  std::string Describe() const override;

  const std::string& root() const { return root_; }

 private:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}

  std::string root_;  // absolute, no trailing '/'
};

}  // namespace pinpipe::lake
