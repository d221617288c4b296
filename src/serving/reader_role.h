// The SELECT-only PostgreSQL role for readers of the pipeline's database (the dashboard): it may
// read every table and view of the schemas public (speed layer), batch, serving and scheduler,
// and write nothing.
//
// EnsureReaderRole() makes the role exactly as asked, every time (idempotent):
//   * CREATE ROLE, or ALTER ROLE when it exists: NOLOGIN, or LOGIN (with a password when one is
//     given; it is hashed by libpq, so the clear text never reaches the server);
//     default_transaction_read_only = on for its sessions (so even TEMP tables need a session
//     that turns it off);
//   * a role that exists with more than reading in reach (superuser, CREATEROLE, CREATEDB,
//     REPLICATION, BYPASSRLS, or membership of another role, whose privileges it would inherit)
//     is refused, not "fixed";
//   * per schema: USAGE; SELECT on every table and view; INSERT, UPDATE, DELETE, TRUNCATE,
//     REFERENCES, TRIGGER and CREATE revoked (in case someone granted them); and ALTER DEFAULT
//     PRIVILEGES so that tables and views the calling role creates later (the batch job's daily
//     partitions, new views) are readable too. EXECUTE on the schemas' functions (the analytics
//     functions).
// Roles are cluster-wide, grants per database: run it in each database the reader should read.
// The calling role needs CREATEROLE (or superuser) and must own the schemas' objects or be
// able to grant on them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::serving {

struct ReaderRoleOptions {
  std::string name = "pinpipe_reader";
  bool login = false;                   // LOGIN; implied by a password
  std::optional<std::string> password;  // set when given; an existing one is kept otherwise
};

// The schemas the reader may read.
const std::vector<std::string>& ReaderSchemas();

// Errors: InvalidArgument for an empty or too long name; FailedPrecondition for an existing role
// with more than reading in reach, or when the server refuses for lack of privilege (SQLSTATE
// 42501, e.g. no CREATEROLE); the connection's others.
Status EnsureReaderRole(pg::Connection& conn, const ReaderRoleOptions& options);

}  // namespace pinpipe::serving
