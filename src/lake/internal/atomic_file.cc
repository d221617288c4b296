#include "lake/internal/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace pinpipe::lake::internal {
namespace {

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

// mkdir -p from `root` (exists) down to `dir`; every directory created is fsync'ed into its
// parent so that the file later renamed into it cannot vanish with it after a crash.
Status MakeDirectories(const std::string& root, const std::string& dir) {
  if (dir.size() <= root.size()) return Status::Ok();
  size_t pos = root.size();
  while (pos < dir.size()) {
    size_t next = dir.find('/', pos + 1);
    if (next == std::string::npos) next = dir.size();
    const std::string path = dir.substr(0, next);
    if (::mkdir(path.c_str(), 0755) == 0) {
      RETURN_IF_ERROR(SyncDirectory(Dirname(path)));
    } else if (errno != EEXIST) {
      return StatusFromErrno(errno, "mkdir", path);
    }
    pos = next;
  }
  return Status::Ok();
}

std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*s%d-%llu-%016llx", static_cast<int>(kTempPrefix.size()),
                kTempPrefix.data(), static_cast<int>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

Status StatusFromErrno(int err, std::string_view what, std::string_view path) {
  std::string m(what);
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(err);
  switch (err) {
    case ENOENT: return NotFound(std::move(m));
    case EEXIST: return AlreadyExists(std::move(m));
    case EACCES:
    case EPERM:
    case EROFS: return Unauthenticated(std::move(m));
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE: return ResourceExhausted(std::move(m));
    case ENOTDIR:
    case EISDIR:
      m += " (a key cannot be both an object and a prefix of other keys in a local store)";
      return FailedPrecondition(std::move(m));
    default: return Internal(std::move(m));
  }
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return StatusFromErrno(errno, "open directory", dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return StatusFromErrno(err, "fsync directory", dir);
  return Status::Ok();
}

StatusOr<AtomicFile> AtomicFile::Create(const std::string& root, const std::string& final_path) {
  const std::string dir = Dirname(final_path);
  RETURN_IF_ERROR(MakeDirectories(root, dir));
  for (int attempt = 0;; ++attempt) {
    std::string temp = dir + "/" + TempName();
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return AtomicFile(fd, std::move(temp), final_path);
    // EEXIST: a name clash with another process's temp file (pid reuse); pick another name.
    if (errno != EEXIST || attempt >= 3) return StatusFromErrno(errno, "create", temp);
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : fd_(other.fd_),
      temp_path_(std::move(other.temp_path_)),
      final_path_(std::move(other.final_path_)) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = other.fd_;
    temp_path_ = std::move(other.temp_path_);
    final_path_ = std::move(other.final_path_);
    other.fd_ = -1;
    other.temp_path_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

Status AtomicFile::Write(std::string_view bytes) {
  if (fd_ < 0) return FailedPrecondition("write to a closed file " + final_path_);
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, "write", temp_path_);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status AtomicFile::Commit(bool no_replace) {
  if (fd_ < 0) return FailedPrecondition("commit of a closed file " + final_path_);
  // The data must be on disk before the name points at it, or a crash could leave the new
  // name on an empty or partial file.
  if (::fsync(fd_) != 0) {
    Status s = StatusFromErrno(errno, "fsync", temp_path_);
    Discard();
    return s;
  }
  ::close(fd_);
  fd_ = -1;
  if (!no_replace) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      Status s = StatusFromErrno(errno, "rename to", final_path_);
      Discard();
      return s;
    }
  } else if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(),
                         RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
      // The filesystem cannot do RENAME_NOREPLACE: link() also fails with EEXIST atomically.
      err = ::link(temp_path_.c_str(), final_path_.c_str()) == 0 ? 0 : errno;
      if (err == 0) ::unlink(temp_path_.c_str());
    }
    if (err != 0) {
      struct stat st {};
      Status s;
      if (err == EEXIST && ::lstat(final_path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        s = StatusFromErrno(EISDIR, "create", final_path_);
      } else if (err == EEXIST) {
        s = AlreadyExists("object exists: " + final_path_);
      } else {
        s = StatusFromErrno(err, "create", final_path_);
      }
      Discard();
      return s;
    }
  }
  temp_path_.clear();  // now the final file: nothing to remove
  return SyncDirectory(Dirname(final_path_));
}

}  // namespace pinpipe::lake::internal
