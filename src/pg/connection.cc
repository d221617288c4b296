#include "pg/connection.h"

#include <charconv>
#include <cstdlib>

#include "pg/sqlstate.h"

namespace pinpipe::pg {
namespace {

std::string Trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using ConninfoOptions = std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter>;

StatusOr<ConninfoOptions> ParseConninfo(const std::string& conninfo) {
  char* error = nullptr;
  ConninfoOptions options(PQconninfoParse(conninfo.c_str(), &error));
  if (!options) {
    std::string message = Trimmed(error);
    PQfreemem(error);
    return InvalidArgument("invalid PostgreSQL conninfo: " + message);
  }
  return options;
}

// Conninfo values are quoted so spaces, quotes and backslashes survive.
void AppendConninfoPair(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

}  // namespace

int64_t Result::AffectedRows() const {
  const char* tuples = PQcmdTuples(result_.get());
  int64_t value = 0;
  if (tuples == nullptr) return 0;
  std::string_view text(tuples);
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

StatusOr<Connection> Connection::Open(const std::string& conninfo) {
  // Parse first so a typo is reported as InvalidArgument instead of a connection failure.
  {
    auto parsed = ParseConninfo(conninfo);
    if (!parsed.ok()) return parsed.status();
  }
  ConnPtr conn(PQconnectdb(conninfo.c_str()));
  if (!conn) return ResourceExhausted("PQconnectdb: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn.get()));
    // libpq gives no SQLSTATE for startup failures; the server's FATAL text is stable enough to
    // tell the two cases a caller can act on (create the database / fix credentials).
    if (message.find("does not exist") != std::string::npos) {
      return NotFound("PostgreSQL connect: " + message);
    }
    if (message.find("authentication failed") != std::string::npos) {
      return Unauthenticated("PostgreSQL connect: " + message);
    }
    return Unavailable("PostgreSQL connect: " + message);
  }
  return Connection(std::move(conn));
}

StatusOr<std::string> Connection::EncryptPassword(const std::string& password,
                                                  const std::string& user) {
  char* hashed = PQencryptPasswordConn(conn_.get(), password.c_str(), user.c_str(), nullptr);
  if (hashed == nullptr) return Internal("PQencryptPasswordConn: " + ErrorMessage());
  std::string out(hashed);
  PQfreemem(hashed);
  return out;
}

std::string Connection::ErrorMessage() const {
  return conn_ ? Trimmed(PQerrorMessage(conn_.get())) : std::string("no connection");
}

StatusOr<Result> Connection::Check(PGresult* raw_result, ExecStatusType ok_status_a,
                                   ExecStatusType ok_status_b) {
  ResultPtr result(raw_result);
  if (!result) {
    last_sqlstate_.clear();
    if (PQstatus(conn_.get()) == CONNECTION_BAD) {
      return Unavailable("PostgreSQL connection lost: " + ErrorMessage());
    }
    return Internal("PostgreSQL: no result: " + ErrorMessage());
  }
  ExecStatusType status = PQresultStatus(result.get());
  if (status == ok_status_a || status == ok_status_b) return Result(std::move(result));
  const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  std::string message = Trimmed(PQresultErrorMessage(result.get()));
  // Errors generated inside libpq (server closed the connection) carry no SQLSTATE.
  if ((sqlstate == nullptr || *sqlstate == '\0') && PQstatus(conn_.get()) == CONNECTION_BAD) {
    return Unavailable("PostgreSQL connection lost: " + message);
  }
  if (sqlstate == nullptr || *sqlstate == '\0') {
    return Internal("PostgreSQL: unexpected result " + std::string(PQresStatus(status)) + ": " +
                    message);
  }
  return StatusFromSqlState(sqlstate, message);
}

StatusOr<Result> Connection::Exec(const std::string& sql) {
  if (!conn_) return FailedPrecondition("PostgreSQL: connection was moved from");
  return Check(PQexec(conn_.get(), sql.c_str()), PGRES_COMMAND_OK, PGRES_TUPLES_OK);
}

Status Connection::Run(const std::string& sql) { return Exec(sql).status(); }

StatusOr<Result> Connection::ExecParams(const std::string& sql, const std::vector<Param>& params) {
  if (!conn_) return FailedPrecondition("PostgreSQL: connection was moved from");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  return Check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               PGRES_COMMAND_OK, PGRES_TUPLES_OK);
}

Status Connection::SendQuery(const std::string& sql, const std::vector<Param>& params) {
  if (!conn_) return FailedPrecondition("PostgreSQL: connection was moved from");
  if (in_flight_) return FailedPrecondition("PostgreSQL: a query is already in flight");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  if (PQsendQueryParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) != 1) {
    if (PQstatus(conn_.get()) == CONNECTION_BAD) {
      return Unavailable("PostgreSQL connection lost: " + ErrorMessage());
    }
    return Internal("PostgreSQL: cannot send a query: " + ErrorMessage());
  }
  in_flight_ = true;
  return Status::Ok();
}

std::optional<StatusOr<Result>> Connection::PollResult() {
  if (!in_flight_) return StatusOr<Result>(FailedPrecondition("PostgreSQL: no query in flight"));
  if (PQconsumeInput(conn_.get()) != 1) {
    in_flight_ = false;
    return StatusOr<Result>(Unavailable("PostgreSQL connection lost: " + ErrorMessage()));
  }
  if (PQisBusy(conn_.get()) != 0) return std::nullopt;
  // The statement is done: its result, then a null result. Reading on does not block now.
  std::optional<StatusOr<Result>> out;
  while (PGresult* raw = PQgetResult(conn_.get())) {
    StatusOr<Result> checked = Check(raw, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    if (!out || (out->ok() && !checked.ok())) out.emplace(std::move(checked));
  }
  in_flight_ = false;
  if (!out) return StatusOr<Result>(Internal("PostgreSQL: a query ended without a result"));
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

StatusOr<std::string> ConninfoWith(const std::string& conninfo, std::string_view key,
                                   std::string_view value) {
  ASSIGN_OR_RETURN(ConninfoOptions options, ParseConninfo(conninfo));
  std::string out;
  bool replaced = false;
  for (PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (key == option->keyword) {
      AppendConninfoPair(out, key, value);
      replaced = true;
    } else if (option->val != nullptr) {
      AppendConninfoPair(out, option->keyword, option->val);
    }
  }
  if (!replaced) return InvalidArgument("unknown conninfo keyword: " + std::string(key));
  return out;
}

StatusOr<std::string> ConninfoValue(const std::string& conninfo, std::string_view key) {
  ASSIGN_OR_RETURN(ConninfoOptions options, ParseConninfo(conninfo));
  for (PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (key == option->keyword) return std::string(option->val ? option->val : "");
  }
  return InvalidArgument("unknown conninfo keyword: " + std::string(key));
}

StatusOr<bool> EnsureDatabase(const std::string& conninfo) {
  ASSIGN_OR_RETURN(std::string name, ConninfoValue(conninfo, "dbname"));
  if (name.empty()) return false;
  ASSIGN_OR_RETURN(std::string admin_dsn, ConninfoWith(conninfo, "dbname", "postgres"));
  ASSIGN_OR_RETURN(Connection admin, Connection::Open(admin_dsn));
  ASSIGN_OR_RETURN(Result exists,
                   admin.ExecParams("SELECT 1 FROM pg_database WHERE datname = $1", {name}));
  if (exists.rows() > 0) return false;
  // CREATE DATABASE takes no parameters and cannot run in a transaction block.
  Status created = admin.Run("CREATE DATABASE " + QuoteIdentifier(name));
  // A concurrent creator won: duplicate_database once its CREATE DATABASE had committed, a unique
  // violation on pg_database_datname_index while both were running.
  if (!created.ok() && (admin.last_sqlstate() == "42P04" || admin.last_sqlstate() == "23505")) {
    return false;
  }
  RETURN_IF_ERROR(created);
  return true;
}

StatusOr<Connection> OpenCreatingDatabase(const std::string& conninfo) {
  StatusOr<Connection> conn = Connection::Open(conninfo);
  if (conn.ok() || conn.status().code() != StatusCode::kNotFound) return conn;
  RETURN_IF_ERROR(EnsureDatabase(conninfo).status());
  return Connection::Open(conninfo);
}

}  // namespace pinpipe::pg
