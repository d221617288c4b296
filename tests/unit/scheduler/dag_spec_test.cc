// Tests for the DAG file parser: the shipped example, every key, and every error message
// (exact, so a reworded message is a conscious change): each names the file, table.key and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scheduler/dag_spec.h"
#include "scheduler/task_template.h"
#include "testing/status_matchers.h"

namespace pinpipe::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Instant At(const std::string& text) { return *ParseInstant(text, TimeZone::Utc()); }

// A minimal valid file (lines 1-8): [dag] on line 1, the one task's [[tasks]] on line 5.
constexpr std::string_view kMinimal = R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01
[[tasks]]
id = "a"
kind = "shell"
command = "true"
)";

std::string ErrorOf(std::string_view text) {
  StatusOr<DagSpec> spec = ParseDagSpec(text, "d.toml");
  if (spec.ok()) return "OK";
  EXPECT_THAT(spec, StatusIs(StatusCode::kInvalidArgument));
  return spec.status().message();
}

// kMinimal with `dag_lines` added to [dag] (after line 4, so tasks start at line 5 + their
// count) and `more` appended at the end (line 9 onwards without dag_lines).
std::string With(std::string_view dag_lines, std::string_view more = "") {
  std::string text(kMinimal);
  const size_t tasks = text.find("[[tasks]]");
  text.insert(tasks, std::string(dag_lines));
  return text + std::string(more);
}

