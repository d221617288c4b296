// Integration tests of pg::CopyIn (every way rows reach it, foreground and background) and of
// pg::EnsureDatabase against a real PostgreSQL (PINPIPE_TEST_PG_DSN).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "integration/pg/pg_fixture.h"
#include "pg/connection.h"
#include "pg/copy_in.h"
#include "pg/transaction.h"
#include "testing/pg_env.h"
#include "testing/status_matchers.h"

namespace pinpipe::pg {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// PgTest, plus a table c to copy into.
class CopyInTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(conn_->Run("CREATE TABLE c (id int, body text)").ok());
  }
  // count(*) of c on a second connection: what a reader outside the COPY sees.
  std::string Count() {
    auto other = Connection::Open(db_->dsn());
    if (!other.ok()) return other.status().ToString();
    auto n = other->Exec("SELECT count(*) FROM c");
    return n.ok() ? std::string(n->GetValue(0, 0)) : n.status().ToString();
  }
};

// The ways rows reach a CopyIn, each with and without the background sender.
enum class Feed { kFields, kAppendLines, kSendLines };
struct FeedCase {
  const char* name;
  Feed feed;
  size_t background_buffers;
};
constexpr FeedCase kFeeds[] = {
    {"fields", Feed::kFields, 0},
    {"append_lines", Feed::kAppendLines, 0},
    {"send_lines", Feed::kSendLines, 0},
    {"fields_background", Feed::kFields, 2},
    {"append_lines_background", Feed::kAppendLines, 2},
};

// Rows id 0..n-1 with a body long enough that n rows span several kFlushBytes buffers; the
// row `bad` (if >= 0) has an id PostgreSQL rejects.
Status FeedRows(CopyIn& copy, Feed feed, int n, int bad) {
  const std::string body(700, 'b');
  std::string lines;
  for (int i = 0; i < n; ++i) {
    const std::string id = i == bad ? "not a number" : std::to_string(i);
    if (feed == Feed::kFields) {
      copy.Text(id).Text(body + "\t\\" + std::to_string(i));
      RETURN_IF_ERROR(copy.EndRow());
      continue;
    }
    std::string line = id + "\t";
    AppendCopyField(line, body + "\t\\" + std::to_string(i));
    line += '\n';
    if (feed == Feed::kAppendLines) RETURN_IF_ERROR(copy.AppendLines(line));
    if (feed == Feed::kSendLines) lines += line;
  }
  if (feed == Feed::kSendLines) RETURN_IF_ERROR(copy.SendLines(lines));
  return Status::Ok();
}

constexpr int kRows = 5000;  // about 3.5 MB of COPY text

TEST_F(CopyInTest, EveryFeedLoadsEveryRowByteExact) {
  for (const FeedCase& c : kFeeds) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(conn().Run("TRUNCATE c").ok());
    auto copy = CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN",
                              CopyInOptions{.background_buffers = c.background_buffers});
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    ASSERT_TRUE(FeedRows(*copy, c.feed, kRows, -1).ok());
    auto stored = copy->Finish();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(*stored, kRows);
    auto check = conn().Exec(
        "SELECT count(*), count(DISTINCT id), "
        "count(*) FILTER (WHERE body = repeat('b', 700) || E'\\t\\\\' || id) FROM c");
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->GetValue(0, 0), std::to_string(kRows));
    EXPECT_EQ(check->GetValue(0, 1), std::to_string(kRows));
    EXPECT_EQ(check->GetValue(0, 2), std::to_string(kRows));
  }
}

TEST_F(CopyInTest, ABadRowFailsTheCopyWithTheServersMessageAndStoresNothing) {
  for (const FeedCase& c : kFeeds) {
    SCOPED_TRACE(c.name);
    auto copy = CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN",
                              CopyInOptions{.background_buffers = c.background_buffers});
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    ASSERT_TRUE(FeedRows(*copy, c.feed, kRows, /*bad=*/kRows - 2).ok());
    EXPECT_THAT(copy->Finish(),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("invalid input syntax for type integer"),
                               HasSubstr("not a number"), HasSubstr("SQLSTATE 22P02"))));
    EXPECT_EQ(conn().last_sqlstate(), "22P02");
    EXPECT_EQ(Count(), "0");
    // The connection is idle and usable again.
    auto one = conn().Exec("SELECT 1");
    ASSERT_TRUE(one.ok()) << one.status().ToString();
  }
}

