#include "serving/reader_role.h"

#include <fmt/format.h>

#include "pg/transaction.h"

namespace pinpipe::serving {
namespace {

// Role DDL of concurrent runs must not interleave (CREATE ROLE of one name by two sessions).
constexpr const char* kRoleLock = "SELECT pg_advisory_xact_lock(7365656404)";

bool IsTrue(const pg::Result& r, int column) { return r.GetValue(0, column) == "t"; }

// Refuses a role that can do more than read: it would not be the SELECT-only role it claims.
Status CheckOnlyReads(pg::Connection& conn, const std::string& name) {
  ASSIGN_OR_RETURN(pg::Result r, conn.ExecParams("SELECT rolsuper, rolcreaterole, rolcreatedb, "
                                                 "rolreplication, rolbypassrls FROM pg_roles WHERE "
                                                 "rolname = $1",
                                                 {name}));
  if (r.rows() == 0) return Status::Ok();
  std::string extra;
  const char* attributes[] = {"SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"};
  for (int c = 0; c < 5; ++c) {
    if (IsTrue(r, c)) extra += std::string(extra.empty() ? "" : ", ") + attributes[c];
  }
  ASSIGN_OR_RETURN(pg::Result member_of,
                   conn.ExecParams("SELECT string_agg(g.rolname, ', ' ORDER BY g.rolname) "
                                   "FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                                   "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1",
                                   {name}));
  if (!member_of.IsNull(0, 0)) {
    extra += fmt::format("{}member of {}", extra.empty() ? "" : ", ", member_of.GetValue(0, 0));
  }
  if (extra.empty()) return Status::Ok();
  return FailedPrecondition(fmt::format(
      "role {} exists with more than reading in reach ({}); pinpipe will not use it as the "
      "SELECT-only reader role: choose another --reader-role, or remove those privileges",
      name, extra));
}

}  // namespace

const std::vector<std::string>& ReaderSchemas() {
  static const std::vector<std::string> schemas = {"public", "batch", "serving", "scheduler"};
  return schemas;
}

Status EnsureReaderRole(pg::Connection& conn, const ReaderRoleOptions& options) {
  const std::string& name = options.name;
  if (name.empty() || name.size() > 63) {
    return InvalidArgument(fmt::format("reader role name '{}' must have 1 to 63 bytes", name));
  }
  const bool login = options.login || options.password.has_value();
  std::string attributes = login ? "LOGIN" : "NOLOGIN";
  if (options.password) {
    ASSIGN_OR_RETURN(std::string hashed, conn.EncryptPassword(*options.password, name));
    attributes += " PASSWORD " + pg::QuoteLiteral(hashed);
  }

  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kRoleLock));
  RETURN_IF_ERROR(CheckOnlyReads(conn, name));
  ASSIGN_OR_RETURN(pg::Result exists,
                   conn.ExecParams("SELECT 1 FROM pg_roles WHERE rolname = $1", {name}));
  RETURN_IF_ERROR(conn.Run(fmt::format("{} ROLE {} {}", exists.rows() > 0 ? "ALTER" : "CREATE",
                                       pg::QuoteIdentifier(name), attributes)));
  RETURN_IF_ERROR(conn.Run(fmt::format("ALTER ROLE {} SET default_transaction_read_only = on",
                                       pg::QuoteIdentifier(name))));
  for (const std::string& schema : ReaderSchemas()) {
    const std::string s = pg::QuoteIdentifier(schema);
    const std::string r = pg::QuoteIdentifier(name);
    RETURN_IF_ERROR(conn.Run(fmt::format(
        "GRANT USAGE ON SCHEMA {0} TO {1};\n"
        "REVOKE CREATE ON SCHEMA {0} FROM {1};\n"
        "GRANT SELECT ON ALL TABLES IN SCHEMA {0} TO {1};\n"
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {0} "
        "FROM {1};\n"
        "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {0} TO {1};\n"
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {0} GRANT SELECT ON TABLES TO {1};\n"
        "ALTER DEFAULT PRIVILEGES IN SCHEMA {0} GRANT EXECUTE ON FUNCTIONS TO {1}",
        s, r)));
  }
  return tx.Commit().WithContext(fmt::format("reader role {}", name));
}

}  // namespace pinpipe::serving
