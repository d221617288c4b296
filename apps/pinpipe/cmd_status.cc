// `pinpipe status`: what `scripts/run` runs, in the terminal: the dashboard's address, the
// supervisor's workers (from its status file: state, pid, restarts, uptime, last exit), the lag
// of the speed layer's and the archiver's consumer groups (committed offsets in Kafka against
// the high watermarks), the serving layer's boundary (serving.boundary) and the scheduler's last
// runs (scheduler.dag_runs).
//
// Without flags it finds everything as scripts/run left it: the state directory
// (PINPIPE_STATE_DIR, else ./.pinpipe, else the .pinpipe of the repository this binary was built
// in), whose run/run.toml (written by scripts/run on every start) names the dashboard, Kafka,
// the database and the groups; flags and PINPIPE_* variables override it, and without that file
// the defaults are scripts/run's (the same ports and environment variables).
//
// Exit status: 0 when the pipeline runs (a live supervisor), 3 when it does not (the message
// says so and how to start it), 2 for bad flags. Kafka or PostgreSQL being unreachable is shown
// in its section, not an error: status is for looking at a pipeline that may be half up.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>
#include <toml++/toml.h>

#include "command.h"
#include "core/record_schema.h"
#include "kafka/admin.h"
#include "kafka_flags.h"
#include "pg/connection.h"

namespace pinpipe::app {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

struct StatusFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  std::string state_dir;   // empty: see FindStateDir
  std::string dashboard_url;
  std::string kafka_brokers;
  std::string pg_dsn;
  std::string stream_group;
  std::string archive_group;
  std::vector<std::string> topics;
  int timeout_ms = 3000;
};

// The state directory: the flag/PINPIPE_STATE_DIR, else ./.pinpipe, else <repo>/.pinpipe for a
// binary in <repo>/build/<preset>/apps/.
std::string FindStateDir(const std::string& given) {
  if (!given.empty()) return given;
  if (fs::is_directory(".pinpipe")) return fs::absolute(".pinpipe").string();
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path repo = exe.parent_path().parent_path().parent_path().parent_path();
    if (fs::is_directory(repo / ".pinpipe")) return (repo / ".pinpipe").string();
  }
  return fs::absolute(".pinpipe").string();
}

// run/run.toml: what scripts/run started (see scripts/run). Keys are optional.
struct RunInfo {
  bool found = false;
  std::string path;
  std::string dashboard_url;
  std::string api_url;
  std::string kafka_brokers;
  std::string pg_dsn;
  std::string lake;
  std::string status_file;
  std::string stream_group;
  std::string archive_group;
  std::vector<std::string> topics;
  std::string error;  // the file exists but could not be read
};

RunInfo ReadRunInfo(const std::string& state_dir) {
  RunInfo info;
  info.path = (fs::path(state_dir) / "run" / "run.toml").string();
  if (!fs::exists(info.path)) return info;
  try {
    toml::table t = toml::parse_file(info.path);
    info.found = true;
    auto str = [&](const char* key) { return t[key].value_or(std::string()); };
    info.dashboard_url = str("dashboard_url");
    info.api_url = str("api_url");
    info.kafka_brokers = str("kafka_brokers");
    info.pg_dsn = str("pg_dsn");
    info.lake = str("lake");
    info.status_file = str("status_file");
    info.stream_group = str("stream_group");
    info.archive_group = str("archive_group");
    if (const toml::array* topics = t["topics"].as_array()) {
      for (const auto& topic : *topics) {
        if (auto s = topic.value<std::string>()) info.topics.push_back(*s);
      }
    }
  } catch (const toml::parse_error& e) {
    info.error = fmt::format("{}: {}", info.path, e.description());
  }
  return info;
}

struct WorkerRow {
  std::string name, title, state, last_exit, started_at, log;
  int64_t pid = 0;
  int64_t restarts = 0;
};

struct SupervisorInfo {
  bool found = false;
  std::string error;
  int64_t pid = 0;
  std::string state;
  std::string started_at;
  std::vector<WorkerRow> workers;
};