TEST(DagSpecTest, ExampleFileParses) {
  StatusOr<DagSpec> spec = LoadDagSpec(PINPIPE_SOURCE_DIR "/dags/pinterest_daily.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->id, "pinterest_daily");
  EXPECT_EQ(spec->schedule.ToString(), "0 0 * * *");
  EXPECT_EQ(spec->schedule.source(), "@daily");
  EXPECT_EQ(spec->timezone.name(), "UTC");
  EXPECT_EQ(spec->start_date, At("2024-01-01T00:00:00Z"));
  EXPECT_FALSE(spec->end_date.has_value());
  EXPECT_TRUE(spec->catchup);
  EXPECT_EQ(spec->max_active_runs, 1);
  EXPECT_EQ(spec->max_active_tasks, 4);
  EXPECT_EQ(spec->sla, hours(3));
  ASSERT_EQ(spec->tasks.size(), 3u);
  EXPECT_EQ(spec->tasks[0].id, "wait_sealed");
  EXPECT_EQ(spec->tasks[0].kind, TaskKind::kWaitSealed);
  EXPECT_EQ(spec->tasks[0].timeout, hours(6));
  EXPECT_EQ(spec->tasks[0].poke_interval, minutes(1));
  EXPECT_EQ(spec->tasks[1].kind, TaskKind::kBatch);
  EXPECT_EQ(spec->tasks[1].upstream, std::vector<size_t>{0});
  EXPECT_EQ(spec->tasks[2].kind, TaskKind::kRefreshViews);
  EXPECT_EQ(spec->tasks[2].upstream, std::vector<size_t>{1});
  for (const TaskSpec& task : spec->tasks) {
    EXPECT_EQ(task.retry.retries, 3) << task.id;
    EXPECT_EQ(task.retry.delay, minutes(5)) << task.id;
    EXPECT_EQ(task.retry.backoff, 1.0) << task.id;
  }
  EXPECT_EQ(spec->tasks[1].timeout, hours(2));
  EXPECT_EQ(spec->topological_order, (std::vector<size_t>{0, 1, 2}));
}

TEST(DagSpecTest, MissingFile) {
  StatusOr<DagSpec> spec = LoadDagSpec("/nonexistent/dag.toml");
  EXPECT_THAT(spec, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(spec.status().message(), "cannot open DAG file /nonexistent/dag.toml");
}

TEST(DagSpecTest, AFolderGivesItsGoodDagsAndNamesEveryBadFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dag_folder_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct File {
    const char* name;
    std::string text;
  };
  const std::string second = std::string(kMinimal).replace(kMinimal.find("\"d\""), 3, "\"e\"");
  const File files[] = {
      {"b.toml", std::string(kMinimal)},  // DAG d
      {"a.toml", second},                 // DAG e, first by name
      {"c.toml", std::string(kMinimal)},  // DAG d again: refused
      {"d.toml", "[dag]\nid = 3\n"},      // does not parse
      {"notes.txt", "not a DAG"},         // ignored
  };
  for (const File& f : files) std::ofstream(dir / f.name) << f.text;
  std::vector<std::string> errors;
  const std::vector<DagSpec> dags = LoadDagFolder(dir.string(), &errors);
  ASSERT_EQ(dags.size(), 2u);
  EXPECT_EQ(dags[0].id, "e");
  EXPECT_EQ(dags[1].id, "d");
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], (dir / "c.toml").string() + ": DAG id d is defined twice");
  EXPECT_TRUE(errors[1].starts_with((dir / "d.toml").string())) << errors[1];
  std::filesystem::remove_all(dir);
  errors.clear();
  EXPECT_TRUE(LoadDagFolder(dir.string(), &errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with(dir.string() + ": ")) << errors[0];
}

TEST(DagSpecTest, DefaultsOfAMinimalFile) {
  StatusOr<DagSpec> spec = ParseDagSpec(kMinimal, "d.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->source_name, "d.toml");
  EXPECT_TRUE(spec->catchup);
  EXPECT_EQ(spec->max_active_runs, 16);
  EXPECT_EQ(spec->max_active_tasks, 16);
  EXPECT_FALSE(spec->sla.has_value());
  const TaskSpec& a = spec->tasks[0];
  EXPECT_EQ(a.retry.retries, 0);
  EXPECT_EQ(a.retry.delay, minutes(5));
  EXPECT_FALSE(a.timeout.has_value());
  EXPECT_EQ(a.command->source(), "true");
}

TEST(DagSpecTest, EveryKey) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "every.key-1"
description = "all of it"
schedule = "30 2 * * MON-FRI"
timezone = "Europe/Berlin"
start_date = 2024-03-01T06:00:00
end_date = "2024-12-31"
catchup = false
max_active_runs = 2
max_active_tasks = 3
sla = "1h30m"

[defaults]
retries = 2
retry_delay = "30s"
retry_backoff = 2
max_retry_delay = "10m"
timeout = "1h"

[[tasks]]
id = "wait"
kind = "wait_sealed"
poke_interval = "90s"
args = ["--day", "{{ ds }}"]

[[tasks]]
id = "run"
kind = "shell"
depends_on = ["wait"]
argv = ["/bin/echo", "{{data_interval_start}}", "{{ data_interval_end }}"]
env = { DAY = "{{ ds_nodash }}", RUN = "{{ run_id }}" }
retries = 5
retry_backoff = 1.5
timeout = "10m"
description = "echo"
)",
                                        "e.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->id, "every.key-1");
  EXPECT_EQ(spec->description, "all of it");
  EXPECT_EQ(spec->timezone.name(), "Europe/Berlin");
  EXPECT_EQ(spec->start_date, At("2024-03-01T05:00:00Z"));  // CET
  EXPECT_EQ(spec->end_date, At("2024-12-30T23:00:00Z"));
  EXPECT_FALSE(spec->catchup);
  EXPECT_EQ(spec->max_active_runs, 2);
  EXPECT_EQ(spec->max_active_tasks, 3);
  EXPECT_EQ(spec->sla, minutes(90));
  const TaskSpec& wait = spec->tasks[0];
  EXPECT_EQ(wait.retry.retries, 2);
  EXPECT_EQ(wait.retry.delay, seconds(30));
  EXPECT_EQ(wait.retry.backoff, 2.0);
  EXPECT_EQ(wait.retry.max_delay, minutes(10));
  EXPECT_EQ(wait.timeout, hours(1));
  EXPECT_EQ(wait.poke_interval, seconds(90));
  ASSERT_EQ(wait.args.size(), 2u);
  const TaskSpec& run = spec->tasks[1];
  EXPECT_EQ(run.retry.retries, 5);
  EXPECT_EQ(run.retry.backoff, 1.5);
  EXPECT_EQ(run.retry.delay, seconds(30));  // from [defaults]
  EXPECT_EQ(run.timeout, minutes(10));
  EXPECT_EQ(run.argv.size(), 3u);
  ASSERT_EQ(run.env.size(), 2u);
  EXPECT_EQ(run.env[0].first, "DAY");
  EXPECT_EQ(run.description, "echo");
}