TEST_F(CopyInTest, DestroyingAnUnfinishedCopyAbortsIt) {
  for (const FeedCase& c : kFeeds) {
    SCOPED_TRACE(c.name);
    {
      auto tx = Transaction::Begin(conn());
      ASSERT_TRUE(tx.ok());
      {
        auto copy = CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN",
                                  CopyInOptions{.background_buffers = c.background_buffers});
        ASSERT_TRUE(copy.ok()) << copy.status().ToString();
        ASSERT_TRUE(FeedRows(*copy, c.feed, kRows, -1).ok());
      }  // not finished: aborted
      // The abort failed the transaction around the COPY: COMMIT rolls it back.
      EXPECT_THAT(tx->Commit(), StatusIs(StatusCode::kFailedPrecondition));
    }
    EXPECT_EQ(Count(), "0");
    {
      auto copy = CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN",
                                CopyInOptions{.background_buffers = c.background_buffers});
      ASSERT_TRUE(copy.ok()) << copy.status().ToString();
      ASSERT_TRUE(FeedRows(*copy, c.feed, 10, -1).ok());
    }  // without a transaction
    EXPECT_EQ(Count(), "0");
    auto one = conn().Exec("SELECT 1");
    ASSERT_TRUE(one.ok()) << one.status().ToString();
  }
}

TEST_F(CopyInTest, MisuseIsRefused) {
  EXPECT_THAT(CopyIn::Start(conn(), "COPY missing FROM STDIN"), StatusIs(StatusCode::kNotFound));
  {
    auto copy = CopyIn::Start(conn(), "COPY c FROM STDIN");
    ASSERT_TRUE(copy.ok());
    copy->Int(1).Text(std::string("a\0b", 3));
    EXPECT_THAT(copy->EndRow(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("NUL")));
  }
  {
    auto copy = CopyIn::Start(conn(), "COPY c FROM STDIN");
    ASSERT_TRUE(copy.ok());
    copy->Int(1);
    EXPECT_THAT(copy->AppendLines("2\tx\n"), StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(copy->SendLines("2\tx\n"), StatusIs(StatusCode::kFailedPrecondition));
    EXPECT_THAT(copy->Finish(), StatusIs(StatusCode::kFailedPrecondition));
  }
  {
    auto copy = CopyIn::Start(conn(), "COPY c FROM STDIN", CopyInOptions{.background_buffers = 1});
    ASSERT_TRUE(copy.ok());
    EXPECT_THAT(copy->SendLines("2\tx\n"), StatusIs(StatusCode::kFailedPrecondition));
    ASSERT_TRUE(copy->AppendLines("2\tx\n").ok());
    auto stored = copy->Finish();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(*stored, 1);
    EXPECT_THAT(copy->Finish(), StatusIs(StatusCode::kFailedPrecondition));
  }
}

// The background sender's failure reaches the owner: the connection is killed mid-COPY; the
// owner's AppendLines (the sender's PQputCopyData failed) or Finish (libpq defers a failed write
// to the next read, so the server's FATAL 57P01 may only show in the COPY's result) reports
// Unavailable, and nothing is stored.
TEST_F(CopyInTest, BackgroundSenderErrorPropagates) {
  auto pid = conn().Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto copy =
      CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN", CopyInOptions{.background_buffers = 2});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  ASSERT_TRUE(copy->AppendLines("1\tbefore\n").ok());
  auto admin = Connection::Open(db_->dsn());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE(
      admin->ExecParams("SELECT pg_terminate_backend($1::int)", {std::string(pid->GetValue(0, 0))})
          .ok());
  const std::string block = [] {
    std::string lines;
    for (int i = 0; i < 1000; ++i)
      lines += std::to_string(i) + "\t" + std::string(1000, 'x') + "\n";
    return lines;
  }();
  Status status = Status::Ok();
  for (int i = 0; i < 64 && status.ok(); ++i) status = copy->AppendLines(block);  // up to 64 MB
  if (status.ok()) status = copy->Finish().status();
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable)) << status.ToString();
  EXPECT_TRUE(status.retriable());
  EXPECT_EQ(Count(), "0");
}

