// The SELECT-only reader role against the real PostgreSQL, logged in as that role: it reads every
// schema (public, batch, serving, scheduler), including tables created after `serving ensure`
// (a new batch day's partition), and cannot INSERT, UPDATE, DELETE, TRUNCATE or CREATE anything,
// neither in its default read-only sessions nor after turning that off. A role that can do more
// is refused as the reader.
#include <unistd.h>

#include <atomic>

#include "serving_fixture.h"
#include "testing/status_matchers.h"

namespace pinpipe::serving {
namespace {

class ReaderRoleTest : public ServingTest {
 protected:
  void SetUp() override {
    ServingTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    static std::atomic<int> n{0};
    role_ = fmt::format("pinpipe_reader_t_{}_{}", getpid(), n.fetch_add(1));
  }
  void TearDown() override {
    if (role_.empty()) return;
    // Roles are cluster-wide: drop the scratch database (and with it every grant to the role),
    // then the role.
    conn_.reset();
    db_.reset();
    auto admin = pg::Connection::Open(*testing::TestPgDsn());
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    EXPECT_TRUE(admin->Run("DROP ROLE IF EXISTS " + pg::QuoteIdentifier(role_)).ok());
  }

  Status Ensure(bool login, std::optional<std::string> password = std::nullopt) {
    ServingOptions options;
    options.pg_dsn = db_->dsn();
    ReaderRoleOptions reader;
    reader.name = role_;
    reader.login = login;
    reader.password = std::move(password);
    options.reader = reader;
    return EnsureServing(options, transform::Transform::Default()).status();
  }

  // A connection logged in as the reader role.
  pg::Connection AsReader() {
    auto dsn = pg::ConninfoWith(db_->dsn(), "user", role_);
    EXPECT_TRUE(dsn.ok());
    auto conn = pg::Connection::Open(*dsn);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return std::move(*conn);
  }

