// Transaction: BEGIN on creation, ROLLBACK on destruction unless Commit() succeeded.
//
// Borrows the Connection, which must outlive it. Not thread-safe. A failed statement inside the
// transaction leaves it aborted on the server; the guard still rolls it back.
#pragma once

#include <string_view>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::pg {

class Transaction {
 public:
  // Runs BEGIN. Errors: as Connection::Exec.
  static StatusOr<Transaction> Begin(Connection& conn);
  // Runs BEGIN with transaction modes, e.g. "ISOLATION LEVEL REPEATABLE READ, READ ONLY" (a
  // reader that needs every statement to see one snapshot). Errors: as Connection::Exec.
  static StatusOr<Transaction> Begin(Connection& conn, std::string_view modes);

  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  // Runs COMMIT. After an error inside the transaction the server answers COMMIT with ROLLBACK;
  // that is reported as FailedPrecondition so the caller does not believe anything was stored.
  Status Commit();
  // Runs ROLLBACK now (instead of at destruction).
  Status Rollback();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed, rolled back or moved from
};

}  // namespace pinpipe::pg