// The background queue is bounded: while the server does not read (a trigger sleeps on the
// first row), the owner waits in AppendLines instead of buffering the whole load.
TEST_F(CopyInTest, BackgroundQueueMakesTheOwnerWaitForASlowServer) {
  ASSERT_TRUE(conn()
                  .Run("CREATE FUNCTION slow_first() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       "BEGIN IF NEW.id = -1 THEN PERFORM pg_sleep(2); END IF; RETURN NEW; END $$; "
                       "CREATE TRIGGER slow BEFORE INSERT ON c FOR EACH ROW "
                       "EXECUTE FUNCTION slow_first()")
                  .ok());
  auto copy =
      CopyIn::Start(conn(), "COPY c (id, body) FROM STDIN", CopyInOptions{.background_buffers = 2});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  ASSERT_TRUE(copy->AppendLines("-1\tslow\n").ok());  // the server sleeps on this row
  std::string block;
  for (int i = 0; i < 1000; ++i) block += std::to_string(i) + "\t" + std::string(1000, 'x') + "\n";
  // 48 MB: far more than 2 queued buffers, the one being sent and the socket buffers.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 48; ++i) ASSERT_TRUE(copy->AppendLines(block).ok());
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(waited, 1.0) << "AppendLines did not wait for the sleeping server";
  auto stored = copy->Finish();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, 48 * 1000 + 1);
}

// EnsureDatabase: one table of cases, then two (and more) creators of one database at once.
class EnsureDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dsn = pinpipe::testing::TestPgDsn();
    if (!dsn) GTEST_SKIP() << "PINPIPE_TEST_PG_DSN is not set; start PostgreSQL via scripts/test";
    admin_dsn_ = *dsn;
  }
  void TearDown() override {
    auto admin = Connection::Open(admin_dsn_);
    if (!admin.ok()) return;
    for (const std::string& name : created_) {
      admin->Run("DROP DATABASE IF EXISTS " + QuoteIdentifier(name) + " WITH (FORCE)")
          .IgnoreError();
    }
  }
  // A database name unique to this process, dropped after the test.
  std::string NewName(const std::string& tag) {
    static std::atomic<int> counter{0};
    created_.push_back("pinpipe_t_ensure_" + tag + "_" + std::to_string(getpid()) + "_" +
                       std::to_string(counter.fetch_add(1)));
    return created_.back();
  }
  std::string Dsn(const std::string& name) { return *ConninfoWith(admin_dsn_, "dbname", name); }

  std::string admin_dsn_;
  std::vector<std::string> created_;
};

TEST_F(EnsureDatabaseTest, Cases) {
  struct Case {
    const char* name;
    bool exists_before;
    bool names_database;
    bool want_created;
  };
  const Case cases[] = {
      {"exists", true, true, false},
      {"missing", false, true, true},
      {"no dbname in the conninfo", false, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string name = NewName("case");
    if (c.exists_before) {
      auto admin = Connection::Open(admin_dsn_);
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      ASSERT_TRUE(admin->Run("CREATE DATABASE " + QuoteIdentifier(name)).ok());
    }
    const std::string dsn = c.names_database ? Dsn(name) : *ConninfoWith(admin_dsn_, "dbname", "");
    auto created = EnsureDatabase(dsn);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(*created, c.want_created);
    if (c.names_database) {
      auto conn = Connection::Open(dsn);
      EXPECT_TRUE(conn.ok()) << conn.status().ToString();
      auto again = EnsureDatabase(dsn);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_FALSE(*again);
    }
  }
}

TEST_F(EnsureDatabaseTest, OpenCreatingDatabaseCreatesAMissingOne) {
  const std::string dsn = Dsn(NewName("open"));
  EXPECT_THAT(Connection::Open(dsn), StatusIs(StatusCode::kNotFound));
  auto conn = OpenCreatingDatabase(dsn);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto again = OpenCreatingDatabase(dsn);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
}

// Concurrent creators: each round, kCreators threads create one new database at the same moment.
// Every call succeeds and exactly one says it created the database (the others lose with 42P04
// or a unique violation on pg_database, which EnsureDatabase counts as success).
TEST_F(EnsureDatabaseTest, ConcurrentCreatorsAllSucceedAndOneCreates) {
  constexpr int kCreators = 4;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    const std::string dsn = Dsn(NewName("race"));
    std::latch go(kCreators);
    std::vector<StatusOr<bool>> results(kCreators, StatusOr<bool>(false));
    std::vector<std::thread> creators;
    for (int i = 0; i < kCreators; ++i) {
      creators.emplace_back([&, i] {
        go.arrive_and_wait();
        results[static_cast<size_t>(i)] = EnsureDatabase(dsn);
      });
    }
    for (std::thread& t : creators) t.join();
    int created = 0;
    for (const StatusOr<bool>& r : results) {
      ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.status().ToString();
      created += *r ? 1 : 0;
    }
    EXPECT_EQ(created, 1) << "round " << round;
    EXPECT_TRUE(Connection::Open(dsn).ok());
  }
}

}  // namespace
}  // namespace pinpipe::pg