  std::string role_;
};

TEST_F(ReaderRoleTest, ReadsEverySchemaAndWritesNothing) {
  InsertSpeed(RecordKind::kPin, RowSet{{"ind", "unique_id", "dt"}, {{"1", "a", "2024-05-01"}}});
  ASSERT_TRUE(Ensure(/*login=*/true).ok());
  // A day the batch job loads after ensure: a new partition, created by the pipeline's role.
  Layers batch;
  batch[0] = RowSet{{"ind", "unique_id", "dt"}, {{"1", "a", "2024-05-01"}}};
  LoadBatchDay("2024-05-01", batch);

  pg::Connection reader = AsReader();
  for (const char* sql :
       {"SELECT count(*) FROM serving.pins", "SELECT * FROM serving.boundary",
        "SELECT * FROM serving.layer_days", "SELECT * FROM serving.reconciliation",
        "SELECT * FROM serving.q1_popular_category_by_country",
        "SELECT * FROM serving.q5_median_follower_count_by_age_group('2024-01-01', NULL, NULL, "
        "NULL, '18-24')",
        "SELECT count(*) FROM public.experimental_data",
        "SELECT count(*) FROM pinpipe_dead_letters", "SELECT count(*) FROM pinpipe_stream_offsets",
        "SELECT count(*) FROM batch.quality", "SELECT count(*) FROM batch.experimental_data",
        "SELECT count(*) FROM batch.experimental_data_d20240501",
        "SELECT * FROM batch.q1_popular_category_by_country",
        "SELECT count(*) FROM scheduler.dag_runs", "SELECT count(*) FROM scheduler.task_logs"}) {
    auto r = reader.Exec(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
  EXPECT_EQ(reader.Exec("SELECT layer FROM serving.pins")->GetValue(0, 0), "batch");

  const std::vector<std::string> writes = {
      "INSERT INTO public.experimental_data (ind, unique_id, dt) VALUES (2, 'b', '2024-05-02')",
      "UPDATE public.experimental_data SET category = 'x'",
      "DELETE FROM public.experimental_data",
      "TRUNCATE public.experimental_data",
      "INSERT INTO pinpipe_stream_offsets VALUES ('g', 't', 0, 0)",
      "UPDATE batch.quality SET sealed = false",
      "DELETE FROM batch.experimental_data",
      "DELETE FROM batch.experimental_data_d20240501",
      "DELETE FROM scheduler.dag_runs",
      "CREATE TABLE public.reader_table (x int)",
      "CREATE TABLE serving.reader_table (x int)",
      "CREATE TABLE batch.reader_table (x int)",
      "CREATE VIEW serving.reader_view AS SELECT 1",
      "CREATE OR REPLACE VIEW serving.boundary AS SELECT 1",
      "CREATE SCHEMA reader_schema",
      "CREATE TEMP TABLE reader_temp (x int)",
      "DROP VIEW serving.pins",
  };
  // Its sessions are read-only by default (SQLSTATE 25006)...
  for (const std::string& sql : writes) {
    EXPECT_FALSE(reader.Run(sql).ok()) << sql;
    EXPECT_EQ(reader.last_sqlstate(), "25006") << sql;
  }
  // ... and without that, privileges refuse every write (42501 insufficient_privilege; 42501
  // or "must be owner" for DDL on existing objects). Only a TEMP table is possible then:
  // PostgreSQL grants TEMPORARY on every database to PUBLIC, and it is private to the session.
  ASSERT_TRUE(reader.Run("SET default_transaction_read_only = off").ok());
  for (const std::string& sql : writes) {
    if (sql.starts_with("CREATE TEMP")) continue;
    EXPECT_FALSE(reader.Run(sql).ok()) << sql;
    EXPECT_EQ(reader.last_sqlstate(), "42501") << sql;
  }
  EXPECT_EQ(Q("SELECT count(*) FROM public.experimental_data"), 1);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.quality"), 3);
  EXPECT_EQ(Q("SELECT rolcanlogin::int FROM pg_roles WHERE rolname = '" + role_ + "'"), 1);
}

TEST_F(ReaderRoleTest, IsNoLoginByDefaultAndEnsureIsIdempotent) {
  ASSERT_TRUE(Ensure(/*login=*/false).ok());
  EXPECT_EQ(Q("SELECT rolcanlogin::int FROM pg_roles WHERE rolname = '" + role_ + "'"), 0);
  // Usable through SET ROLE by the pipeline's role, with the same privileges.
  ASSERT_TRUE(conn_->Run("SET ROLE " + pg::QuoteIdentifier(role_)).ok());
  EXPECT_TRUE(conn_->Exec("SELECT * FROM serving.boundary").ok());
  EXPECT_FALSE(conn_->Run("DELETE FROM batch.quality").ok());
  EXPECT_EQ(conn_->last_sqlstate(), "42501");
  ASSERT_TRUE(conn_->Run("RESET ROLE").ok());
  // Again, now with a password: LOGIN, and the password works (hashed client-side).
  ASSERT_TRUE(Ensure(/*login=*/false, "s3cret").ok());
  ASSERT_TRUE(Ensure(/*login=*/false, "s3cret").ok());
  EXPECT_EQ(Q("SELECT rolcanlogin::int FROM pg_roles WHERE rolname = '" + role_ + "'"), 1);
  EXPECT_EQ(Q("SELECT (rolpassword LIKE 'SCRAM-SHA-256$%')::int FROM pg_authid WHERE rolname = '" +
              role_ + "'"),
            1);
}

TEST_F(ReaderRoleTest, RefusesARoleThatCanDoMore) {
  ASSERT_TRUE(conn_->Run("CREATE ROLE " + pg::QuoteIdentifier(role_) + " CREATEDB").ok());
  Status s = Ensure(/*login=*/false);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition)) << s.ToString();
  EXPECT_NE(s.message().find("CREATEDB"), std::string::npos) << s.ToString();
  ASSERT_TRUE(conn_->Run("ALTER ROLE " + pg::QuoteIdentifier(role_) + " NOCREATEDB").ok());
  // A member of the pipeline's role would inherit its privileges.
  ASSERT_TRUE(conn_->Run("GRANT pg_write_all_data TO " + pg::QuoteIdentifier(role_)).ok());
  s = Ensure(/*login=*/false);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition)) << s.ToString();
  EXPECT_NE(s.message().find("member of pg_write_all_data"), std::string::npos) << s.ToString();
  ASSERT_TRUE(conn_->Run("REVOKE pg_write_all_data FROM " + pg::QuoteIdentifier(role_)).ok());
  EXPECT_TRUE(Ensure(/*login=*/false).ok());
}

}  // namespace
}  // namespace pinpipe::serving
