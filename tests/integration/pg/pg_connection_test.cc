// Integration tests of src/pg against a real PostgreSQL (PINPIPE_TEST_PG_DSN).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/pg/pg_fixture.h"
#include "pg/connection.h"
#include "pg/copy_in.h"
#include "pg/copy_out.h"
#include "pg/transaction.h"
#include "testing/pg_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::pg {
namespace {

TEST_F(PgTest, ExecAndExecParams) {
  auto result = conn().Exec("SELECT 1 AS one, NULL::text AS nothing, 'x' AS letter");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rows(), 1);
  EXPECT_EQ(result->columns(), 3);
  EXPECT_EQ(result->ColumnName(0), "one");
  EXPECT_EQ(result->GetValue(0, 0), "1");
  EXPECT_TRUE(result->IsNull(0, 1));
  EXPECT_FALSE(result->IsNull(0, 2));

  auto params = conn().ExecParams("SELECT $1::text || $2::text, $3::text IS NULL",
                                  {"a'b", "\\c", std::nullopt});
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  EXPECT_EQ(params->GetValue(0, 0), "a'b\\c");
  EXPECT_EQ(params->GetValue(0, 1), "t");
}

TEST_F(PgTest, ErrorsMapThroughSqlState) {
  EXPECT_THAT(conn().Exec("SELECT * FROM no_such_table"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(conn().Exec("SELEC 1"), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_TRUE(conn().Run("CREATE TABLE t (id int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn().Run("INSERT INTO t VALUES (1)").ok());
  Status duplicate = conn().Run("INSERT INTO t VALUES (1)");
  EXPECT_THAT(duplicate, StatusIs(StatusCode::kAlreadyExists)) << duplicate.ToString();
  EXPECT_NE(duplicate.message().find("23505"), std::string::npos);
}

TEST_F(PgTest, OpenErrors) {
  EXPECT_THAT(Connection::Open("host=127.0.0.1 port=1 connect_timeout=2"),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Connection::Open("this is not a conninfo"), StatusIs(StatusCode::kInvalidArgument));
  auto missing = ConninfoWith(db_->dsn(), "dbname", "pinpipe_no_such_db");
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(Connection::Open(*missing), StatusIs(StatusCode::kNotFound));
}

TEST_F(PgTest, ConnectionLossIsUnavailable) {
  auto other = Connection::Open(db_->dsn());
  ASSERT_TRUE(other.ok());
  auto pid = conn().Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(
      other->ExecParams("SELECT pg_terminate_backend($1::int)", {std::string(pid->GetValue(0, 0))})
          .ok());
  Status lost = conn().Run("SELECT 1");
  EXPECT_THAT(lost, StatusIs(StatusCode::kUnavailable)) << lost.ToString();
  EXPECT_TRUE(lost.retriable());
}

TEST_F(PgTest, CopyRoundTripsTrickyTextByteExact) {
  ASSERT_TRUE(conn().Run("CREATE TABLE c (id int, body text, n int)").ok());
  const std::vector<std::string> bodies = {
      "plain",
      "tab\there",
      "new\nline\r\n",
      "back\\slash \\N \\. \\\\",
      "\\",
      "nbsp\xC2\xA0 ellipsis\xE2\x80\xA6\xC2\xA0",
      "emoji \xF0\x9F\x8E\x84\xE2\x9D\xA4\xEF\xB8\x8F",
      "\"quoted\" 'single'",
      "",
      "\\.",
      std::string(300000, 'x') + "\t\n\\",  // spans a flush boundary with escapes
  };
  {
    auto copy = CopyIn::Start(conn(), "COPY c (id, body, n) FROM STDIN");
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    for (int repeat = 0; repeat < 5; ++repeat) {
      for (size_t i = 0; i < bodies.size(); ++i) {
        copy->Int(static_cast<int64_t>(repeat * 100 + static_cast<int>(i))).Text(bodies[i]).Null();
        ASSERT_TRUE(copy->EndRow().ok());
      }
    }
    auto rows = copy->Finish();
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, static_cast<int64_t>(bodies.size() * 5));
  }
  auto result = conn().Exec("SELECT id, body, n FROM c ORDER BY id");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->rows(), static_cast<int>(bodies.size() * 5));
  for (int row = 0; row < result->rows(); ++row) {
    const int id = std::stoi(std::string(result->GetValue(row, 0)));
    EXPECT_EQ(result->GetValue(row, 1), bodies[static_cast<size_t>(id % 100)]) << id;
    EXPECT_TRUE(result->IsNull(row, 2));
  }
}

TEST_F(PgTest, CopyRejectsNulAndBadValues) {
  ASSERT_TRUE(conn().Run("CREATE TABLE c (id int, body text)").ok());
  {
    auto copy = CopyIn::Start(conn(), "COPY c FROM STDIN");
    ASSERT_TRUE(copy.ok());
    copy->Int(1).Text(std::string("a\0b", 3));
    EXPECT_THAT(copy->EndRow(), StatusIs(StatusCode::kInvalidArgument));
  }  // destroyed unfinished: aborts the COPY
  {
    auto copy = CopyIn::Start(conn(), "COPY c FROM STDIN");
    ASSERT_TRUE(copy.ok());
    copy->Text("not a number").Text("x");
    ASSERT_TRUE(copy->EndRow().ok());
    EXPECT_THAT(copy->Finish(), StatusIs(StatusCode::kInvalidArgument));
  }
  // The connection is usable again and nothing was stored.
  auto count = conn().Exec("SELECT count(*) FROM c");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->GetValue(0, 0), "0");
  EXPECT_THAT(CopyIn::Start(conn(), "COPY missing FROM STDIN"), StatusIs(StatusCode::kNotFound));
}

TEST_F(PgTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(conn().Run("CREATE TABLE t (id int)").ok());
  {
    auto tx = Transaction::Begin(conn());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn().Run("INSERT INTO t VALUES (1)").ok());
  }  // not committed: rolled back
  {
    auto tx = Transaction::Begin(conn());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn().Run("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Transaction::Begin(conn());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn().Run("INSERT INTO t VALUES (3)").ok());
    EXPECT_FALSE(conn().Run("SELECT 1/0").ok());
    EXPECT_THAT(tx->Commit(), StatusIs(StatusCode::kFailedPrecondition));
  }
  auto result = conn().Exec("SELECT string_agg(id::text, ',' ORDER BY id) FROM t");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->GetValue(0, 0), "2");
}

// CopyOut against the server's binary COPY: every type it decodes, NULLs, the end; an error
// midway; and a CopyOut abandoned after its first row leaves the connection usable.
TEST_F(PgTest, CopyOutDecodesTheServersBinaryFormat) {
  auto copy = CopyOut::Start(
      conn(),
      "COPY (SELECT i::int4, (i * 10000000000)::int8, i % 2 = 0, i / 4.0::float8, "
      "(DATE '2000-01-01' + i)::date, (TIMESTAMP '1970-01-01 00:00:01.5' + i * INTERVAL '1 day')"
      "::timestamp, 'r' || i FROM generate_series(0, 2) i UNION ALL SELECT NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL) TO STDOUT (FORMAT binary)");
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  BinaryRow row;
  for (int i = 0; i < 3; ++i) {
    auto more = copy->Next(&row);
    ASSERT_TRUE(more.ok() && *more) << more.status().ToString();
    ASSERT_EQ(row.size(), 7u);
    EXPECT_EQ(*row.Int4(0), i);
    EXPECT_EQ(*row.Int8(1), int64_t{i} * 10000000000);
    EXPECT_EQ(*row.Bool(2), i % 2 == 0);
    EXPECT_EQ(*row.Float8(3), i / 4.0);
    EXPECT_EQ(*row.Date(4), 10957 + i);  // 2000-01-01 is day 10957 since 1970-01-01
    EXPECT_EQ(*row.Timestamp(5), 1500000 + int64_t{i} * 86400 * 1000000);
    EXPECT_EQ(row.Text(6), "r" + std::to_string(i));
  }
  auto more = copy->Next(&row);
  ASSERT_TRUE(more.ok() && *more);
  for (size_t c = 0; c < row.size(); ++c) EXPECT_TRUE(row.IsNull(c)) << c;
  EXPECT_EQ(*row.Int4(0), std::nullopt);
  more = copy->Next(&row);
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_FALSE(*more);
  EXPECT_EQ(copy->rows(), 4);

  // A query that fails midway (division by zero at the third row).
  auto failing = CopyOut::Start(
      conn(),
      "COPY (SELECT (1 / (2 - i))::int4 FROM generate_series(0, 5) i) TO STDOUT (FORMAT binary)");
  ASSERT_TRUE(failing.ok()) << failing.status().ToString();
  Status error = Status::Ok();
  for (int i = 0; i < 10 && error.ok(); ++i) {
    auto next = failing->Next(&row);
    if (!next.ok())
      error = next.status();
    else if (!*next)
      break;
  }
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("22012"), std::string::npos) << error.ToString();
  EXPECT_EQ(conn().Exec("SELECT 1").value().GetValue(0, 0), "1");

  // Abandoned after one row of a million: cancelled, drained, the connection works again.
  {
    auto big = CopyOut::Start(conn(),
                              "COPY (SELECT i::int4 FROM generate_series(1, 1000000) i) TO STDOUT "
                              "(FORMAT binary)");
    ASSERT_TRUE(big.ok()) << big.status().ToString();
    auto first = big->Next(&row);
    ASSERT_TRUE(first.ok() && *first);
    EXPECT_EQ(*row.Int4(0), 1);
  }
  auto after = conn().Exec("SELECT 2");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->GetValue(0, 0), "2");
}

}  // namespace
}  // namespace pinpipe::pg
