// CopyOut: a reader for `COPY (<query>) TO STDOUT (FORMAT binary)`, one row at a time, so a
// query of millions of rows never sits in client memory (PQexec would hold every row of the
// result before returning). BinaryRow decodes one row of PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format"); the field decoders take
// the server's binary send format of the types a reader selects (cast in the query to be sure):
// int4, int8, bool, float8, date, timestamp (without time zone) and text.
//
// The CopyOut borrows the Connection, which must outlive it and must not be used for anything
// else until Next() has returned false or the CopyOut is destroyed. Destroying an unfinished
// CopyOut cancels the query on the server and drains what was already sent, so the connection is
// usable again (the enclosing transaction is then aborted: roll it back). Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::pg {

// One row of a binary COPY: its fields as byte ranges into the current message (valid until the
// next Next()), nullopt for NULL.
class BinaryRow {
 public:
  size_t size() const { return fields_.size(); }
  const std::optional<std::string_view>& field(size_t i) const { return fields_[i]; }
  bool IsNull(size_t i) const { return !fields_[i].has_value(); }

  // Typed reads of field i; nullopt for NULL. InvalidArgument when the field's length does not
  // fit the type (a query that selected another type: cast it).
  StatusOr<std::optional<int32_t>> Int4(size_t i) const;
  StatusOr<std::optional<int64_t>> Int8(size_t i) const;
  StatusOr<std::optional<bool>> Bool(size_t i) const;
  StatusOr<std::optional<double>> Float8(size_t i) const;
  // date: days since 1970-01-01 (the server sends days since 2000-01-01; -infinity/infinity
  // come as INT32_MIN / INT32_MAX and are kept as they are).
  StatusOr<std::optional<int32_t>> Date(size_t i) const;
  // timestamp: microseconds since 1970-01-01 00:00 (the server sends them since 2000-01-01;
  // -infinity/infinity come as INT64_MIN / INT64_MAX and are kept as they are).
  StatusOr<std::optional<int64_t>> Timestamp(size_t i) const;
  // text: the bytes as sent (the client encoding).
  std::optional<std::string_view> Text(size_t i) const { return fields_[i]; }

  // Parses one CopyData message: the file header (only when `expect_header`), then one tuple or
  // the trailer. Returns false (and sets *at_end) for the trailer. Errors: DataLoss for a
  // malformed message. For CopyOut and tests.
  StatusOr<bool> Parse(std::string_view message, bool expect_header, bool* at_end);

 private:
  std::vector<std::optional<std::string_view>> fields_;
};

class CopyOut {
 public:
  // Issues `copy_sql` (a COPY ... TO STDOUT (FORMAT binary)) and expects PGRES_COPY_OUT.
  // Errors: per the SQLSTATE table (e.g. NotFound for a missing relation).
  static StatusOr<CopyOut> Start(Connection& conn, const std::string& copy_sql);

  CopyOut(CopyOut&& other) noexcept;
  CopyOut& operator=(CopyOut&&) = delete;
  CopyOut(const CopyOut&) = delete;
  ~CopyOut();

  // The next row into *row: true, or false once the COPY has ended and the server reported
  // success. Errors: the server's (per the SQLSTATE table) when the query fails midway,
  // Unavailable when the connection is lost, DataLoss for a malformed message.
  StatusOr<bool> Next(BinaryRow* row);
  // Rows returned so far.
  int64_t rows() const { return rows_; }

 private:
  explicit CopyOut(Connection* conn) : conn_(conn) {}
  Status Finish();
  void Abort();
  void FreeBuffer();

  Connection* conn_;        // null once finished, aborted or moved from
  char* buffer_ = nullptr;  // the current message (PQgetCopyData's, freed with PQfreemem)
  bool header_ = true;      // the first message starts with the file header
  int64_t rows_ = 0;
};

}  // namespace pinpipe::pg
