// `pinpipe batch` as a process (PINPIPE_TEST_PINPIPE_BIN): exit codes, the summary line, the
// --require-sealed message, --no-pg and --views-only.
#include <fstream>
#include <sstream>

#include "batch_pg_fixture.h"

namespace pinpipe::batch {
namespace {

class BatchCliTest : public BatchJobPgTest {
 protected:
  void SetUp() override {
    BatchJobPgTest::SetUp();
    if (IsSkipped()) return;
    const char* bin = std::getenv("PINPIPE_TEST_PINPIPE_BIN");
    if (bin == nullptr || *bin == '\0') GTEST_SKIP() << "needs PINPIPE_TEST_PINPIPE_BIN";
    bin_ = bin;
  }

  // Runs pinpipe batch with `args`; its exit code, and its output in `*output`.
  int Batch(const std::vector<std::string>& args, std::string* output) {
    const std::string log = (dir_.path() / fmt::format("cli-{}.log", runs_++)).string();
    std::vector<std::string> argv = {
        bin_,       "batch",    "--lake",     "file://" + (dir_.path() / "lake").string(),
        "--pg-dsn", db_->dsn(), "--progress", "never"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ChildProcess child;
    EXPECT_TRUE(child.Start(argv, log).ok());
    const int code = child.Wait(std::chrono::seconds(120));
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    *output = text.str();
    return code;
  }

  std::string bin_;
  int runs_ = 0;
};

TEST_F(BatchCliTest, LoadsADayAndReports) {
  auto lake = lake::OpenObjectStore("file://" + (dir_.path() / "lake").string());
  ASSERT_TRUE(lake.ok());
  store_ = std::move(*lake);
  PutSyntheticDay("2024-05-01", 50, 2, 3);
  const std::string user_success = archive::SuccessKey("pinterest_user", Day("2024-05-01"));
  ASSERT_TRUE(store_->Delete(user_success).ok());

  std::string out;
  EXPECT_EQ(Batch({"--date", "2024-05-01", "--require-sealed"}, &out), 1) << out;
  EXPECT_NE(out.find(user_success + " missing"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILED_PRECONDITION: --require-sealed: 1 of 1 day(s) not sealed"),
            std::string::npos)
      << out;

  EXPECT_EQ(Batch({"--date", "2024-05-01"}, &out), 0) << out;
  EXPECT_NE(out.find("warning: dt=2024-05-01 is not sealed"), std::string::npos) << out;
  EXPECT_NE(out.find("pinpipe batch: dt=2024-05-01 sealed=no records=300 rows=150 dropped="),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("pinpipe batch: summary: days=1 failed=0 records=300 "), std::string::npos)
      << out;
  EXPECT_EQ(Q("SELECT count(*) FROM batch.user_data_clean"), 50);

  // 05-02 has nothing archived: it fails (not loaded as empty), the range goes on.
  EXPECT_EQ(Batch({"--from", "2024-05-01", "--to", "2024-05-02", "--no-pg", "--keep-going"}, &out),
            1)
      << out;
  EXPECT_NE(out.find("summary: days=2 failed=1"), std::string::npos) << out;
  EXPECT_NE(out.find("(no PostgreSQL)"), std::string::npos) << out;
  EXPECT_NE(out.find("dt=2024-05-02 FAILED: NOT_FOUND: dt=2024-05-02: nothing archived"),
            std::string::npos)
      << out;

  EXPECT_EQ(Batch({"--views-only"}, &out), 0) << out;
  EXPECT_EQ(Batch({"--date", "2024-13-01"}, &out), 2) << out;
  EXPECT_EQ(Batch({}, &out), 2) << out;
}

}  // namespace
}  // namespace pinpipe::batch
