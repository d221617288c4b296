// CopyIn: a writer for `COPY <table> FROM STDIN` in PostgreSQL's text format.
//
// Rows are built field by field into one buffer, escaped as the text format requires (backslash,
// tab, newline and carriage return become \\ \t \n \r; NULL is \N), and sent with PQputCopyData
// in chunks of about kFlushBytes, so a load of many small rows costs few calls and few packets.
// Text is otherwise passed byte-exact (UTF-8 such as NBSP or emoji needs no escaping).
// The CopyIn borrows the Connection, which must outlive it and must not be used for anything
// else until Finish() returns. Destroying an unfinished CopyIn aborts the COPY (the server
// discards the rows). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::pg {

// Appends `value` to `out` escaped for one text-format COPY field.
void AppendCopyField(std::string& out, std::string_view value);

class CopyIn {
 public:
  static constexpr size_t kFlushBytes = 1 << 20;

  // Issues `copy_sql` (e.g. "COPY t (a, b) FROM STDIN") and expects PGRES_COPY_IN.
  // Errors: per the SQLSTATE table (NotFound for a missing table, ...).
  static StatusOr<CopyIn> Start(Connection& conn, const std::string& copy_sql);

  CopyIn(CopyIn&& other) noexcept;
  CopyIn& operator=(CopyIn&&) = delete;
  CopyIn(const CopyIn&) = delete;
  ~CopyIn();

  // Field appenders for the current row, in column order.
  CopyIn& Text(std::string_view value);
  CopyIn& Null();
  CopyIn& Int(int64_t value);
  // Ends the current row; sends the buffer when it is large. Errors: InvalidArgument if a field
  // held a NUL byte (PostgreSQL text cannot), Unavailable if the connection broke.
  Status EndRow();
  // Sends the rest, ends the COPY and returns the number of rows the server stored.
  // Errors: per the SQLSTATE table (InvalidArgument for a value the column type rejects, ...).
  StatusOr<int64_t> Finish();

 private:
  explicit CopyIn(Connection* conn) : conn_(conn) {}
  Status Flush();
  void Abort();

  Connection* conn_;  // null once finished, aborted or moved from
  std::string buffer_;
  bool at_row_start_ = true;
  Status sticky_;  // first row-building error; reported by EndRow
};

}  // namespace pinpipe::pg