TEST(DagSpecTest, StartDateForms) {
  auto start = [](std::string_view value) {
    std::string text(kMinimal);
    text.replace(text.find("2024-01-01"), 10, value);
    StatusOr<DagSpec> spec = ParseDagSpec(text, "d.toml");
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? spec->start_date : Instant{};
  };
  EXPECT_EQ(start("2024-01-01T06:30:00"), At("2024-01-01T06:30:00Z"));
  EXPECT_EQ(start("2024-01-01T06:30:00+02:00"), At("2024-01-01T04:30:00Z"));
  EXPECT_EQ(start("2024-01-01T06:30:00Z"), At("2024-01-01T06:30:00Z"));
  EXPECT_EQ(start("\"2024-01-01T06:30\""), At("2024-01-01T06:30:00Z"));
}

TEST(DagSpecTest, DependenciesAndTopologicalOrder) {
  StatusOr<DagSpec> spec = ParseDagSpec(R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01
[[tasks]]
id = "c"
kind = "shell"
command = "true"
depends_on = ["a", "b"]
[[tasks]]
id = "b"
kind = "shell"
command = "true"
depends_on = ["a"]
[[tasks]]
id = "a"
kind = "shell"
command = "true"
)",
                                        "d.toml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->tasks[0].upstream, (std::vector<size_t>{2, 1}));
  EXPECT_EQ(spec->topological_order, (std::vector<size_t>{2, 1, 0}));
  EXPECT_EQ(spec->TaskIndex("b"), 1u);
  EXPECT_EQ(spec->TaskIndex("z"), std::nullopt);
}

std::string Tasks(std::string_view body) {
  return std::string(R"([dag]
id = "d"
schedule = "@daily"
start_date = 2024-01-01
)") + std::string(body);
}

