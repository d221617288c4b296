// `pinpipe supervise` as a program: giving up on a worker that fails at start-up (no services),
// and the speed layer's restart gap with and without static group membership (Kafka and
// PostgreSQL).
//
// Needs PINPIPE_TEST_PINPIPE_BIN; the membership test also PINPIPE_TEST_KAFKA_BROKERS and
// PINPIPE_TEST_PG_DSN.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "kafka/producer.h"
#include "process/child.h"
#include "testing/ingest_env.h"
#include "testing/kafka_env.h"
#include "testing/local_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"
#include "testing/supervise_env.h"

namespace pinpipe::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string WorkerToml(const std::string& name, const std::vector<std::string>& argv,
                       const std::string& log) {
  std::string out = "[[worker]]\nname = " + TomlString(name) + "\nargv = [";
  for (size_t i = 0; i < argv.size(); ++i) out += (i > 0 ? ", " : "") + TomlString(argv[i]);
  return out + "]\nlog = " + TomlString(log) + "\nstop_timeout = \"20s\"\n\n";
}

class SuperviseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    if (bin_.empty()) GTEST_SKIP() << "needs PINPIPE_TEST_PINPIPE_BIN (scripts/test sets it)";
    dir_ = ::testing::TempDir() + "/" + UniqueName("supervise");
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  }

  // Starts `pinpipe supervise` on a workers file with `workers` (TOML) and `args`.
  process::Child Supervise(const std::string& workers, const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, std::string>>& env = {}) {
    std::ofstream(dir_ + "/workers.toml") << workers;
    process::SpawnOptions o;
    o.argv = {bin_,
              "supervise",
              "--workers",
              dir_ + "/workers.toml",
              "--status-file",
              dir_ + "/status.json"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = env;
    o.output_file = dir_ + "/supervise.out";
    auto child = process::Child::Spawn(o);
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    return std::move(child).value();
  }
  SupervisorStatusFile Status() const {
    auto s = ReadSupervisorStatus(dir_ + "/status.json");
    return s.ok() ? *s : SupervisorStatusFile{};
  }

  std::string bin_, dir_;
};

