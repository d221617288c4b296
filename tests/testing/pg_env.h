// PostgreSQL for integration tests: the server started by scripts/test, announced through
// PINPIPE_TEST_PG_DSN (a superuser conninfo). Each test creates its own scratch database so
// tests can run in parallel and leave nothing behind.
#pragma once

#include <optional>
#include <string>

namespace pinpipe::testing {

// The DSN from PINPIPE_TEST_PG_DSN, or nullopt (tests then GTEST_SKIP).
std::optional<std::string> TestPgDsn();

// Creates database "pinpipe_t_<pid>_<n>" on construction and drops it (WITH FORCE) on
// destruction. `ok()` is false if PostgreSQL was not reachable; `error()` says why.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(const std::string& admin_dsn);
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  // Conninfo of the scratch database.
  const std::string& dsn() const { return dsn_; }

 private:
  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
  std::string error_;
};

}  // namespace pinpipe::testing
