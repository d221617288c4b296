#include "pg/copy_in.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/copy_text.h"
#include "core/mutex.h"

namespace pinpipe::pg {
namespace {

// Room for the row that crosses kFlushBytes, so a full buffer is not reallocated.
constexpr size_t kBufferBytes = CopyIn::kFlushBytes + (64 << 10);
// The largest piece per PQputCopyData (libpq copies each into its output buffer, which grows to
// fit): a full buffer goes in one call, SendLines' data in pieces of about kFlushBytes.
constexpr size_t kMaxPut = kBufferBytes;
constexpr const char* kAbortMessage = "pinpipe: COPY aborted by client";

}  // namespace

void AppendCopyField(std::string& out, std::string_view value) {
  core::AppendCopyText(value, &out);
}

// The background sender: full buffers in a bounded queue, sent in order by one thread; sent
// buffers come back (capacity kept) for the owner to fill again. After the first error the rest
// is dropped unsent and every Push reports that error.
class CopyIn::Sender {
 public:
  Sender(Connection* conn, size_t max_queued) : conn_(conn), max_queued_(max_queued) {
    thread_ = std::jthread([this] { Loop(); });
  }
  ~Sender() { Close(/*discard=*/true).IgnoreError(); }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Queues `buffer` (waiting while the queue is full) and leaves an empty one in its place.
  Status Push(std::string& buffer) {
    std::string next;
    {
      core::MutexLock lock(mu_);
      lock.Wait(room_, [&]() REQUIRES(mu_) { return queue_.size() < max_queued_ || !error_.ok(); });
      if (!error_.ok()) return error_;
      queue_.push_back(std::move(buffer));
      if (!free_.empty()) {
        next = std::move(free_.back());
        free_.pop_back();
      }
    }
    work_.notify_one();
    if (next.capacity() < kBufferBytes) next.reserve(kBufferBytes);
    buffer = std::move(next);
    return Status::Ok();
  }

  // Sends what is queued (or drops it when `discard`), stops the thread and returns the first
  // error. Idempotent.
  Status Close(bool discard) {
    {
      core::MutexLock lock(mu_);
      closing_ = true;
      if (discard) queue_.clear();
    }
    work_.notify_one();
    if (thread_.joinable()) thread_.join();
    core::MutexLock lock(mu_);
    return error_;
  }