TEST(DagSpecTest, CyclesAreNamed) {
  // a <- b <- c <- a: "a -> c" means c depends on a.
  EXPECT_EQ(
      ErrorOf(Tasks(R"([[tasks]]
id = "a"
kind = "shell"
command = "true"
depends_on = ["b"]
[[tasks]]
id = "b"
kind = "shell"
command = "true"
depends_on = ["c"]
[[tasks]]
id = "c"
kind = "shell"
command = "true"
depends_on = ["a"]
)")),
      R"(d.toml: tasks (line 5): dependency cycle: a -> c -> b -> a ("a -> b": b depends on a))");
  EXPECT_EQ(ErrorOf(Tasks(R"([[tasks]]
id = "a"
kind = "shell"
command = "true"
depends_on = ["a"]
)")),
            R"(d.toml: tasks (line 5): dependency cycle: a -> a ("a -> b": b depends on a))");
  // A cycle below an acyclic start: root -> x -> y -> x.
  EXPECT_EQ(ErrorOf(Tasks(R"([[tasks]]
id = "root"
kind = "shell"
command = "true"
depends_on = ["x"]
[[tasks]]
id = "x"
kind = "shell"
command = "true"
depends_on = ["y"]
[[tasks]]
id = "y"
kind = "shell"
command = "true"
depends_on = ["x"]
)")),
            R"(d.toml: tasks (line 10): dependency cycle: x -> y -> x ("a -> b": b depends on a))");
}

TEST(DagSpecTest, Errors) {
  const std::pair<std::string, std::string> cases[] = {
      // TOML itself.
      {"[dag\n",
       "d.toml:1:5: TOML syntax error: Error while parsing table header: expected ']', saw '\\n'"},
      // Top level.
      {With("", "[dags]\n"),
       "d.toml: dags (line 9): unknown table (allowed: [dag], [defaults], [[tasks]])"},
      {"[[tasks]]\nid = \"a\"\nkind = \"shell\"\ncommand = \"true\"\n",
       "d.toml: dag: missing table [dag]"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\nstart_date = 2024-01-01\n",
       "d.toml: tasks: missing [[tasks]] (at least one task)"},
      {"tasks = []\n[dag]\nid = \"d\"\nschedule = \"@daily\"\nstart_date = 2024-01-01\n",
       "d.toml: tasks (line 1): missing [[tasks]] (at least one task)"},
      // [dag]
      {With("schedul = \"@daily\"\n"),
       "d.toml: dag.schedul (line 5): unknown key (allowed: id, description, schedule, "
       "timezone, start_date, end_date, catchup, max_active_runs, max_active_tasks, sla)"},
      {"[dag]\nschedule = \"@daily\"\nstart_date = 2024-01-01\n",
       "d.toml: dag (line 1): missing key \"id\""},
      {"[dag]\nid = \"a b\"\n",
       "d.toml: dag.id (line 2): must be 1-250 letters, digits, '_', '-' or '.'"},
      {"[dag]\nid = 5\n", "d.toml: dag.id (line 2): must be a string"},
      {"[dag]\nid = \"d\"\nstart_date = 2024-01-01\n",
       "d.toml: dag (line 1): missing key \"schedule\" (a cron expression or @daily, @hourly...)"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\n",
       "d.toml: dag (line 1): missing key \"start_date\""},
      {"[dag]\nid = \"d\"\nschedule = \"0 0 * *\"\n",
       "d.toml: dag.schedule (line 3): cron \"0 0 * *\": expected 5 fields (minute hour "
       "day-of-month month day-of-week) or a preset such as @daily, got 4 fields"},
      {"[dag]\nid = \"d\"\nschedule = \"61 0 * * *\"\n",
       "d.toml: dag.schedule (line 3): cron \"61 0 * * *\": minute field: 61 is out of range "
       "0-59 (column 1)"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\ntimezone = \"Europe/Berln\"\n",
       "d.toml: dag.timezone (line 4): unknown time zone \"Europe/Berln\" (no file "
       "/usr/share/zoneinfo/Europe/Berln)"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\ntimezone = \"../../etc/passwd\"\n",
       "d.toml: dag.timezone (line 4): \"../../etc/passwd\" is not a time zone name (expected an "
       "IANA name such as \"Europe/Berlin\" or \"UTC\")"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\nstart_date = 2024-02-30\n",
       "d.toml:4:24: TOML syntax error: Error while parsing date: expected day between 1 and 29 "
       "(inclusive), saw 30"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\nstart_date = \"2024-02-30\"\n",
       "d.toml: dag.start_date (line 4): bad date/time \"2024-02-30\": not a calendar date "
       "(expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or either with Z or +HH:MM)"},
      {"[dag]\nid = \"d\"\nschedule = \"@daily\"\nstart_date = 20240101\n",
       "d.toml: dag.start_date (line 4): must be a date (2024-01-01), a local date-time "
       "(2024-01-01T06:00:00, in the DAG's timezone) or a date-time with offset "
       "(2024-01-01T06:00:00Z)"},
      {With("end_date = 2023-01-01\n"), "d.toml: dag.end_date (line 5): is before start_date"},
      {With("catchup = \"yes\"\n"), "d.toml: dag.catchup (line 5): must be true or false"},
      {With("max_active_runs = 0\n"),
       "d.toml: dag.max_active_runs (line 5): must be an integer from 1 to 10000"},
      {With("max_active_tasks = 1.5\n"),
       "d.toml: dag.max_active_tasks (line 5): must be an integer from 1 to 10000"},
      {With("sla = \"0s\"\n"), "d.toml: dag.sla (line 5): must be longer than 0s"},
      {With("sla = 30\n"), "d.toml: dag.sla (line 5): must be a string"},
      // [defaults]
      {With("", "[defaults]\nretries = -1\n"),
       "d.toml: defaults.retries (line 10): must be an integer from 0 to 100"},
      {With("", "[defaults]\nretry_delay = \"5 m\"\n"),
       "d.toml: defaults.retry_delay (line 10): bad duration \"5 m\": unknown unit ' ' (use d, "
       "h, m, s as in \"5m\", \"1h30m\", \"90s\")"},
      {With("", "[defaults]\nretry_backoff = 0.5\n"),
       "d.toml: defaults.retry_backoff (line 10): must be a number from 1 (fixed delay) to 10 (2 "
       "doubles the delay per try)"},
      {With("", "[defaults]\nkind = \"shell\"\n"),
       "d.toml: defaults.kind (line 10): unknown key (allowed: retries, retry_delay, "
       "retry_backoff, max_retry_delay, timeout)"},
      {With("", "[defaults]\ntimeout = \"0s\"\n"),
       "d.toml: defaults.timeout (line 10): must be longer than 0s"},
      // [[tasks]]
      {With("", "[[tasks]]\nkind = \"shell\"\n"), "d.toml: tasks[1] (line 9): missing key \"id\""},
      {With("", "[[tasks]]\nid = \"a\"\nkind = \"shell\"\ncommand = \"x\"\n"),
       "d.toml: tasks[1].id (line 10): duplicate task id \"a\" (first defined at line 5)"},
      {With("", "[[tasks]]\nid = \"b/c\"\n"),
       "d.toml: tasks[1].id (line 10): must be 1-250 letters, digits, '_', '-' or '.'"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"python\"\n"),
       "d.toml: tasks.b.kind (line 11): must be one of: wait_sealed, batch, refresh_views, shell"},
      {With("", "[[tasks]]\nid = \"b\"\n"),
       "d.toml: tasks.b (line 9): missing key \"kind\" (one of: wait_sealed, batch, "
       "refresh_views, shell)"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\nretires = 3\n"),
       "d.toml: tasks.b.retires (line 12): unknown key (allowed: id, kind, description, "
       "depends_on, retries, retry_delay, retry_backoff, max_retry_delay, timeout, command, "
       "argv, env, args, poke_interval)"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\ndepends_on = [\"wait_seald\"]\n"),
       "d.toml: tasks.b.depends_on (line 12): unknown task \"wait_seald\" (tasks: a, b)"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\ndepends_on = \"a\"\n"),
       "d.toml: tasks.b.depends_on (line 12): must be an array of task ids"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\ndepends_on = [\"a\", \"a\"]\n"),
       "d.toml: tasks.b.depends_on (line 12): \"a\" is listed twice"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\ntimeout = \"1h30\"\n"),
       "d.toml: tasks.b.timeout (line 12): bad duration \"1h30\": missing unit after 30 (use d, "
       "h, m, s as in \"5m\", \"1h30m\", \"90s\")"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\nretry_delay = \"30m1h\"\n"),
       "d.toml: tasks.b.retry_delay (line 12): bad duration \"30m1h\": unit 'h' repeated or out "
       "of order (write d, h, m, s in that order) (use d, h, m, s as in \"5m\", \"1h30m\", "
       "\"90s\")"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\ncommand = \"x\"\n"),
       "d.toml: tasks.b.command (line 12): only for kind \"shell\" (built-in kinds take \"args\")"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\nargs = [\"x\"]\n"),
       "d.toml: tasks.b.args (line 12): only for built-in kinds (a shell task has \"command\" or "
       "\"argv\")"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\npoke_interval = \"1m\"\n"),
       "d.toml: tasks.b.poke_interval (line 12): only for kind \"wait_sealed\""},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\n"),
       "d.toml: tasks.b (line 9): a shell task needs exactly one of \"command\" (run by /bin/sh "
       "-c) or \"argv\""},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"x\"\nargv = [\"x\"]\n"),
       "d.toml: tasks.b (line 9): a shell task needs exactly one of \"command\" (run by /bin/sh "
       "-c) or \"argv\""},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"\"\n"),
       "d.toml: tasks.b.command (line 12): is empty"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\nargv = []\n"),
       "d.toml: tasks.b.argv (line 12): is empty"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"echo {{ dss }}\"\n"),
       "d.toml: tasks.b.command (line 12): unknown template variable \"dss\" at character 6 "
       "(known: ds, ds_nodash, ts, data_interval_start, data_interval_end, dag_id, task_id, "
       "run_id, try_number)"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\nargv = [\"echo\", \"{{ ds\"]\n"),
       "d.toml: tasks.b.argv[1] (line 12): unterminated \"{{\" at character 1"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"x\"\nenv = { 1X = \"v\" }\n"),
       "d.toml: tasks.b.env.1X (line 13): is not an environment variable name "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"x\"\nenv = { X = 1 }\n"),
       "d.toml: tasks.b.env.X (line 13): must be a string"},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"x\"\nenv = \"X=1\"\n"),
       "d.toml: tasks.b.env (line 13): must be a table of NAME = \"value\""},
      {With("", "[[tasks]]\nid = \"b\"\nkind = \"batch\"\nretries = 101\n"),
       "d.toml: tasks.b.retries (line 12): must be an integer from 0 to 100"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ErrorOf(text), message) << text;
  }
}

