#include "pg/transaction.h"

#include <cstring>
#include <string>

namespace pinpipe::pg {

StatusOr<Transaction> Transaction::Begin(Connection& conn) {
  RETURN_IF_ERROR(conn.Run("BEGIN"));
  return Transaction(&conn);
}

StatusOr<Transaction> Transaction::Begin(Connection& conn, std::string_view modes) {
  RETURN_IF_ERROR(conn.Run("BEGIN " + std::string(modes)));
  return Transaction(&conn);
}

Transaction::~Transaction() {
  // Errors are ignored: if the connection is gone the server has rolled back already.
  if (conn_ != nullptr) Rollback().IgnoreError();
}

Status Transaction::Commit() {
  if (conn_ == nullptr) return FailedPrecondition("transaction already finished");
  Connection* conn = conn_;
  conn_ = nullptr;
  ASSIGN_OR_RETURN(Result result, conn->Exec("COMMIT"));
  // COMMIT of a failed transaction "succeeds" with command tag ROLLBACK.
  if (std::strcmp(PQcmdStatus(result.get()), "ROLLBACK") == 0) {
    return FailedPrecondition("transaction was aborted by an earlier error and rolled back");
  }
  return Status::Ok();
}

Status Transaction::Rollback() {
  if (conn_ == nullptr) return FailedPrecondition("transaction already finished");
  Connection* conn = conn_;
  conn_ = nullptr;
  return conn->Run("ROLLBACK");
}

}  // namespace pinpipe::pg