SupervisorInfo ReadStatusFile(const std::string& path) {
  SupervisorInfo info;
  std::ifstream in(path);
  if (!in) return info;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
    info.error = "cannot parse " + path;
    return info;
  }
  info.found = true;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  auto num = [](simdjson::dom::element e, const char* key) {
    int64_t v = 0;
    return e[key].get_int64().get(v) == simdjson::SUCCESS ? v : int64_t{0};
  };
  info.pid = num(doc, "pid");
  info.state = str(doc, "state");
  info.started_at = str(doc, "started_at");
  simdjson::dom::array workers;
  if (doc["workers"].get_array().get(workers) == simdjson::SUCCESS) {
    for (simdjson::dom::element w : workers) {
      WorkerRow row;
      row.name = str(w, "name");
      row.title = str(w, "title");
      row.state = str(w, "state");
      row.last_exit = str(w, "last_exit");
      row.started_at = str(w, "started_at");
      row.log = str(w, "log");
      row.pid = num(w, "pid");
      row.restarts = num(w, "restarts");
      info.workers.push_back(std::move(row));
    }
  }
  return info;
}

bool ProcessAlive(int64_t pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// "2026-12-01T10:00:00.123Z" -> seconds ago ("5m12s"); "" when unparseable.
std::string Ago(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return "";
  const int64_t then = static_cast<int64_t>(timegm(&tm));
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t s = std::max<int64_t>(0, now - then);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

void PrintWorkers(const SupervisorInfo& sup) {
  std::cout << fmt::format("  {:<10} {:<12} {:<11} {:>8} {:>9}  {}\n", "worker", "title", "state",
                           "pid", "restarts", "up / last exit");
  for (const WorkerRow& w : sup.workers) {
    std::string up = w.state == "running" ? "up " + Ago(w.started_at) : "";
    if (!w.last_exit.empty()) up += (up.empty() ? "" : "; last ") + w.last_exit;
    std::cout << fmt::format("  {:<10} {:<12} {:<11} {:>8} {:>9}  {}\n", w.name, w.title, w.state,
                             w.pid > 0 ? std::to_string(w.pid) : "-", w.restarts,
                             up.empty() ? "-" : up);
  }
}

void PrintLag(const StatusFlags& f) {
  const auto timeout = std::chrono::milliseconds(f.timeout_ms);
  std::cout << fmt::format("\nconsumer lag (Kafka {}: committed offsets vs high watermarks)\n",
                           f.kafka_brokers);
  for (const std::string& group : {f.stream_group, f.archive_group}) {
    const std::string what = group == f.stream_group ? "speed layer" : "archiver";
    auto lag = kafka::GroupLag(f.kafka_brokers, group, f.topics, timeout);
    if (!lag.ok()) {
      std::cout << fmt::format("  {:<12} group {}: unavailable ({})\n", what, group,
                               lag.status().ToString());
      continue;
    }
    if (lag->empty()) {
      std::cout << fmt::format("  {:<12} group {}: none of the topics {} exists\n", what, group,
                               fmt::join(f.topics, ", "));
      continue;
    }
    int64_t total = 0;
    std::map<std::string, int64_t> per_topic;
    bool any_committed = false;
    for (const kafka::PartitionLag& p : *lag) {
      total += p.lag;
      per_topic[p.topic] += p.lag;
      any_committed = any_committed || p.committed >= 0;
    }
    std::vector<std::string> parts;
    for (const auto& [topic, n] : per_topic) parts.push_back(fmt::format("{} {}", topic, n));
    std::cout << fmt::format("  {:<12} group {}: lag {} records ({}){}\n", what, group, total,
                             fmt::join(parts, ", "),
                             any_committed ? "" : "; nothing committed yet");
  }
}

void PrintDatabase(const StatusFlags& f) {
  std::cout << "\nserving layer (" << f.pg_dsn << ")\n";
  // connect_timeout: a status command must not hang on an unreachable server.
  std::string dsn = f.pg_dsn;
  if (dsn.find("connect_timeout") == std::string::npos && dsn.find("://") == std::string::npos) {
    dsn += fmt::format(" connect_timeout={}", std::max(1, f.timeout_ms / 1000));
  }
  auto conn = pg::Connection::Open(dsn);
  if (!conn.ok()) {
    std::cout << "  unavailable: " << conn.status().ToString() << "\n";
    return;
  }
  (void)conn->Run(fmt::format("SET statement_timeout = {}", f.timeout_ms));
  auto boundary = conn->Exec(
      "SELECT boundary::text, first_batch_day::text, batch_days, gap_days, unsealed_days, "
      "to_char(last_loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM serving.boundary");
  if (!boundary.ok()) {
    std::cout << "  boundary: unavailable (" << boundary.status().ToString()
              << "; `pinpipe serving ensure` creates the serving views)\n";
  } else if (boundary->rows() == 1 && boundary->IsNull(0, 0)) {
    std::cout << "  boundary: none yet (no day loaded by the batch layer: every row comes from "
                 "the speed layer)\n";
  } else if (boundary->rows() == 1) {
    std::cout << fmt::format(
        "  boundary: {} (batch days {} from {}, {} missing in between, {} loaded unsealed; last "
        "load {}): days up to it come from the batch layer, later ones from the speed layer\n",
        boundary->GetValue(0, 0), boundary->GetValue(0, 2), boundary->GetValue(0, 1),
        boundary->GetValue(0, 3), boundary->GetValue(0, 4), boundary->GetValue(0, 5));
  }
  // The last chunk the speed layer committed (one row per chunk in pinpipe_stream_batches, newest
  // by id) and the planner's estimate of its rows (an exact count(*) would scan the table).
  auto speed = conn->Exec(
      "SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "records, rows, "
      "(SELECT greatest(reltuples, 0)::bigint FROM pg_class "
      " WHERE oid = 'public.experimental_data'::regclass) "
      "FROM pinpipe_stream_batches ORDER BY id DESC LIMIT 1");
  if (!speed.ok()) {
    std::cout << "  speed layer: unavailable (" << speed.status().ToString() << ")\n";
  } else if (speed->rows() == 0) {
    std::cout << "  speed layer: no chunk committed yet\n";
  } else {
    // reltuples is 0 (or -1) until the table was first analyzed: then no estimate.
    const std::string estimate(speed->GetValue(0, 3));
    std::cout << fmt::format(
        "  speed layer: last chunk committed {} ({} records, {} rows){}\n", speed->GetValue(0, 0),
        speed->GetValue(0, 1), speed->GetValue(0, 2),
        estimate == "0" ? std::string() : fmt::format("; about {} pin rows", estimate));
  }
  std::cout << "\nscheduler\n";
  auto runs = conn->Exec(
      "SELECT dag_id, run_id, state, "
      "to_char(coalesce(ended_at, started_at, queued_at) AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "(SELECT string_agg(t.task_id || ' ' || t.state, ', ' ORDER BY t.position) "
      " FROM scheduler.task_instances t WHERE t.dag_id = r.dag_id AND t.run_id = r.run_id) "
      "FROM scheduler.dag_runs r ORDER BY interval_start DESC, queued_at DESC LIMIT 1");
  auto counts = conn->Exec(
      "SELECT count(*) FILTER (WHERE state = 'success'), "
      "count(*) FILTER (WHERE state IN ('queued', 'running')), "
      "count(*) FILTER (WHERE state = 'failed') FROM scheduler.dag_runs");
  if (!runs.ok()) {
    std::cout << "  unavailable (" << runs.status().ToString()
              << "; the scheduler creates its schema when it starts)\n";
  } else if (runs->rows() == 0) {
    std::cout << "  no run yet\n";
  } else {
    std::cout << fmt::format("  last run: {} {} {} (at {}; tasks: {})\n", runs->GetValue(0, 0),
                             runs->GetValue(0, 1), runs->GetValue(0, 2), runs->GetValue(0, 3),
                             runs->GetValue(0, 4));
    if (counts.ok() && counts->rows() == 1) {
      std::cout << fmt::format("  runs: {} succeeded, {} queued or running, {} failed\n",
                               counts->GetValue(0, 0), counts->GetValue(0, 1),
                               counts->GetValue(0, 2));
    }
  }
}

int Run(StatusFlags f) {
  const std::string state_dir = FindStateDir(f.state_dir);
  RunInfo run = ReadRunInfo(state_dir);
  const std::string kafka_port = Env("PINPIPE_KAFKA_PORT", "19092");
  const std::string pg_port = Env("PINPIPE_PG_PORT", "15432");
  // Flags and PINPIPE_* variables first, then run.toml, then scripts/run's defaults.
  auto pick = [](std::string& value, const std::string& from_run, const std::string& fallback) {
    if (value.empty()) value = !from_run.empty() ? from_run : fallback;
  };
  pick(f.dashboard_url, run.dashboard_url,
       fmt::format("http://127.0.0.1:{}/", Env("PINPIPE_DASHBOARD_PORT", "8080")));
  pick(f.kafka_brokers, run.kafka_brokers, "127.0.0.1:" + kafka_port);
  pick(f.pg_dsn, run.pg_dsn,
       fmt::format("host=127.0.0.1 port={} user=pinpipe dbname=pinterest_streaming", pg_port));
  pick(f.stream_group, run.stream_group, Env("PINPIPE_STREAM_GROUP", "pinpipe-stream"));
  pick(f.archive_group, run.archive_group, Env("PINPIPE_ARCHIVE_GROUP", "pinpipe-archiver"));
  if (f.topics.empty()) f.topics = run.topics;
  if (f.topics.empty()) {
    f.topics = {Env("PINPIPE_TOPIC_PIN", core::DefaultTopic(core::RecordKind::kPin)),
                Env("PINPIPE_TOPIC_GEO", core::DefaultTopic(core::RecordKind::kGeo)),
                Env("PINPIPE_TOPIC_USER", core::DefaultTopic(core::RecordKind::kUser))};
  }
  const std::string status_file = !run.status_file.empty()
                                      ? run.status_file
                                      : (fs::path(state_dir) / "run" / "status.json").string();

  SupervisorInfo sup = ReadStatusFile(status_file);
  const bool running =
      sup.found && ProcessAlive(sup.pid) && (sup.state == "running" || sup.state == "stopping");
  if (running) {
    std::cout << fmt::format("pinpipe is running (supervisor pid {}, up {}; state {})\n", sup.pid,
                             Ago(sup.started_at), state_dir);
    if (run.found && run.dashboard_url.empty()) {
      std::cout << "dashboard  not started by this run (pinpipe dashboard is not in this build)\n";
    } else {
      std::cout << "dashboard  " << f.dashboard_url << "\n";
    }
    if (!run.api_url.empty()) std::cout << "ingest API " << run.api_url << "\n";
    std::cout << "\n";
    PrintWorkers(sup);
  } else {
    std::string why;
    if (!sup.error.empty()) {
      why = sup.error;
    } else if (!sup.found) {
      why = "no status file at " + status_file;
    } else if (sup.state == "stopped") {
      why = "the last run was stopped";
    } else if (!ProcessAlive(sup.pid)) {
      why = fmt::format("its supervisor (pid {}) is gone; the status file says '{}'", sup.pid,
                        sup.state);
    } else {
      why = fmt::format("its supervisor says '{}'", sup.state);
    }
    std::cout << fmt::format(
        "pinpipe is not running ({}).\nStart it with scripts/run (state "
        "{}).\n",
        why, state_dir);
    if (sup.found && !sup.workers.empty()) {
      std::cout << "\nlast known workers:\n";
      PrintWorkers(sup);
    }
  }
  if (!run.error.empty()) std::cout << "warning: " << run.error << "\n";
  PrintLag(f);
  PrintDatabase(f);
  return running ? 0 : 3;
}

CommandRegistration kStatus(
    "status",
    "Show what scripts/run runs: workers, the dashboard's address, consumer lag, the serving "
    "boundary and the last scheduler run (no flags needed)",
    [](CLI::App& sub) {
      auto f = std::make_shared<StatusFlags>();
      sub.add_option("--state-dir", f->state_dir,
                     "scripts/run's state directory (default ./.pinpipe, else the repository's)")
          ->envname("PINPIPE_STATE_DIR");
      sub.add_option("--dashboard-url", f->dashboard_url, "default: from run/run.toml")
          ->envname("PINPIPE_STATUS_DASHBOARD_URL");
      sub.add_option("--kafka-brokers", f->kafka_brokers, "default: from run/run.toml")
          ->envname("PINPIPE_KAFKA_BROKERS");
      AddKafkaClientFlags(sub, &f->kafka);
      sub.add_option("--pg-dsn", f->pg_dsn,
                     "the pipeline's database (pinterest_streaming); default: from run/run.toml")
          ->envname("PINPIPE_STATUS_PG_DSN");
      sub.add_option("--stream-group", f->stream_group, "the speed layer's consumer group")
          ->envname("PINPIPE_STREAM_GROUP");
      sub.add_option("--archive-group", f->archive_group, "the archiver's consumer group")
          ->envname("PINPIPE_ARCHIVE_GROUP");
      sub.add_option("--topic", f->topics, "a pipeline topic (repeat; default the three)");
      sub.add_option("--timeout-ms", f->timeout_ms, "per Kafka or PostgreSQL request")
          ->check(CLI::Range(100, 60000))
          ->capture_default_str();
      return CommandRunner(
          [f] { return RunWithKafkaClientFlags(f->kafka, "status", [f] { return Run(*f); }); });
    });

}  // namespace
}  // namespace pinpipe::app
