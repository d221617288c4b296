#include "lake/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "lake/internal/atomic_file.h"
#include "lake/object_key.h"

namespace pinpipe::lake {
namespace {

using internal::AtomicFile;
using internal::StatusFromErrno;

// Keys must not reach the temp-file namespace, or List would hide them and a crash's leftovers
// could be read as objects.
Status ValidateLocalKey(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  size_t start = 0;
  for (;;) {
    if (key.substr(start).starts_with(internal::kTempPrefix)) {
      return InvalidArgument("object key \"" + std::string(key) + "\": segments starting with \"" +
                             std::string(internal::kTempPrefix) + "\" are reserved");
    }
    const size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

std::string EtagOf(const struct stat& st) {
  char buf[80];
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::snprintf(buf, sizeof buf, "%llx-%llx-%llx", static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(mtime_ns));
  return buf;
}

ObjectInfo InfoOf(std::string key, const struct stat& st) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.etag = EtagOf(st);
  info.last_modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return info;
}

// Appends every regular file below `dir` (whose key prefix is `key_prefix`, "" or ending in '/')
// to `out`. Temp files and anything that is neither a file nor a directory are skipped.
Status Walk(const std::string& dir, const std::string& key_prefix, std::string_view name_prefix,
            std::vector<ObjectInfo>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    // A directory removed or replaced while we walk is simply not there any more.
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return StatusFromErrno(errno, "opendir", dir);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || name.starts_with(internal::kTempPrefix)) continue;
    if (!name.starts_with(name_prefix)) continue;
    names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return StatusFromErrno(err, "readdir", dir);
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted meanwhile
      return StatusFromErrno(errno, "stat", path);
    }
    if (S_ISREG(st.st_mode)) {
      out->push_back(InfoOf(key_prefix + name, st));
    } else if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(Walk(path, key_prefix + name + "/", "", out));
    }
  }
  return Status::Ok();
}

class LocalWriter final : public ObjectWriter {
 public:
  LocalWriter(AtomicFile file, bool no_replace) : file_(std::move(file)), no_replace_(no_replace) {}

  Status Append(std::string_view bytes) override {
    if (closed_) return FailedPrecondition("Append after Close");
    if (!status_.ok()) return status_;
    appended_ += bytes.size();
    // Small appends are gathered so that a line-at-a-time caller does not pay a syscall each.
    if (buffer_.size() + bytes.size() > kBufferBytes) {
      status_ = Flush();
      if (!status_.ok()) return status_;
      if (bytes.size() >= kBufferBytes) {
        status_ = file_.Write(bytes);
        return status_;
      }
    }
    buffer_.append(bytes);
    return Status::Ok();
  }

  Status Close() override {
    if (closed_) return status_;
    closed_ = true;
    if (!status_.ok()) return status_;
    status_ = Flush();
    if (status_.ok()) status_ = file_.Commit(no_replace_);
    return status_;
  }

  uint64_t bytes_appended() const override { return appended_; }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;

  Status Flush() {
    Status s = file_.Write(buffer_);
    buffer_.clear();
    return s;
  }

  AtomicFile file_;  // the destructor removes the temp file unless committed
  bool no_replace_;
  std::string buffer_;
  uint64_t appended_ = 0;
  bool closed_ = false;
  Status status_;
};

}  // namespace

StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root) {
  if (root.empty()) return InvalidArgument("local store: empty root directory");
  std::string abs = root;
  if (abs.front() != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return StatusFromErrno(errno, "getcwd", root);
    abs = std::string(cwd) + "/" + abs;
  }
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  // mkdir -p: each missing level, top down.
  for (size_t pos = 1; pos <= abs.size(); ++pos) {
    if (pos != abs.size() && abs[pos] != '/') continue;
    const std::string path = abs.substr(0, pos);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return StatusFromErrno(errno, "local store: mkdir", path);
    }
  }
  struct stat st {};
  if (::stat(abs.c_str(), &st) != 0) return StatusFromErrno(errno, "local store: stat", abs);
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("local store: " + abs + " is not a directory");
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(abs)));
}

Status LocalStore::Put(std::string_view key, std::string_view bytes, const PutOptions& options) {
  RETURN_IF_ERROR(ValidateLocalKey(key));
  const std::string path = root_ + "/" + std::string(key);
  ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(root_, path));
  RETURN_IF_ERROR(file.Write(bytes));
  return file.Commit(options.if_none_match);
}

StatusOr<std::string> LocalStore::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateLocalKey(key));
  const std::string path = root_ + "/" + std::string(key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound("no object " + std::string(key));
    return StatusFromErrno(errno, "open", path);
  }
  std::string out;
  struct stat st {};
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = StatusFromErrno(errno, "fstat", path);
  } else if (!S_ISREG(st.st_mode)) {
    status = NotFound("no object " + std::string(key));
  } else {
    out.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    for (;;) {
      if (done == out.size()) out.resize(out.size() + 65536);  // grew since fstat: keep reading
      const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        status = StatusFromErrno(errno, "read", path);
        break;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

StatusOr<std::optional<ObjectInfo>> LocalStore::Head(std::string_view key) {
  RETURN_IF_ERROR(ValidateLocalKey(key));
  const std::string path = root_ + "/" + std::string(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<ObjectInfo>();
    return StatusFromErrno(errno, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(InfoOf(std::string(key), st));
}

StatusOr<std::vector<ObjectInfo>> LocalStore::List(std::string_view prefix) {
  RETURN_IF_ERROR(ValidatePrefix(prefix));
  // Only the directory the prefix points into is walked, not the whole store.
  const size_t slash = prefix.rfind('/');
  const std::string dir_key =
      slash == std::string_view::npos ? std::string() : std::string(prefix.substr(0, slash + 1));
  const std::string_view name_prefix =
      slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);
  std::string dir = root_;
  if (!dir_key.empty()) dir += "/" + dir_key.substr(0, dir_key.size() - 1);
  std::vector<ObjectInfo> out;
  RETURN_IF_ERROR(Walk(dir, dir_key, name_prefix, &out));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalStore::Delete(std::string_view key) {
  RETURN_IF_ERROR(ValidateLocalKey(key));
  const std::string path = root_ + "/" + std::string(key);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
    return StatusFromErrno(errno, "unlink", path);
  }
  // Empty directories are left in place: removing them would race with a concurrent Put
  // creating a file in them. They are invisible to List.
  return internal::SyncDirectory(path.substr(0, path.rfind('/')));
}

StatusOr<std::unique_ptr<ObjectWriter>> LocalStore::NewWriter(std::string_view key,
                                                              const PutOptions& options) {
  RETURN_IF_ERROR(ValidateLocalKey(key));
  ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(root_, root_ + "/" + std::string(key)));
  return std::unique_ptr<ObjectWriter>(new LocalWriter(std::move(file), options.if_none_match));
}

std::string LocalStore::Describe() const { return "file://" + root_; }

}  // namespace pinpipe::lake
