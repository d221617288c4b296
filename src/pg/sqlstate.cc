#include "pg/sqlstate.h"

#include <array>
#include <string>

namespace pinpipe::pg {
namespace {

// Exact codes first, then whole classes (the first two characters). Exact entries exist where a
// class holds codes that must be treated differently from the rest of the class.
struct ExactEntry {
  std::string_view sqlstate;
  StatusCode code;
};
constexpr std::array kExact = {
    // Serialization failure and deadlock: the transaction can simply be retried.
    ExactEntry{"40001", StatusCode::kUnavailable}, ExactEntry{"40P01", StatusCode::kUnavailable},
    // Integrity: a duplicate key means the row is already there (idempotent writers rely on it).
    ExactEntry{"23505", StatusCode::kAlreadyExists},
    // Syntax/access class: missing objects are NotFound, duplicates AlreadyExists.
    ExactEntry{"42P01", StatusCode::kNotFound},            // undefined_table
    ExactEntry{"42703", StatusCode::kNotFound},            // undefined_column
    ExactEntry{"42883", StatusCode::kNotFound},            // undefined_function
    ExactEntry{"42704", StatusCode::kNotFound},            // undefined_object
    ExactEntry{"42P04", StatusCode::kAlreadyExists},       // duplicate_database
    ExactEntry{"42P06", StatusCode::kAlreadyExists},       // duplicate_schema
    ExactEntry{"42P07", StatusCode::kAlreadyExists},       // duplicate_table
    ExactEntry{"42710", StatusCode::kAlreadyExists},       // duplicate_object
    ExactEntry{"42501", StatusCode::kFailedPrecondition},  // insufficient_privilege: needs a human
    ExactEntry{"3D000", StatusCode::kNotFound},            // invalid_catalog_name: no such database
    // Operator intervention: shutdowns are retriable (the server comes back); a cancelled
    // statement (statement_timeout) is a deadline.
    ExactEntry{"57P01", StatusCode::kUnavailable},         // admin_shutdown
    ExactEntry{"57P02", StatusCode::kUnavailable},         // crash_shutdown
    ExactEntry{"57P03", StatusCode::kUnavailable},         // cannot_connect_now (starting up)
    ExactEntry{"57014", StatusCode::kDeadlineExceeded},    // query_canceled
    ExactEntry{"25P02", StatusCode::kFailedPrecondition},  // in_failed_sql_transaction
};

struct ClassEntry {
  std::string_view sqlstate_class;
  StatusCode code;
};
constexpr std::array kClasses = {
    ClassEntry{"08", StatusCode::kUnavailable},        // connection exception
    ClassEntry{"23", StatusCode::kInvalidArgument},    // integrity constraint violation
    ClassEntry{"42", StatusCode::kInvalidArgument},    // syntax error or access rule violation
    ClassEntry{"22", StatusCode::kInvalidArgument},    // data exception: bad value in one row
    ClassEntry{"53", StatusCode::kResourceExhausted},  // insufficient resources (disk, memory)
    ClassEntry{"40", StatusCode::kUnavailable},        // transaction rollback: retry
};

}  // namespace

StatusCode StatusCodeForSqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return StatusCode::kInternal;
  for (const auto& entry : kExact) {
    if (entry.sqlstate == sqlstate) return entry.code;
  }
  for (const auto& entry : kClasses) {
    if (entry.sqlstate_class == sqlstate.substr(0, 2)) return entry.code;
  }
  return StatusCode::kInternal;
}

Status StatusFromSqlState(std::string_view sqlstate, std::string_view message) {
  // libpq messages end with a newline; keep log lines on one line.
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::string text(message);
  text += " (SQLSTATE ";
  text += sqlstate.empty() ? std::string_view("none") : sqlstate;
  text += ")";
  return Status(StatusCodeForSqlState(sqlstate), std::move(text));
}

}  // namespace pinpipe::pg
