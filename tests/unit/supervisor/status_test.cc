#include "supervisor/status.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace pinpipe::supervisor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

WallTime At(int64_t ms) { return WallTime{} + milliseconds(ms); }

SupervisorStatus Example() {
  SupervisorStatus s;
  s.state = SupervisorState::kRunning;
  s.started_at = At(1'764'583'200'000);  // 2025-12-01T10:00:00Z
  s.updated_at = At(1'764'583'512'345);
  WorkerStatus stream;
  stream.name = "stream";
  stream.title = "speed layer";
  stream.log_file = "/state/logs/stream.log";
  stream.state = WorkerState::kRunning;
  stream.pid = 4250;
  stream.restarts = 1;
  stream.started_at = At(1'764'583'500'000);
  stream.last_exit = "was killed by SIGKILL after 5m12s";
  stream.last_exit_at = At(1'764'583'499'000);
  WorkerStatus api;
  api.name = "api";
  api.title = "ingest \"API\"";
  api.log_file = "/state/logs/serve.log";
  api.state = WorkerState::kRestarting;
  api.failed_starts = 2;
  api.restarts = 2;
  api.started_at = At(1'764'583'200'000);
  api.last_exit = "exited with status 1 after 0.2 s";
  api.last_exit_at = At(1'764'583'511'000);
  api.restart_at = At(1'764'583'513'000);
  s.workers = {stream, api};
  return s;
}

TEST(StatusTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatUtc(At(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(At(1'764'583'512'345)), "2025-12-01T10:05:12.345Z");
}

TEST(StatusTest, RendersTheStatusFile) {
  EXPECT_EQ(RenderStatusJson(Example(), 4242),
            "{\"pid\":4242,\"state\":\"running\",\"started_at\":\"2025-12-01T10:00:00.000Z\","
            "\"updated_at\":\"2025-12-01T10:05:12.345Z\",\"workers\":["
            "{\"name\":\"stream\",\"title\":\"speed layer\",\"state\":\"running\",\"pid\":4250,"
            "\"restarts\":1,\"failed_starts\":0,\"started_at\":\"2025-12-01T10:05:00.000Z\","
            "\"last_exit\":\"was killed by SIGKILL after 5m12s\",\"last_exit_at\":"
            "\"2025-12-01T10:04:59.000Z\",\"restart_at\":null,\"log\":\"/state/logs/stream.log\"},"
            "{\"name\":\"api\",\"title\":\"ingest \\\"API\\\"\",\"state\":\"restarting\",\"pid\":0,"
            "\"restarts\":2,\"failed_starts\":2,\"started_at\":\"2025-12-01T10:00:00.000Z\","
            "\"last_exit\":\"exited with status 1 after 0.2 s\",\"last_exit_at\":"
            "\"2025-12-01T10:05:11.000Z\",\"restart_at\":\"2025-12-01T10:05:13.000Z\","
            "\"log\":\"/state/logs/serve.log\"}]}\n");
  SupervisorStatus fresh;
  WorkerStatus w;
  w.name = "x";
  w.title = "x";
  fresh.workers = {w};
  EXPECT_NE(RenderStatusJson(fresh, 1).find("\"started_at\":null,\"last_exit\":null,"
                                            "\"last_exit_at\":null,\"restart_at\":null"),
            std::string::npos);
}

TEST(StatusTest, RendersMetricsLabelledByWorkerName) {
  EXPECT_EQ(RenderMetrics(Example()),
            "# HELP pinpipe_supervisor_restarts_total Restarts of the worker after its process "
            "exited unexpectedly\n"
            "# TYPE pinpipe_supervisor_restarts_total counter\n"
            "pinpipe_supervisor_restarts_total{worker=\"stream\"} 1\n"
            "pinpipe_supervisor_restarts_total{worker=\"api\"} 2\n"
            "# HELP pinpipe_supervisor_worker_up 1 while the worker's process runs\n"
            "# TYPE pinpipe_supervisor_worker_up gauge\n"
            "pinpipe_supervisor_worker_up{worker=\"stream\"} 1\n"
            "pinpipe_supervisor_worker_up{worker=\"api\"} 0\n"
            "# HELP pinpipe_supervisor_worker_failed_starts Exits soon after the start in a row "
            "(the supervisor gives up at --max-failed-starts)\n"
            "# TYPE pinpipe_supervisor_worker_failed_starts gauge\n"
            "pinpipe_supervisor_worker_failed_starts{worker=\"stream\"} 0\n"
            "pinpipe_supervisor_worker_failed_starts{worker=\"api\"} 2\n"
            "# HELP pinpipe_supervisor_worker_start_time_seconds Unix time the worker's current "
            "process started (0: none)\n"
            "# TYPE pinpipe_supervisor_worker_start_time_seconds gauge\n"
            "pinpipe_supervisor_worker_start_time_seconds{worker=\"stream\"} 1764583500.000\n"
            "pinpipe_supervisor_worker_start_time_seconds{worker=\"api\"} 0\n"
            "# HELP pinpipe_supervisor_stopping 1 once the supervisor stops its workers\n"
            "# TYPE pinpipe_supervisor_stopping gauge\n"
            "pinpipe_supervisor_stopping 0\n");
}

TEST(StatusTest, WritesTheFileByReplacingIt) {
  const std::string path =
      ::testing::TempDir() + "/status_test_" + std::to_string(getpid()) + ".json";
  ASSERT_TRUE(WriteStatusFile(path, "{\"a\":1}\n").ok());
  ASSERT_TRUE(WriteStatusFile(path, "{}\n").ok());
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "{}\n");
  EXPECT_NE(access((path + ".tmp-" + std::to_string(getpid())).c_str(), F_OK), 0);
  unlink(path.c_str());
  const Status missing = WriteStatusFile("/nonexistent/dir/status.json", "{}");
  EXPECT_THAT(missing, StatusIs(StatusCode::kInternal));
  EXPECT_EQ(missing.message(), "cannot write /nonexistent/dir/status.json.tmp-" +
                                   std::to_string(getpid()) + ": No such file or directory");
}

}  // namespace
}  // namespace pinpipe::supervisor
