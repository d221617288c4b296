// AtomicFile: writes a file so that it appears under its final name complete or not at all.
//
// Create() makes the missing parent directories (each fsync'ed into its parent) and opens a
// fresh temp file ".pinpipe-tmp-<pid>-<n>-<random>" in the final directory. Commit() fsyncs it,
// renames it onto the final name (or, with no_replace, renameat2(RENAME_NOREPLACE) / link(),
// which fail when the name exists) and fsyncs the directory. Destroying an uncommitted file
// removes the temp file. Move-only; one thread at a time.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::lake::internal {

inline constexpr std::string_view kTempPrefix = ".pinpipe-tmp-";

// errno -> Status for filesystem calls: ENOENT NotFound, EEXIST AlreadyExists, EACCES/EPERM/EROFS
// Unauthenticated, ENOSPC/EDQUOT/EMFILE/ENFILE ResourceExhausted, ENOTDIR/EISDIR
// FailedPrecondition (a key used both as an object and as a "directory"), others Internal.
Status StatusFromErrno(int err, std::string_view what, std::string_view path);

// fsync of a directory, so that entries created or renamed in it survive a crash.
Status SyncDirectory(const std::string& dir);

class AtomicFile {
 public:
  // `root` must exist; `final_path` lies below it. Directories between them are created.
  static StatusOr<AtomicFile> Create(const std::string& root, const std::string& final_path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Writes all of `bytes` (retrying short writes and EINTR).
  Status Write(std::string_view bytes);
  // Makes the content durable and visible under the final name. With no_replace, AlreadyExists
  // when the final name exists (the temp file is then removed). The file is closed either way.
  Status Commit(bool no_replace);

 private:
  AtomicFile(int fd, std::string temp_path, std::string final_path)
      : fd_(fd), temp_path_(std::move(temp_path)), final_path_(std::move(final_path)) {}
  void Discard();

  int fd_ = -1;
  std::string temp_path_;
  std::string final_path_;
};

}  // namespace pinpipe::lake::internal