// A worker that exits right after its start, again and again, makes the supervisor stop the
// others and exit 1 with the end of that worker's log: a broken setup fails loudly instead of
// restarting forever.
TEST_F(SuperviseTest, GivesUpOnAWorkerThatKeepsFailingAtStartAndShowsItsLog) {
  const std::string workers = WorkerToml("healthy", {"/bin/sleep", "600"}, dir_ + "/healthy.log") +
                              WorkerToml("broken",
                                         {"/bin/sh", "-c",
                                          "echo connecting to the database; echo 'fatal: no such "
                                          "database' >&2; exit 2"},
                                         dir_ + "/broken.log");
  const Steady::time_point begin = Steady::now();
  process::Child sup = Supervise(workers, {"--max-failed-starts", "3", "--backoff-initial", "1s"});
  std::optional<process::ExitStatus> exit;
  ASSERT_TRUE(WaitFor([&] { return (exit = sup.Poll()).has_value(); }, seconds(30)))
      << ReadWholeFile(dir_ + "/supervise.out");
  const double took = std::chrono::duration<double>(Steady::now() - begin).count();
  EXPECT_EQ(*exit, process::ExitStatus::Exited(1));
  // Restarts after 1 s and 2 s: the third failure comes about 3 s after the start.
  EXPECT_GE(took, 3.0);
  EXPECT_LT(took, 15.0);
  const std::string out = ReadWholeFile(dir_ + "/supervise.out");
  EXPECT_NE(out.find("broken (pid "), std::string::npos) << out;
  EXPECT_NE(out.find(") exited with status 2 after 0."), std::string::npos) << out;
  EXPECT_NE(out.find("restarting in 1.0 s (restart 1)"), std::string::npos) << out;
  EXPECT_NE(out.find("restarting in 2.0 s (restart 2)"), std::string::npos) << out;
  EXPECT_NE(out.find("that is 3 failed starts in a row (each exit within 10 s of the start): "
                     "giving up and stopping everything. The last lines of " +
                     dir_ + "/broken.log:\n"),
            std::string::npos)
      << out;
  // The worker's lines continue the supervisor's log line, indented (log/logger.h).
  EXPECT_NE(out.find("\n  connecting to the database\n  fatal: no such database\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("stopping healthy (pid "), std::string::npos) << out;
  EXPECT_NE(out.find("stopped after giving up on a worker (exit status 1)"), std::string::npos)
      << out;
  const SupervisorStatusFile status = Status();
  EXPECT_EQ(status.state, "failed");
  ASSERT_NE(status.Find("broken"), nullptr);
  EXPECT_EQ(status.Find("broken")->state, "failed");
  EXPECT_EQ(status.Find("broken")->failed_starts, 3);
  EXPECT_EQ(status.Find("broken")->restarts, 2);
  EXPECT_EQ(status.Find("healthy")->state, "stopped");
  EXPECT_TRUE(status.Find("healthy")->last_exit.starts_with("was killed by SIGTERM after "))
      << status.Find("healthy")->last_exit;
}

TEST_F(SuperviseTest, AWorkersFileWithAnErrorIsRefusedBeforeAnythingStarts) {
  process::Child sup = Supervise("[[worker]]\nname = \"x\"\nargv = [\"/bin/true\"]\n", {});
  std::optional<process::ExitStatus> exit;
  ASSERT_TRUE(WaitFor([&] { return (exit = sup.Poll()).has_value(); }, seconds(10)));
  EXPECT_EQ(*exit, process::ExitStatus::Exited(2));
  const std::string out = ReadWholeFile(dir_ + "/supervise.out");
  EXPECT_TRUE(
      out.ends_with(" ERROR supervisor: " + dir_ + "/workers.toml: worker.x.log: missing\n"))
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// One look in every log file of a supervised run (scripts/run's layout: the supervisor's own
// --log file and one file per worker), in both formats, and the level filter: an outer supervisor
// (PINPIPE_LOG_FORMAT / PINPIPE_LOG_LEVEL in its environment, passed on to its children) runs an
// inner `pinpipe supervise` and a `pinpipe batch` that fails at start, gives up on the latter and
// stops the former. Every line of every file must be a log line of the chosen format (a text
// line may continue on indented lines); no line below the chosen level may appear.
TEST_F(SuperviseTest, EveryLogFileOfARunHasTheSameLookInTheChosenFormatAndLevel) {
  struct Case {
    const char* format;
    const char* level;
    std::vector<std::string> want_levels;  // levels that must appear in the supervisor's file
  };
  const std::vector<Case> cases = {
      {"text", "info", {"INFO ", "ERROR"}},
      {"json", "info", {"info", "error"}},
      {"json", "error", {"error"}},
  };
  const std::regex text_line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) [a-z-]+: .*)");
  const std::vector<std::string> order = {"debug", "info", "warn", "error"};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.format) + " " + c.level);
    const std::string run = dir_ + "/" + c.format + "-" + c.level;
    ASSERT_EQ(mkdir(run.c_str(), 0755), 0);
    std::ofstream(run + "/inner.toml")
        << WorkerToml("sleeper", {"/bin/sleep", "600"}, run + "/sleeper.log");
    const std::string workers =
        WorkerToml("inner", {bin_, "supervise", "--workers", run + "/inner.toml"},
                   run + "/inner.log") +
        WorkerToml("bad", {bin_, "batch", "--date", "not-a-date"}, run + "/bad.log");
    process::Child sup =
        Supervise(workers, {"--max-failed-starts", "1", "--log", run + "/sup.log"},
                  {{"PINPIPE_LOG_FORMAT", c.format}, {"PINPIPE_LOG_LEVEL", c.level}});
    std::optional<process::ExitStatus> exit;
    ASSERT_TRUE(WaitFor([&] { return (exit = sup.Poll()).has_value(); }, seconds(30)))
        << ReadWholeFile(dir_ + "/supervise.out");
    EXPECT_EQ(*exit, process::ExitStatus::Exited(1));
    const size_t min_level = std::find(order.begin(), order.end(), c.level) - order.begin();
    std::set<std::string> seen_levels;
    std::set<std::string> seen_components;
    for (const std::string& file : {run + "/sup.log", run + "/inner.log", run + "/bad.log"}) {
      const std::string text = ReadWholeFile(file);
      std::istringstream in(text);
      int lines = 0;
      for (std::string line; std::getline(in, line); ++lines) {
        if (std::string(c.format) == "text") {
          if (line.starts_with("  ")) continue;  // a multi-line message goes on
          ASSERT_TRUE(std::regex_match(line, text_line)) << file << ": " << line;
          const std::string level = line.substr(25, 5);
          if (file == run + "/sup.log") seen_levels.insert(level);
          std::string lower;
          for (char ch : level) {
            if (ch != ' ') lower += static_cast<char>(ch - 'A' + 'a');
          }
          EXPECT_GE(std::find(order.begin(), order.end(), lower) - order.begin(), min_level)
              << line;
          const size_t colon = line.find(':', 31);
          seen_components.insert(line.substr(31, colon - 31));
          continue;
        }
        simdjson::dom::parser parser;
        simdjson::dom::object object;
        ASSERT_EQ(parser.parse(line).get(object), simdjson::SUCCESS) << file << ": " << line;
        std::string_view ts, level, component, msg;
        ASSERT_EQ(object["ts"].get(ts), simdjson::SUCCESS) << line;
        ASSERT_EQ(object["level"].get(level), simdjson::SUCCESS) << line;
        ASSERT_EQ(object["component"].get(component), simdjson::SUCCESS) << line;
        ASSERT_EQ(object["msg"].get(msg), simdjson::SUCCESS) << line;
        EXPECT_EQ(ts.size(), 24u) << line;
        EXPECT_TRUE(ts.ends_with("Z")) << line;
        EXPECT_GE(std::find(order.begin(), order.end(), level) - order.begin(), min_level) << line;
        if (file == run + "/sup.log") seen_levels.insert(std::string(level));
        seen_components.insert(std::string(component));
      }
      if (file != run + "/inner.log" || std::string(c.level) != "error") {
        EXPECT_GT(lines, 0) << file;
      }
    }
    for (const std::string& level : c.want_levels) {
      EXPECT_TRUE(seen_levels.contains(level)) << level;
    }
    EXPECT_TRUE(seen_components.contains("supervisor"));
    EXPECT_TRUE(seen_components.contains("batch"));
  }
}

