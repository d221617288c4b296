// scripts/run itself against the test Kafka and PostgreSQL: kill -9 of the speed layer, the
// archiver and the scheduler under the run command; each comes back (a new pid, the restart
// counted in the status file and on /metrics), the others keep running, records keep flowing;
// then Ctrl-C (SIGINT to the run command's process group, as a terminal sends it) stops it all,
// and every record in Kafka is in PostgreSQL and in the lake exactly once.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and PINPIPE_TEST_PINPIPE_BIN. Everything
// of the run is its own: topics, consumer groups, databases, state directory and ports.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include <fmt/format.h>

#include "lake/object_store.h"
#include "process/child.h"
#include "supervisor/workers_file.h"
#include "testing/archive_env.h"
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

double SecondsSince(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

// The sum of every sample of `metric` (all label sets) in a Prometheus text body.
int64_t MetricSum(const std::string& body, const std::string& metric) {
  int64_t sum = 0;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(metric + "{") || line.starts_with(metric + " ")) {
      sum += std::stoll(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

class RunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    const auto dsn = TestPgDsn();
    if (brokers_.empty() || !dsn || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    for (auto* db : {&source_, &streaming_, &batch_, &scheduler_}) {
      *db = std::make_unique<ScratchDatabase>(*dsn);
      ASSERT_TRUE((*db)->ok()) << (*db)->error();
    }
    const std::string prefix = UniqueName("run");
    topics_ = {prefix + "-pin", prefix + "-geo", prefix + "-user"};
    stream_group_ = prefix + "-stream";
    archive_group_ = prefix + "-archive";
    std::string tmp = ::testing::TempDir();
    if (tmp.ends_with('/')) tmp.pop_back();
    state_ = tmp + "/" + prefix;
    ASSERT_EQ(mkdir(state_.c_str(), 0755), 0);
    for (uint16_t* port :
         {&api_port_, &stream_port_, &archive_port_, &scheduler_port_, &supervisor_port_}) {
      *port = FreePort();
      ASSERT_NE(*port, 0);
    }
  }

  void TearDown() override {
    if (run_) {
      run_->SignalGroup(SIGINT);
      run_->Stop(seconds(120));
    }
  }

  // What the run command gets on top of the test's environment.
  std::vector<std::pair<std::string, std::string>> Env() const {
    return {
        {"PINPIPE_STATE_DIR", state_},
        {"PINPIPE_RUN_BIN", bin_},
        {"PINPIPE_API_PORT", std::to_string(api_port_)},
        {"PINPIPE_STREAM_METRICS_PORT", std::to_string(stream_port_)},
        {"PINPIPE_ARCHIVE_METRICS_PORT", std::to_string(archive_port_)},
        {"PINPIPE_SCHEDULER_METRICS_PORT", std::to_string(scheduler_port_)},
        {"PINPIPE_SUPERVISOR_METRICS_PORT", std::to_string(supervisor_port_)},
        {"PINPIPE_TOPIC_PIN", topics_[0]},
        {"PINPIPE_TOPIC_GEO", topics_[1]},
        {"PINPIPE_TOPIC_USER", topics_[2]},
        {"PINPIPE_STREAM_GROUP", stream_group_},
        {"PINPIPE_ARCHIVE_GROUP", archive_group_},
        {"PINPIPE_STREAM_PG_DSN", streaming_->dsn()},
        {"PINPIPE_BATCH_PG_DSN", batch_->dsn()},
        {"PINPIPE_SCHEDULER_PG_DSN", scheduler_->dsn()},
        // A steady flow (load mode) instead of one post every second or so, and
        // a lake segment every 2 s instead of every minute, so progress shows within seconds.
        {"PINPIPE_EMULATE_RATE", "300"},
        {"PINPIPE_ARCHIVE_ROTATE_MAX_AGE", "2s"},
        // The five pipeline workers only: no first-run history (first_run_test.cc covers it)
        // and no dashboard.
        {"PINPIPE_RUN_HISTORY", "none"},
        {"PINPIPE_RUN_DASHBOARD", "0"},
    };
  }

  std::string StatusPath() const { return state_ + "/run/status.json"; }
  std::string Log(const std::string& name) const { return state_ + "/logs/" + name + ".log"; }
  std::string RunOutput() const { return ReadWholeFile(state_ + "/run.out"); }

  SupervisorStatusFile Status() const {
    auto status = ReadSupervisorStatus(StatusPath());
    return status.ok() ? *status : SupervisorStatusFile{};
  }
  int64_t PinRows() const {
    auto n = QueryInt(streaming_->dsn(), "SELECT count(*) FROM experimental_data");
    return n.ok() ? *n : -1;
  }
  bool AllRunning() const {
    const SupervisorStatusFile s = Status();
    if (s.workers.size() != 5) return false;
    for (const SupervisedWorker& w : s.workers) {
      if (w.state != "running" || w.pid <= 0) return false;
    }
    return true;
  }

  // kill -9 of worker `name`; waits until the supervisor started it again and checks that the
  // other workers were left alone. Returns the kill time.
  Steady::time_point KillAndAwaitRestart(const std::string& name) {
    const SupervisorStatusFile before = Status();
    const SupervisedWorker* victim = before.Find(name);
    EXPECT_NE(victim, nullptr) << name;
    if (victim == nullptr) return Steady::now();
    const int old_pid = victim->pid;
    const int old_restarts = victim->restarts;
    const Steady::time_point killed = Steady::now();
    EXPECT_EQ(kill(old_pid, SIGKILL), 0) << name;
    EXPECT_TRUE(WaitFor(
        [&] {
          const SupervisedWorker* w = Status().Find(name);
          return w != nullptr && w->state == "running" && w->pid > 0 && w->pid != old_pid;
        },
        seconds(30)))
        << name << " was not restarted; output:\n"
        << RunOutput();
    const SupervisorStatusFile after = Status();
    const SupervisedWorker* restarted = after.Find(name);
    EXPECT_EQ(restarted->restarts, old_restarts + 1) << name;
    EXPECT_EQ(restarted->last_exit.substr(0, 27), "was killed by SIGKILL after") << name;
    EXPECT_EQ(kill(old_pid, 0), -1) << name << ": the old process is still there";
    for (const SupervisedWorker& w : before.workers) {
      if (w.name == name) continue;
      const SupervisedWorker* now = after.Find(w.name);
      EXPECT_EQ(now->pid, w.pid) << w.name << " was restarted too (killed: " << name << ")";
      EXPECT_EQ(now->state, "running") << w.name;
      EXPECT_EQ(kill(w.pid, 0), 0) << w.name;
    }
    std::cerr << fmt::format("{} (pid {}) killed; pid {} running {:.2f} s later\n", name, old_pid,
                             restarted->pid, SecondsSince(killed));
    return killed;
  }

  // Runs the worker `name` of the run's workers file by itself until `caught_up`, then stops it:
  // what was still in Kafka when the run stopped is processed as by the next run.
  void Drain(const std::string& name, const std::function<bool()>& caught_up) {
    auto specs = supervisor::LoadWorkersFile(state_ + "/run/workers.toml");
    ASSERT_TRUE(specs.ok()) << specs.status().ToString();
    for (const supervisor::WorkerSpec& spec : *specs) {
      if (spec.name != name) continue;
      process::SpawnOptions o;
      o.argv = spec.argv;
      o.env = Env();
      o.env.insert(o.env.end(), spec.env.begin(), spec.env.end());
      o.output_file = spec.log_file;
      const size_t log_size = ReadWholeFile(spec.log_file).size();
      auto child = process::Child::Spawn(o);
      ASSERT_TRUE(child.ok()) << child.status().ToString();
      // Started (its stop signals are handled from then on), then caught up.
      EXPECT_TRUE(WaitFor(
          [&] {
            return ReadWholeFile(spec.log_file).find(": consuming", log_size) != std::string::npos;
          },
          seconds(60)))
          << name << " did not start; log " << spec.log_file;
      EXPECT_TRUE(WaitFor(caught_up, seconds(120)))
          << name << " did not catch up; log " << spec.log_file;
      EXPECT_EQ(child->Stop(seconds(60)), process::ExitStatus::Exited(0)) << name;
      return;
    }
    FAIL() << "no worker " << name << " in the workers file";
  }

  std::string brokers_, bin_;
  std::unique_ptr<ScratchDatabase> source_, streaming_, batch_, scheduler_;
  std::array<std::string, 3> topics_;
  std::string stream_group_, archive_group_, state_;
  uint16_t api_port_ = 0, stream_port_ = 0, archive_port_ = 0, scheduler_port_ = 0,
           supervisor_port_ = 0;
  std::optional<process::Child> run_;
};

TEST_F(RunCommandTest, KilledWorkersComeBackAndEveryRecordLandsExactlyOnce) {
  process::SpawnOptions o;
  o.argv = {std::string(PINPIPE_SOURCE_DIR) + "/scripts/run", "--kafka", brokers_, "--pg",
            source_->dsn()};
  o.env = Env();
  o.output_file = state_ + "/run.out";
  auto started = process::Child::Spawn(o);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  run_.emplace(std::move(started).value());

  // Running for a while (not just started) before the first kill.
  ASSERT_TRUE(WaitFor([&] { return AllRunning() && PinRows() > 200; }, seconds(120)))
      << "the pipeline did not start; output:\n"
      << RunOutput();
  EXPECT_NE(RunOutput().find("pinpipe is running"), std::string::npos);

  // The speed layer: back within the back-off (1 s) plus a start; with static membership it
  // gets its partitions back at once, so the first batch after the kill comes well before the
  // 10 s session timeout that a new member would have to wait for.
  {
    const auto wall_kill = std::chrono::system_clock::now();
    KillAndAwaitRestart("stream");
    const double kill_epoch = std::chrono::duration<double>(wall_kill.time_since_epoch()).count();
    double gap = -1;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto ms = QueryInt(streaming_->dsn(),
                             fmt::format("SELECT (extract(epoch FROM min(finished_at)) * 1000)"
                                         "::bigint FROM pinpipe_stream_batches WHERE "
                                         "finished_at > to_timestamp({:.3f})",
                                         kill_epoch));
          if (!ms.ok() || *ms == 0) return false;
          gap = static_cast<double>(*ms) / 1000 - kill_epoch;
          return true;
        },
        seconds(30)))
        << "no batch after the restart; log " << Log("stream");
    std::cerr << fmt::format("speed layer: first batch {:.2f} s after kill -9\n", gap);
    RecordProperty("stream_kill_to_first_batch_ms", static_cast<int>(gap * 1000));
    EXPECT_LT(gap, 6.0) << "static membership should make the restarted worker consume at once";
  }

  // The archiver: its new process archives again (its own counter starts at 0).
  {
    const Steady::time_point killed = KillAndAwaitRestart("archive");
    ASSERT_TRUE(WaitFor(
        [&] {
          auto body = HttpGet(archive_port_, "/metrics");
          return body.ok() && MetricSum(*body, "pinpipe_archive_records_total") > 0;
        },
        seconds(30)))
        << "the restarted archiver archives nothing; log " << Log("archive");
    std::cerr << fmt::format("archiver: records archived again {:.2f} s after kill -9\n",
                             SecondsSince(killed));
  }

  // The scheduler: its new process serves its metrics again.
  {
    const Steady::time_point killed = KillAndAwaitRestart("scheduler");
    EXPECT_TRUE(WaitFor([&] { return HttpGet(scheduler_port_, "/healthz").ok(); }, seconds(30)))
        << "log " << Log("scheduler");
    std::cerr << fmt::format("scheduler: serving again {:.2f} s after kill -9\n",
                             SecondsSince(killed));
  }

  // Records keep flowing after the three kills, and the restarts are counted where users look.
  const int64_t rows = PinRows();
  EXPECT_TRUE(WaitFor([&] { return PinRows() > rows; }, seconds(30)));
  auto metrics = HttpGet(supervisor_port_, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  for (const auto& [worker, restarts] : std::vector<std::pair<std::string, int>>{
           {"stream", 1}, {"archive", 1}, {"scheduler", 1}, {"api", 0}, {"emulator", 0}}) {
    EXPECT_NE(metrics->find(fmt::format("pinpipe_supervisor_restarts_total{{worker=\"{}\"}} {}\n",
                                        worker, restarts)),
              std::string::npos)
        << *metrics;
    EXPECT_NE(
        metrics->find(fmt::format("pinpipe_supervisor_worker_up{{worker=\"{}\"}} 1\n", worker)),
        std::string::npos)
        << *metrics;
    EXPECT_EQ(Status().Find(worker)->restarts, restarts) << worker;
  }
  const std::string output = RunOutput();
  for (const char* title : {"speed layer", "archiver", "scheduler"}) {
    EXPECT_NE(output.find(fmt::format("{} (pid ", title)), std::string::npos) << output;
    EXPECT_NE(output.find("was killed by SIGKILL after"), std::string::npos) << output;
    EXPECT_NE(output.find(fmt::format("restarted {} (pid", title)), std::string::npos) << output;
  }

  // Ctrl-C, as the terminal sends it: to the run command's process group (the script and the
  // supervisor; each worker leads its own session).
  const SupervisorStatusFile last = Status();
  const Steady::time_point stop = Steady::now();
  run_->SignalGroup(SIGINT);
  std::optional<process::ExitStatus> exit;
  ASSERT_TRUE(WaitFor([&] { return (exit = run_->Poll()).has_value(); }, seconds(150)))
      << "the run command did not stop; output:\n"
      << RunOutput();
  run_.reset();
  std::cerr << fmt::format("stopped in {:.1f} s\n", SecondsSince(stop));
  EXPECT_EQ(exit->ShellCode(), 130) << RunOutput();
  const SupervisorStatusFile stopped = Status();
  EXPECT_EQ(stopped.state, "stopped");
  for (const SupervisedWorker& w : last.workers) {
    EXPECT_EQ(stopped.Find(w.name)->state, "stopped") << w.name;
    EXPECT_EQ(kill(w.pid, 0), -1) << w.name << " (pid " << w.pid << ") outlived the run";
  }
  EXPECT_EQ(kill(stopped.pid, 0), -1) << "the supervisor outlived the run";
  EXPECT_NE(RunOutput().find("archiver stopped in"), std::string::npos) << RunOutput();

  // What was still in Kafka is processed as the next run would; then every record is accounted
  // for exactly once, in PostgreSQL and in the lake.
  std::array<int64_t, 3> records{};
  for (size_t i = 0; i < 3; ++i) {
    auto n = HighWatermarkSum(brokers_, {topics_[i]});
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    records[i] = *n;
  }
  const int64_t total = records[0] + records[1] + records[2];
  EXPECT_GT(total, 1000) << "too little traffic to mean anything";
  Drain("stream", [&] {
    auto b = ReadStreamBookkeeping(streaming_->dsn(), stream_group_);
    return b.ok() && b->offsets == total;
  });
  auto store = lake::OpenObjectStore(state_ + "/lake");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::vector<std::string> topics(topics_.begin(), topics_.end());
  Drain("archive", [&] {
    auto caught_up = ArchiveCaughtUp(store->get(), brokers_, archive_group_, topics);
    return caught_up.ok() && *caught_up;
  });

  auto b = ReadStreamBookkeeping(streaming_->dsn(), stream_group_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->records, total);
  EXPECT_EQ(b->offsets, total);
  EXPECT_EQ(b->table_rows + b->dedup + b->dead + b->dropped + b->rejected, total)
      << "rows " << b->table_rows << ", dedup " << b->dedup << ", dead " << b->dead << ", dropped "
      << b->dropped << ", rejected " << b->rejected;
  EXPECT_EQ(b->dead_letters, b->dead + b->rejected);
  EXPECT_EQ(b->duplicate_keys, 0);
  EXPECT_GT(b->table_rows, 0);

  EXPECT_EQ(CheckLedger(store->get(), brokers_, archive_group_, topics), "");
  for (size_t i = 0; i < 3; ++i) {
    auto lines = ReadArchivedLines(store->get(), topics_[i]);
    ASSERT_TRUE(lines.ok()) << lines.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(lines->size()), records[i]) << topics_[i];
  }
  std::cerr << fmt::format(
      "{} records ({} pin, {} geo, {} user): {} rows, {} duplicates dropped, "
      "{} dead letters; all in the lake once\n",
      total, records[0], records[1], records[2], b->table_rows, b->dedup, b->dead_letters);
}

}  // namespace
}  // namespace pinpipe::testing
