// CopyIn: pinpipe's one writer for `COPY <table> FROM STDIN` in PostgreSQL's text format (the
// seeder, the speed layer's sink and the batch job's day loader all write through it).
//
// Rows reach the server three ways: built field by field (Text/Null/Int, then EndRow; escaped as
// the text format requires: backslash, tab, newline and carriage return become \\ \t \n \r, NULL
// is \N), as ready-made COPY lines copied into the writer's buffer (AppendLines), or as a block of
// ready-made lines sent straight from the caller's memory (SendLines, no copy). Buffered rows
// leave in chunks of about kFlushBytes, so a load of many small rows costs few libpq calls and
// few packets. With CopyInOptions::background_buffers > 0 a sender thread owned by the CopyIn does
// the sending, so the caller keeps producing rows while PostgreSQL parses the previous megabytes
// (the batch job); at most that many full buffers wait for it (then the caller waits), plus the
// one being sent and the one being filled.
//
// Text is passed byte-exact (UTF-8 such as NBSP or emoji needs no escaping). The CopyIn borrows
// the Connection, which must outlive it and must not be used for anything else until Finish()
// returns. Destroying an unfinished CopyIn aborts the COPY (PQputCopyEnd with an error message:
// the server stores none of its rows, and aborts a transaction around it). Errors carry the
// server's message and SQLSTATE (pg/sqlstate.h). Not thread-safe: one thread calls everything;
// the sender thread is internal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::pg {

// Appends `value` to `out` escaped for one text-format COPY field.
void AppendCopyField(std::string& out, std::string_view value);

struct CopyInOptions {
  // 0: the caller's thread sends (PQputCopyData blocks it while the socket is full). n > 0: a
  // sender thread sends, with up to n full buffers queued for it.
  size_t background_buffers = 0;
};

class CopyIn {
 public:
  static constexpr size_t kFlushBytes = 1 << 20;

  // Issues `copy_sql` (e.g. "COPY t (a, b) FROM STDIN") and expects PGRES_COPY_IN; starts the
  // sender thread if `options` asks for one. Errors: per the SQLSTATE table (NotFound for a
  // missing table, ...), Unavailable for a lost connection.
  static StatusOr<CopyIn> Start(Connection& conn, const std::string& copy_sql,
                                CopyInOptions options = {});

  CopyIn(CopyIn&& other) noexcept;
  CopyIn& operator=(CopyIn&&) = delete;
  CopyIn(const CopyIn&) = delete;
  ~CopyIn();

  // Field appenders for the current row, in column order.
  CopyIn& Text(std::string_view value);
  CopyIn& Null();
  CopyIn& Int(int64_t value);
  // Ends the current row; sends (or queues) the buffer when it is large. Errors: InvalidArgument
  // if a field held a NUL byte (PostgreSQL text cannot), Unavailable if the connection broke (in
  // the background: the sender's first error).
  Status EndRow();

  // Appends whole COPY lines, already escaped, each ending in '\n' (a malformed line makes the
  // server reject the COPY at Finish). Errors: as EndRow; FailedPrecondition inside a row.
  Status AppendLines(std::string_view lines);
  // Sends what is buffered, then `lines` (whole COPY lines as for AppendLines) straight from the
  // caller's memory, which is free again when this returns. Only without a background sender.
  // Errors: FailedPrecondition inside a row or with a background sender; Unavailable if the
  // connection broke.
  Status SendLines(std::string_view lines);

  // Sends the rest, ends the COPY and returns the number of rows the server stored. Errors: the
  // server's verdict per the SQLSTATE table (InvalidArgument for a value the column type rejects,
  // ...; nothing is stored then), or the sender's first error (the COPY is aborted).
  StatusOr<int64_t> Finish();

 private:
  class Sender;

  CopyIn(Connection* conn, CopyInOptions options);
  // Sends the buffer (or hands it to the sender) when it holds kFlushBytes or `force`.
  Status Flush(bool force);
  // PQputCopyData of `data`, in pieces that fit its int length.
  static Status Put(Connection& conn, std::string_view data);
  void Abort();

  Connection* conn_;  // null once finished, aborted or moved from
  std::string buffer_;
  bool at_row_start_ = true;
  Status sticky_;  // first row-building error; reported by EndRow
  std::unique_ptr<Sender> sender_;
};

}  // namespace pinpipe::pg
