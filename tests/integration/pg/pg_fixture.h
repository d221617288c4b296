// Shared fixture of src/pg's integration tests: a scratch database on the real PostgreSQL of
// PINPIPE_TEST_PG_DSN (skipped without it) and one connection to it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "pg/connection.h"
#include "testing/pg_env.h"

namespace pinpipe::pg {

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dsn = pinpipe::testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN is not set; start PostgreSQL via scripts/test";
    db_ = std::make_unique<pinpipe::testing::ScratchDatabase>(*dsn);
    ASSERT_TRUE(db_->ok()) << db_->error();
    auto conn = Connection::Open(db_->dsn());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_.emplace(std::move(conn).value());
  }
  Connection& conn() { return *conn_; }

  std::unique_ptr<pinpipe::testing::ScratchDatabase> db_;
  std::optional<Connection> conn_;
};

}  // namespace pinpipe::pg