 private:
  void Loop() {
    core::MutexLock lock(mu_);
    while (true) {
      lock.Wait(work_, [&]() REQUIRES(mu_) { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing and drained
      std::string data = std::move(queue_.front());
      queue_.pop_front();
      const bool failed = !error_.ok();
      lock.Unlock();
      room_.notify_one();
      Status sent = failed ? Status::Ok() : CopyIn::Put(*conn_, data);
      data.clear();
      lock.Lock();
      if (!sent.ok() && error_.ok()) error_ = std::move(sent);
      if (!error_.ok()) room_.notify_one();  // a waiting Push returns the error
      free_.push_back(std::move(data));
    }
  }

  Connection* const conn_;
  const size_t max_queued_;
  core::Mutex mu_;
  std::condition_variable work_;  // the sender waits for a buffer or for closing_
  std::condition_variable room_;  // the owner waits for room in the queue
  // Guarded by mu_:
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  std::vector<std::string> free_ GUARDED_BY(mu_);  // sent buffers, for reuse
  bool closing_ GUARDED_BY(mu_) = false;
  Status error_ GUARDED_BY(mu_);
  std::jthread thread_;  // started by the constructor, once the fields above exist; Close() joins
};

CopyIn::CopyIn(Connection* conn, CopyInOptions options) : conn_(conn) {
  if (options.background_buffers > 0) {
    sender_ = std::make_unique<Sender>(conn, options.background_buffers);
    buffer_.reserve(kBufferBytes);
  }
}

StatusOr<CopyIn> CopyIn::Start(Connection& conn, const std::string& copy_sql,
                               CopyInOptions options) {
  if (!conn.conn_) return FailedPrecondition("PostgreSQL: connection was moved from");
  auto result = conn.Check(PQexec(conn.raw(), copy_sql.c_str()), PGRES_COPY_IN, PGRES_COPY_IN);
  if (!result.ok()) return result.status();
  return CopyIn(&conn, options);
}

CopyIn::CopyIn(CopyIn&& other) noexcept
    : conn_(other.conn_),
      buffer_(std::move(other.buffer_)),
      at_row_start_(other.at_row_start_),
      sticky_(std::move(other.sticky_)),
      sender_(std::move(other.sender_)) {
  other.conn_ = nullptr;
}

CopyIn::~CopyIn() { Abort(); }

void CopyIn::Abort() {
  if (conn_ == nullptr) return;
  if (sender_) sender_->Close(/*discard=*/true).IgnoreError();
  // Ending with an error message makes the server fail the COPY; drain its results so the
  // connection is usable again (a transaction around the COPY is left aborted).
  PQputCopyEnd(conn_->raw(), kAbortMessage);
  while (PGresult* result = PQgetResult(conn_->raw())) PQclear(result);
  conn_ = nullptr;
}

CopyIn& CopyIn::Text(std::string_view value) {
  if (!at_row_start_) buffer_ += '\t';
  at_row_start_ = false;
  if (value.find('\0') != std::string_view::npos && sticky_.ok()) {
    sticky_ = InvalidArgument("COPY: text field contains a NUL byte");
  }
  AppendCopyField(buffer_, value);
  return *this;
}

CopyIn& CopyIn::Null() {
  if (!at_row_start_) buffer_ += '\t';
  at_row_start_ = false;
  buffer_ += "\\N";
  return *this;
}

CopyIn& CopyIn::Int(int64_t value) {
  if (!at_row_start_) buffer_ += '\t';
  at_row_start_ = false;
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  buffer_.append(digits, end);
  return *this;
}

Status CopyIn::EndRow() {
  if (conn_ == nullptr) return FailedPrecondition("COPY: not in progress");
  RETURN_IF_ERROR(sticky_);
  buffer_ += '\n';
  at_row_start_ = true;
  return Flush(/*force=*/false);
}

Status CopyIn::AppendLines(std::string_view lines) {
  if (conn_ == nullptr) return FailedPrecondition("COPY: not in progress");
  if (!at_row_start_) return FailedPrecondition("COPY: AppendLines() inside an unfinished row");
  buffer_.append(lines);
  return Flush(/*force=*/false);
}

Status CopyIn::SendLines(std::string_view lines) {
  if (conn_ == nullptr) return FailedPrecondition("COPY: not in progress");
  if (!at_row_start_) return FailedPrecondition("COPY: SendLines() inside an unfinished row");
  if (sender_) return FailedPrecondition("COPY: SendLines() with a background sender");
  RETURN_IF_ERROR(Flush(/*force=*/true));
  return Put(*conn_, lines);
}

Status CopyIn::Flush(bool force) {
  if (buffer_.empty() || (!force && buffer_.size() < kFlushBytes)) return Status::Ok();
  if (sender_) return sender_->Push(buffer_);
  RETURN_IF_ERROR(Put(*conn_, buffer_));
  buffer_.clear();
  return Status::Ok();
}

Status CopyIn::Put(Connection& conn, std::string_view data) {
  // Blocking connection: PQputCopyData returns 1 once queued, -1 on failure (never 0).
  for (size_t at = 0; at < data.size(); at += kMaxPut) {
    const size_t n = std::min(kMaxPut, data.size() - at);
    if (PQputCopyData(conn.raw(), data.data() + at, static_cast<int>(n)) != 1) {
      return Unavailable("COPY: PQputCopyData: " + conn.ErrorMessage());
    }
  }
  return Status::Ok();
}

StatusOr<int64_t> CopyIn::Finish() {
  if (conn_ == nullptr) return FailedPrecondition("COPY: not in progress");
  if (!at_row_start_) return FailedPrecondition("COPY: Finish() inside an unfinished row");
  Status sent = Flush(/*force=*/true);
  if (sent.ok() && sender_) sent = sender_->Close(/*discard=*/false);
  if (!sent.ok()) {
    Abort();
    return sent;
  }
  Connection* conn = conn_;
  conn_ = nullptr;
  if (PQputCopyEnd(conn->raw(), nullptr) != 1) {
    Status lost = Unavailable("COPY: PQputCopyEnd: " + conn->ErrorMessage());
    while (PGresult* extra = PQgetResult(conn->raw())) PQclear(extra);
    return lost;
  }
  auto result = conn->Check(PQgetResult(conn->raw()), PGRES_COMMAND_OK, PGRES_COMMAND_OK);
  // A COPY yields one result; drain defensively so the connection is left idle.
  while (PGresult* extra = PQgetResult(conn->raw())) PQclear(extra);
  if (!result.ok()) return result.status();
  return result->AffectedRows();
}

}  // namespace pinpipe::pg
