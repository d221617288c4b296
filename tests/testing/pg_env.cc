#include "testing/pg_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "pg/connection.h"

namespace pinpipe::testing {

std::optional<std::string> TestPgDsn() {
  const char* dsn = std::getenv("PINPIPE_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') return std::nullopt;
  return std::string(dsn);
}

ScratchDatabase::ScratchDatabase(const std::string& admin_dsn) : admin_dsn_(admin_dsn) {
  static std::atomic<int> counter{0};
  name_ = "pinpipe_t_" + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1));
  auto admin = pg::Connection::Open(admin_dsn_);
  if (!admin.ok()) {
    error_ = admin.status().ToString();
    return;
  }
  admin->Run("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(name_) + " WITH (FORCE)")
      .IgnoreError();
  Status created = admin->Run("CREATE DATABASE " + pg::QuoteIdentifier(name_));
  if (!created.ok()) {
    error_ = created.ToString();
    return;
  }
  auto dsn = pg::ConninfoWith(admin_dsn_, "dbname", name_);
  if (!dsn.ok()) {
    error_ = dsn.status().ToString();
    return;
  }
  dsn_ = *dsn;
}

ScratchDatabase::~ScratchDatabase() {
  if (dsn_.empty()) return;
  auto admin = pg::Connection::Open(admin_dsn_);
  if (admin.ok()) {
    admin->Run("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(name_) + " WITH (FORCE)")
        .IgnoreError();
  }
}

}  // namespace pinpipe::testing