// kill -9 of a supervised speed layer: the time from the kill to its first batch after the
// restart, with a static group membership id and without. With one, the restarted worker takes
// its partitions back at once; without, the group waits for the dead member's session timeout
// (10 s) before it assigns them to the new one.
TEST_F(SuperviseTest, StaticMembershipGivesARestartedSpeedLayerItsPartitionsAtOnce) {
  const std::string brokers = KafkaBrokers();
  const auto admin = TestPgDsn();
  if (brokers.empty() || !admin) {
    GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS and PINPIPE_TEST_PG_DSN";
  }
  auto topics = CreateStreamTopics(brokers, UniqueName("membership"), 3);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();

  // A steady flow of pins (about 500 a second, one producer) while the workers run and restart.
  kafka::ProducerOptions po;
  po.brokers = brokers;
  po.client_id = "pinpipe-test-membership";
  po.linger = milliseconds(5);
  auto producer = kafka::Producer::Create(po);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  std::atomic<bool> stop_producing{false};
  std::atomic<int> failed{0};
  std::thread producing([&] {
    for (int n = 0; !stop_producing.load();) {
      for (int i = 0; i < 10; ++i, ++n) {
        const pinpipe::Status s = (*producer)->Produce(
            (*topics)[0], std::to_string(n), PinRecord(n), [&](const kafka::DeliveryResult& r) {
              if (!r.status.ok()) ++failed;
            });
        if (!s.ok()) ++failed;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  });

  auto measure = [&](const std::string& instance_id) -> double {
    ScratchDatabase db(*admin);
    EXPECT_TRUE(db.ok()) << db.error();
    std::vector<std::string> argv = {bin_,
                                     "stream",
                                     "--kafka-brokers",
                                     brokers,
                                     "--topic-pin",
                                     (*topics)[0],
                                     "--topic-geo",
                                     (*topics)[1],
                                     "--topic-user",
                                     (*topics)[2],
                                     "--pg-dsn",
                                     db.dsn(),
                                     "--group",
                                     UniqueName("membership-group")};
    if (!instance_id.empty()) argv.insert(argv.end(), {"--instance-id", instance_id});
    const std::string log =
        dir_ + "/stream-" + (instance_id.empty() ? "dynamic" : "static") + ".log";
    process::Child sup = Supervise(WorkerToml("stream", argv, log), {});
    auto batches_since = [&](double epoch) {
      auto n = QueryInt(db.dsn(), fmt::format("SELECT count(*) FROM pinpipe_stream_batches WHERE "
                                              "finished_at > to_timestamp({:.3f})",
                                              epoch));
      return n.ok() ? *n : 0;
    };
    auto now_epoch = [] {
      return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // Consuming steadily: batches keep coming, for a few seconds.
    EXPECT_TRUE(WaitFor([&] { return batches_since(now_epoch() - 1) > 0; }, seconds(60)))
        << ReadWholeFile(log);
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(seconds(1));
      EXPECT_GT(batches_since(now_epoch() - 1), 0) << ReadWholeFile(log);
    }
    const SupervisedWorker* w = Status().Find("stream");
    EXPECT_NE(w, nullptr);
    const int pid = w != nullptr ? w->pid : 0;
    const double killed = now_epoch();
    EXPECT_EQ(kill(pid, SIGKILL), 0);
    double gap = -1;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto ms = QueryInt(db.dsn(), fmt::format("SELECT (extract(epoch FROM min(finished_at)) "
                                                   "* 1000)::bigint FROM pinpipe_stream_batches "
                                                   "WHERE finished_at > to_timestamp({:.3f})",
                                                   killed));
          if (!ms.ok() || *ms == 0) return false;
          gap = static_cast<double>(*ms) / 1000 - killed;
          return true;
        },
        seconds(60)))
        << ReadWholeFile(log);
    EXPECT_EQ(Status().Find("stream")->restarts, 1);
    sup.SignalGroup(SIGTERM);
    EXPECT_EQ(sup.Stop(seconds(60)), process::ExitStatus::Exited(0));
    return gap;
  };
  const double with_id = measure(UniqueName("stream-0"));
  const double without_id = measure("");
  stop_producing.store(true);
  producing.join();
  EXPECT_TRUE((*producer)->Flush(seconds(30)).ok());
  EXPECT_EQ(failed.load(), 0);
  std::cerr << fmt::format(
      "kill -9 of the speed layer to its first batch after the restart (back-off 1 s, session "
      "timeout 10 s): {:.2f} s with static membership, {:.2f} s without\n",
      with_id, without_id);
  RecordProperty("gap_static_ms", static_cast<int>(with_id * 1000));
  RecordProperty("gap_dynamic_ms", static_cast<int>(without_id * 1000));
  EXPECT_GT(with_id, 0.9);  // the back-off
  EXPECT_LT(with_id, 6.0);
  EXPECT_GT(without_id, with_id + 3.0);
}

}  // namespace
}  // namespace pinpipe::testing
