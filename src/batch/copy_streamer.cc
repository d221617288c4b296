#include "batch/copy_streamer.h"

#include <libpq-fe.h>

#include <algorithm>

namespace pinpipe::batch {
namespace {

// PQputCopyData takes an int length; larger buffers go in pieces.
constexpr size_t kMaxPut = 8 << 20;

}  // namespace

CopyStreamer::CopyStreamer(pg::Connection* conn, size_t max_queued)
    : conn_(conn), max_queued_(std::max<size_t>(max_queued, 1)) {}

StatusOr<std::unique_ptr<CopyStreamer>> CopyStreamer::Start(pg::Connection* conn,
                                                            const std::string& copy_sql,
                                                            size_t max_queued) {
  auto started = conn->Check(PQexec(conn->raw(), copy_sql.c_str()), PGRES_COPY_IN, PGRES_COPY_IN);
  if (!started.ok()) return started.status();
  std::unique_ptr<CopyStreamer> s(new CopyStreamer(conn, max_queued));
  s->sender_ = std::thread([raw = s.get()] { raw->SendLoop(); });
  return s;
}

CopyStreamer::~CopyStreamer() {
  if (!finished_) Abort();
}

void CopyStreamer::SendLoop() {
  while (true) {
    std::string data;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing and drained
      data = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();  // room for the writer
      if (!error_.ok()) continue;  // after a failure, drain without sending
    }
    // Blocking connection: PQputCopyData returns 1 once the data is queued or sent, -1 on
    // failure (never 0).
    for (size_t at = 0; at < data.size(); at += kMaxPut) {
      const size_t n = std::min(kMaxPut, data.size() - at);
      if (PQputCopyData(conn_->raw(), data.data() + at, static_cast<int>(n)) != 1) {
        std::lock_guard lock(mu_);
        if (error_.ok()) error_ = Unavailable("COPY: PQputCopyData: " + conn_->ErrorMessage());
        break;
      }
    }
  }
}

Status CopyStreamer::Write(std::string data) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < max_queued_ || !error_.ok(); });
  if (!error_.ok()) return error_;
  queue_.push_back(std::move(data));
  cv_.notify_all();
  return Status::Ok();
}

StatusOr<int64_t> CopyStreamer::Finish() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  sender_.join();
  finished_ = true;
  Status sent;
  {
    std::lock_guard lock(mu_);
    sent = error_;
  }
  if (!sent.ok()) {
    PQputCopyEnd(conn_->raw(), "pinpipe: COPY aborted by client");
    while (PGresult* r = PQgetResult(conn_->raw())) PQclear(r);
    return sent;
  }
  if (PQputCopyEnd(conn_->raw(), nullptr) != 1) {
    return Unavailable("COPY: PQputCopyEnd: " + conn_->ErrorMessage());
  }
  auto result = conn_->Check(PQgetResult(conn_->raw()), PGRES_COMMAND_OK, PGRES_COMMAND_OK);
  while (PGresult* extra = PQgetResult(conn_->raw())) PQclear(extra);
  if (!result.ok()) return result.status();
  return result->AffectedRows();
}

void CopyStreamer::Abort() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  finished_ = true;
  // Ending with an error message makes the server fail the COPY; drain its results so the
  // connection (and its transaction, now aborted) can be rolled back.
  PQputCopyEnd(conn_->raw(), "pinpipe: COPY aborted by client");
  while (PGresult* r = PQgetResult(conn_->raw())) PQclear(r);
}

}  // namespace pinpipe::batch
