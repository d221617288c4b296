// Connection and Result: RAII owners of libpq's PGconn and PGresult.
//
// A Connection owns one PGconn (closed by PQfinish in the destructor); a Result owns one PGresult
// (freed by PQclear). Both are move-only. A Connection is not thread-safe: use it from one thread
// at a time (libpq's own rule). Every error from the server is turned into a Status through the
// SQLSTATE table in pg/sqlstate.h; a lost connection is Unavailable (retriable: reconnect).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::pg {

struct PGconnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PGresultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ConnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// The successful result of a statement (PGRES_COMMAND_OK or PGRES_TUPLES_OK).
class Result {
 public:
  explicit Result(ResultPtr result) : result_(std::move(result)) {}

  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  std::string_view ColumnName(int column) const { return PQfname(result_.get(), column); }
  // Text value (text format); empty for NULL, so check IsNull where NULL matters.
  std::string_view GetValue(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // The type OID of a column (pg_type.oid, e.g. 23 for int4, 1700 for numeric).
  uint32_t ColumnType(int column) const { return PQftype(result_.get(), column); }
  // Rows affected by INSERT/UPDATE/DELETE/COPY..., 0 if the command reports none.
  int64_t AffectedRows() const;
  PGresult* get() const { return result_.get(); }

 private:
  ResultPtr result_;
};

// A text parameter for ExecParams; nullopt is SQL NULL.
using Param = std::optional<std::string>;

class Connection {
 public:
  // Connects (blocking) with a libpq conninfo string or URI. Errors: InvalidArgument for a
  // malformed conninfo; NotFound when the database does not exist; Unauthenticated when the
  // server rejects the credentials; Unavailable otherwise (server down, refused, ...).
  static StatusOr<Connection> Open(const std::string& conninfo);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // Runs one or more statements without parameters. Errors per the SQLSTATE table;
  // Unavailable when the connection is lost.
  StatusOr<Result> Exec(const std::string& sql);
  // Exec, discarding the result.
  Status Run(const std::string& sql);
  // Runs one statement with $1..$n text parameters.
  StatusOr<Result> ExecParams(const std::string& sql, const std::vector<Param>& params);

  // Asynchronous queries, for a caller that must not block on a slow statement (the
  // dashboard's refresher runs whole-table views beside its cheap queries): SendQuery() sends
  // one statement with $1..$n text parameters and returns at once; PollResult() never blocks: it
  // reads what the server sent so far and returns nullopt while the statement runs, then its
  // result (or error) exactly once. Between the two the connection must not be used otherwise.
  // Errors of SendQuery: FailedPrecondition while a query is in flight; Unavailable when the
  // connection is lost.
  Status SendQuery(const std::string& sql, const std::vector<Param>& params);
  std::optional<StatusOr<Result>> PollResult();
  // True between SendQuery() and the PollResult() that returned its result.
  bool query_in_flight() const { return in_flight_; }

  // `password` hashed for ALTER ROLE `user` ... PASSWORD, by libpq with the server's
  // password_encryption (SCRAM-SHA-256 by default), so the clear text never reaches the server or
  // its logs. Errors: Internal with libpq's message.
  StatusOr<std::string> EncryptPassword(const std::string& password, const std::string& user);

  // True while the connection is usable (PQstatus == CONNECTION_OK).
  bool healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  // The last libpq error message, trailing newline removed.
  std::string ErrorMessage() const;

  // The SQLSTATE of the last statement that failed on the server ("" after a client-side or
  // connection error). For callers that must tell error classes apart beyond the Status code,
  // e.g. a bad value in one row (class 22/23) from a bad statement (class 42).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  // The COPY wrappers of this folder drive libpq's COPY protocol on the handle.
  friend class CopyIn;
  friend class CopyOut;

  explicit Connection(ConnPtr conn) : conn_(std::move(conn)) {}
  // Do not PQfinish it.
  PGconn* raw() const { return conn_.get(); }
  // Turns a PGresult into Result or an error Status. A null result or one without SQLSTATE on a
  // broken connection is Unavailable. `ok_status_a` and `ok_status_b` count as success.
  StatusOr<Result> Check(PGresult* raw_result, ExecStatusType ok_status_a,
                         ExecStatusType ok_status_b);

  ConnPtr conn_;
  std::string last_sqlstate_;
  bool in_flight_ = false;
};

// Quotes an identifier for SQL ("my db" -> "\"my db\""), doubling embedded quotes.
std::string QuoteIdentifier(std::string_view name);
// Quotes a string literal for SQL ('it''s'), for the few statements that cannot take parameters
// (CREATE DATABASE). Standard-conforming strings are assumed (the default since PostgreSQL 9.1).
std::string QuoteLiteral(std::string_view text);

// Replaces (or adds) `key=value` in a conninfo string or URI and returns a key=value conninfo.
// Used to connect to the maintenance database "postgres" with the same host/user/port.
StatusOr<std::string> ConninfoWith(const std::string& conninfo, std::string_view key,
                                   std::string_view value);
// The value of `key` in a conninfo string or URI ("" if absent).
StatusOr<std::string> ConninfoValue(const std::string& conninfo, std::string_view key);

// pinpipe's one "CREATE DATABASE if missing". Creates the database named in `conninfo` when it
// does not exist, connecting to the maintenance database "postgres" with the same host, port and
// user (who needs CREATEDB then). True when this call created it; false when it existed, a
// concurrent caller created it (its duplicate_database 42P04, or the unique violation on
// pg_database's name when both ran at once, is success), or the conninfo names no database
// (libpq's default is assumed to exist). Errors: as Open for "postgres", and the server's answer
// to CREATE DATABASE.
StatusOr<bool> EnsureDatabase(const std::string& conninfo);

// Connection::Open that first creates a missing database (EnsureDatabase) when the server says
// it does not exist, for the components that own their database (speed layer, batch job). The
// common case, an existing database, costs one connection. Errors: as Open and EnsureDatabase.
StatusOr<Connection> OpenCreatingDatabase(const std::string& conninfo);

}  // namespace pinpipe::pg
