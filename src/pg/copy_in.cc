#include "pg/copy_in.h"

#include "core/copy_text.h"

#include <charconv>

namespace pinpipe::pg {

void AppendCopyField(std::string& out, std::string_view value) {
  core::AppendCopyText(value, &out);
}

StatusOr<CopyIn> CopyIn::Start(Connection& conn, const std::string& copy_sql) {
  auto result = conn.Check(PQexec(conn.raw(), copy_sql.c_str()), PGRES_COPY_IN, PGRES_COPY_IN);
  if (!result.ok()) return result.status();
  CopyIn copy(&conn);
  copy.buffer_.reserve(kFlushBytes + 64 * 1024);
  return copy;
}

CopyIn::CopyIn(CopyIn&& other) noexcept
    : conn_(other.conn_),
      buffer_(std::move(other.buffer_)),
      at_row_start_(other.at_row_start_),
      sticky_(std::move(other.sticky_)) {
  other.conn_ = nullptr;
}

CopyIn::~CopyIn() { Abort(); }

void CopyIn::Abort() {
  if (conn_ == nullptr) return;
  // Ending with an error message makes the server fail the COPY; drain its results so the
  // connection is usable again.
  PQputCopyEnd(conn_->raw(), "pinpipe: COPY aborted by client");
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
  if (buffer_.size() >= kFlushBytes) return Flush();
  return Status::Ok();
}

Status CopyIn::Flush() {
  if (buffer_.empty()) return Status::Ok();
  // Blocking connection: PQputCopyData returns 1 once queued, -1 on failure (never 0).
  if (PQputCopyData(conn_->raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
    return Unavailable("COPY: PQputCopyData: " + conn_->ErrorMessage());
  }
  buffer_.clear();
  return Status::Ok();
}

StatusOr<int64_t> CopyIn::Finish() {
  if (conn_ == nullptr) return FailedPrecondition("COPY: not in progress");
  if (!at_row_start_) return FailedPrecondition("COPY: Finish() inside an unfinished row");
  Status flushed = Flush();
  if (!flushed.ok()) {
    Abort();
    return flushed;
  }
  Connection* conn = conn_;
  conn_ = nullptr;
  if (PQputCopyEnd(conn->raw(), nullptr) != 1) {
    return Unavailable("COPY: PQputCopyEnd: " + conn->ErrorMessage());
  }
  auto result = conn->Check(PQgetResult(conn->raw()), PGRES_COMMAND_OK, PGRES_COMMAND_OK);
  // A COPY yields one result; drain defensively so the connection is left idle.
  while (PGresult* extra = PQgetResult(conn->raw())) PQclear(extra);
  if (!result.ok()) return result.status();
  return result->AffectedRows();
}

}  // namespace pinpipe::pg