TEST(RetryPolicyTest, ExponentialBackoffIsCapped) {
  RetryPolicy retry;
  retry.delay = minutes(5);
  retry.backoff = 2;
  retry.max_delay = minutes(30);
  EXPECT_EQ(retry.DelayAfterTry(1), minutes(5));
  EXPECT_EQ(retry.DelayAfterTry(2), minutes(10));
  EXPECT_EQ(retry.DelayAfterTry(3), minutes(20));
  EXPECT_EQ(retry.DelayAfterTry(4), minutes(30));
  EXPECT_EQ(retry.DelayAfterTry(100), minutes(30));
  retry.backoff = 1;
  EXPECT_EQ(retry.DelayAfterTry(7), minutes(5));
}

TEST(TaskTemplateTest, Renders) {
  StatusOr<TaskTemplate> t = TaskTemplate::Parse(
      "run {{ds}} {{ ds_nodash }} {{ ts }} [{{ data_interval_start }}, {{ data_interval_end }}) "
      "{{ dag_id }}/{{ task_id }}/{{ run_id }}#{{ try_number }} {} }}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const TimeZone berlin = *TimeZone::Load("Europe/Berlin");
  const DataInterval interval{At("2024-03-30T23:00:00Z"), At("2024-03-31T22:00:00Z")};
  EXPECT_EQ(t->Render(TemplateValues::For("dag", "task", "run", 2, interval, berlin)),
            "run 2024-03-31 20240331 2024-03-31T00:00:00+01:00 [2024-03-31T00:00:00+01:00, "
            "2024-04-01T00:00:00+02:00) dag/task/run#2 {} }}");
  EXPECT_EQ(TaskTemplate::Parse("")->Render({}), "");
  EXPECT_EQ(TaskTemplate::Parse("plain")->Render({}), "plain");
  EXPECT_EQ(TaskTemplate::Parse("{{ nope }}").status().message(),
            "unknown template variable \"nope\" at character 1 (known: ds, ds_nodash, ts, "
            "data_interval_start, data_interval_end, dag_id, task_id, run_id, try_number)");
  EXPECT_EQ(TaskTemplate::Parse("a {{ ds }").status().message(),
            "unterminated \"{{\" at character 3");
}

}  // namespace
}  // namespace pinpipe::scheduler
