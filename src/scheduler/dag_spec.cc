#include "scheduler/dag_spec.h"

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/toml_errors.h"
#include "process/child.h"

namespace pinpipe::scheduler {
namespace {

constexpr std::string_view kTopKeys[] = {"dag", "defaults", "tasks"};
constexpr std::string_view kDagKeys[] = {
    "id",       "description", "schedule",        "timezone",         "start_date",
    "end_date", "catchup",     "max_active_runs", "max_active_tasks", "sla"};
constexpr std::string_view kDefaultsKeys[] = {"retries", "retry_delay", "retry_backoff",
                                              "max_retry_delay", "timeout"};
constexpr std::string_view kTaskKeys[] = {
    "id",      "kind",         "description",   "depends_on",
    "retries", "retry_delay",  "retry_backoff", "max_retry_delay",
    "timeout", "command",      "argv",          "env",
    "args",    "poke_interval"};
constexpr TaskKind kAllKinds[] = {TaskKind::kWaitSealed, TaskKind::kBatch, TaskKind::kRefreshViews,
                                  TaskKind::kShell};

constexpr int kMaxRetries = 100;
constexpr int64_t kMaxLimit = 10000;  // max_active_runs / max_active_tasks
constexpr size_t kMaxTasks = 10000;

template <size_t N>
bool Contains(const std::string_view (&names)[N], std::string_view key) {
  for (std::string_view name : names) {
    if (name == key) return true;
  }
  return false;
}

// Airflow's id rule: letters, digits, '_', '-', '.'.
bool IsId(std::string_view s) {
  if (s.empty() || s.size() > 250) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<TaskKind> ParseKind(std::string_view name) {
  for (TaskKind kind : kAllKinds) {
    if (TaskKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// Builds the messages of one parse; each starts with the file name and names table.key.
class DagParser {
 public:
  explicit DagParser(std::string_view source_name) : errors_(source_name) {}

  StatusOr<DagSpec> Parse(std::string_view text);

 private:
  Status Error(std::string_view where, const toml::node* node, std::string_view what) const {
    return errors_.Error(where, node, what);
  }
  Status CheckKeys(std::string_view where, const toml::table& table,
                   std::span<const std::string_view> allowed) const {
    return errors_.CheckKeys(where, table, allowed);
  }

  Status ParseDag(const toml::table& dag, DagSpec* spec);
  Status ParseRetryKeys(std::string_view where, const toml::table& table, RetryPolicy* retry,
                        std::optional<std::chrono::seconds>* timeout) const;
  Status ParseTask(const std::string& where, const toml::table& table, TaskSpec* task) const;
  Status ResolveDependencies(const toml::array& tasks_node, DagSpec* spec) const;

  StatusOr<std::string> String(std::string_view where, const toml::node& node) const {
    const auto* s = node.as_string();
    if (s == nullptr) return Error(where, &node, "must be a string");
    return s->get();
  }
  StatusOr<int64_t> Integer(std::string_view where, const toml::node& node, int64_t lo,
                            int64_t hi) const {
    const auto* i = node.as_integer();
    if (i == nullptr || i->get() < lo || i->get() > hi) {
      return Error(where, &node, fmt::format("must be an integer from {} to {}", lo, hi));
    }
    return i->get();
  }
  StatusOr<std::chrono::seconds> Duration(std::string_view where, const toml::node& node,
                                          bool allow_zero) const {
    ASSIGN_OR_RETURN(std::string text, String(where, node));
    StatusOr<std::chrono::seconds> d = core::ParseDuration(text);
    if (!d.ok()) return Error(where, &node, d.status().message());
    if (!allow_zero && d->count() == 0) return Error(where, &node, "must be longer than 0s");
    return *d;
  }
  StatusOr<TaskTemplate> Template(std::string_view where, const toml::node& node) const {
    ASSIGN_OR_RETURN(std::string text, String(where, node));
    StatusOr<TaskTemplate> t = TaskTemplate::Parse(text);
    if (!t.ok()) return Error(where, &node, t.status().message());
    return std::move(t).value();
  }
  StatusOr<std::vector<TaskTemplate>> TemplateArray(std::string_view where,
                                                    const toml::node& node) const {
    const toml::array* array = node.as_array();
    if (array == nullptr) return Error(where, &node, "must be an array of strings");
    std::vector<TaskTemplate> out;
    for (size_t i = 0; i < array->size(); ++i) {
      ASSIGN_OR_RETURN(TaskTemplate t, Template(fmt::format("{}[{}]", where, i), *array->get(i)));
      out.push_back(std::move(t));
    }
    return out;
  }
  StatusOr<Instant> Date(std::string_view where, const toml::node& node,
                         const TimeZone& zone) const;

  core::TomlErrors errors_;
  RetryPolicy default_retry_;
  std::optional<std::chrono::seconds> default_timeout_;
};

StatusOr<Instant> DagParser::Date(std::string_view where, const toml::node& node,
                                  const TimeZone& zone) const {
  constexpr std::string_view kHelp =
      "must be a date (2024-01-01), a local date-time (2024-01-01T06:00:00, in the DAG's "
      "timezone) or a date-time with offset (2024-01-01T06:00:00Z)";
  std::string text;
  if (const auto* s = node.as_string()) {
    text = s->get();
  } else if (const auto* d = node.as_date()) {
    text = fmt::format("{:04}-{:02}-{:02}", d->get().year, d->get().month, d->get().day);
  } else if (const auto* dt = node.as_date_time()) {
    const toml::date_time& v = dt->get();
    text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", v.date.year, v.date.month, v.date.day,
                       v.time.hour, v.time.minute, v.time.second);
    if (v.offset) {
      const int m = v.offset->minutes;
      const int abs_m = m < 0 ? -m : m;
      text += fmt::format("{}{:02}:{:02}", m < 0 ? '-' : '+', abs_m / 60, abs_m % 60);
    }
  } else {
    return Error(where, &node, kHelp);
  }
  StatusOr<Instant> instant = ParseInstant(text, zone);
  if (!instant.ok()) return Error(where, &node, instant.status().message());
  return *instant;
}

Status DagParser::ParseDag(const toml::table& dag, DagSpec* spec) {
  RETURN_IF_ERROR(CheckKeys("dag", dag, kDagKeys));
  const toml::node* id = dag.get("id");
  if (id == nullptr) return Error("dag", &dag, "missing key \"id\"");
  ASSIGN_OR_RETURN(spec->id, String("dag.id", *id));
  if (!IsId(spec->id)) {
    return Error("dag.id", id, "must be 1-250 letters, digits, '_', '-' or '.'");
  }
  if (const toml::node* n = dag.get("description")) {
    ASSIGN_OR_RETURN(spec->description, String("dag.description", *n));
  }
  // The time zone first: dates without an offset are read in it.
  if (const toml::node* n = dag.get("timezone")) {
    ASSIGN_OR_RETURN(std::string name, String("dag.timezone", *n));
    StatusOr<TimeZone> zone = TimeZone::Load(name);
    if (!zone.ok()) return Error("dag.timezone", n, zone.status().message());
    spec->timezone = *zone;
  }
  const toml::node* schedule = dag.get("schedule");
  if (schedule == nullptr) {
    return Error("dag", &dag, "missing key \"schedule\" (a cron expression or @daily, @hourly...)");
  }
  ASSIGN_OR_RETURN(std::string expression, String("dag.schedule", *schedule));
  StatusOr<CronSchedule> cron = CronSchedule::Parse(expression);
  if (!cron.ok()) return Error("dag.schedule", schedule, cron.status().message());
  spec->schedule = *cron;

  const toml::node* start = dag.get("start_date");
  if (start == nullptr) return Error("dag", &dag, "missing key \"start_date\"");
  ASSIGN_OR_RETURN(spec->start_date, Date("dag.start_date", *start, spec->timezone));
  if (const toml::node* n = dag.get("end_date")) {
    ASSIGN_OR_RETURN(spec->end_date, Date("dag.end_date", *n, spec->timezone));
    if (*spec->end_date < spec->start_date) {
      return Error("dag.end_date", n, "is before start_date");
    }
  }
  if (!spec->schedule.Next(spec->start_date - std::chrono::seconds(1), spec->timezone)) {
    return Error("dag.start_date", start, "the schedule never fires after this date");
  }
  if (const toml::node* n = dag.get("catchup")) {
    const auto* b = n->as_boolean();
    if (b == nullptr) return Error("dag.catchup", n, "must be true or false");
    spec->catchup = b->get();
  }
  if (const toml::node* n = dag.get("max_active_runs")) {
    ASSIGN_OR_RETURN(const int64_t v, Integer("dag.max_active_runs", *n, 1, kMaxLimit));
    spec->max_active_runs = static_cast<int>(v);
  }
  if (const toml::node* n = dag.get("max_active_tasks")) {
    ASSIGN_OR_RETURN(const int64_t v, Integer("dag.max_active_tasks", *n, 1, kMaxLimit));
    spec->max_active_tasks = static_cast<int>(v);
  }
  if (const toml::node* n = dag.get("sla")) {
    ASSIGN_OR_RETURN(spec->sla, Duration("dag.sla", *n, /*allow_zero=*/false));
  }
  return Status::Ok();
}

Status DagParser::ParseRetryKeys(std::string_view where, const toml::table& table,
                                 RetryPolicy* retry,
                                 std::optional<std::chrono::seconds>* timeout) const {
  auto key = [&](std::string_view k) { return fmt::format("{}.{}", where, k); };
  if (const toml::node* n = table.get("retries")) {
    ASSIGN_OR_RETURN(const int64_t v, Integer(key("retries"), *n, 0, kMaxRetries));
    retry->retries = static_cast<int>(v);
  }
  if (const toml::node* n = table.get("retry_delay")) {
    ASSIGN_OR_RETURN(retry->delay, Duration(key("retry_delay"), *n, /*allow_zero=*/true));
  }
  if (const toml::node* n = table.get("retry_backoff")) {
    std::optional<double> v;
    if (const auto* f = n->as_floating_point()) v = f->get();
    if (const auto* i = n->as_integer()) v = static_cast<double>(i->get());
    if (!v || !std::isfinite(*v) || *v < 1.0 || *v > 10.0) {
      return Error(key("retry_backoff"), n,
                   "must be a number from 1 (fixed delay) to 10 (2 doubles the delay per try)");
    }
    retry->backoff = *v;
  }
  if (const toml::node* n = table.get("max_retry_delay")) {
    ASSIGN_OR_RETURN(retry->max_delay, Duration(key("max_retry_delay"), *n, /*allow_zero=*/true));
  }
  if (const toml::node* n = table.get("timeout")) {
    ASSIGN_OR_RETURN(*timeout, Duration(key("timeout"), *n, /*allow_zero=*/false));
  }
  return Status::Ok();
}

Status DagParser::ParseTask(const std::string& where, const toml::table& table,
                            TaskSpec* task) const {
  const toml::node* kind_node = table.get("kind");
  if (kind_node == nullptr) {
    return Error(where, &table,
                 "missing key \"kind\" (one of: wait_sealed, batch, refresh_views, shell)");
  }
  const auto* kind_name = kind_node->as_string();
  const std::optional<TaskKind> kind = kind_name ? ParseKind(kind_name->get()) : std::nullopt;
  if (!kind) {
    return Error(where + ".kind", kind_node,
                 "must be one of: wait_sealed, batch, refresh_views, shell");
  }
  task->kind = *kind;
  task->retry = default_retry_;
  task->timeout = default_timeout_;
  RETURN_IF_ERROR(ParseRetryKeys(where, table, &task->retry, &task->timeout));
  if (const toml::node* n = table.get("description")) {
    ASSIGN_OR_RETURN(task->description, String(where + ".description", *n));
  }
  if (const toml::node* n = table.get("depends_on")) {
    const toml::array* array = n->as_array();
    if (array == nullptr) return Error(where + ".depends_on", n, "must be an array of task ids");
    for (const toml::node& element : *array) {
      const auto* s = element.as_string();
      if (s == nullptr) return Error(where + ".depends_on", n, "must be an array of task ids");
      for (const std::string& seen : task->depends_on) {
        if (seen == s->get()) {
          return Error(where + ".depends_on", n, fmt::format("\"{}\" is listed twice", seen));
        }
      }
      task->depends_on.push_back(s->get());
    }
  }
  // Keys that belong to other kinds.
  const bool shell = task->kind == TaskKind::kShell;
  for (std::string_view k : {"command", "argv", "env"}) {
    if (!shell && table.get(k) != nullptr) {
      return Error(where + "." + std::string(k), table.get(k),
                   fmt::format("only for kind \"shell\" (built-in kinds take \"args\")"));
    }
  }
  if (shell && table.get("args") != nullptr) {
    return Error(where + ".args", table.get("args"),
                 "only for built-in kinds (a shell task has \"command\" or \"argv\")");
  }
  if (task->kind != TaskKind::kWaitSealed && table.get("poke_interval") != nullptr) {
    return Error(where + ".poke_interval", table.get("poke_interval"),
                 "only for kind \"wait_sealed\"");
  }
  if (shell) {
    const toml::node* command = table.get("command");
    const toml::node* argv = table.get("argv");
    if ((command == nullptr) == (argv == nullptr)) {
      return Error(where, &table,
                   "a shell task needs exactly one of \"command\" (run by /bin/sh -c) or "
                   "\"argv\"");
    }
    if (command != nullptr) {
      ASSIGN_OR_RETURN(task->command, Template(where + ".command", *command));
      if (task->command->source().empty()) return Error(where + ".command", command, "is empty");
    } else {
      ASSIGN_OR_RETURN(task->argv, TemplateArray(where + ".argv", *argv));
      if (task->argv.empty()) return Error(where + ".argv", argv, "is empty");
    }
    if (const toml::node* env = table.get("env")) {
      const toml::table* env_table = env->as_table();
      if (env_table == nullptr) {
        return Error(where + ".env", env, "must be a table of NAME = \"value\"");
      }
      for (auto&& [name, value] : *env_table) {
        const std::string key = fmt::format("{}.env.{}", where, name.str());
        if (!process::IsEnvName(name.str())) {
          return Error(key, &value, "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
        }
        ASSIGN_OR_RETURN(TaskTemplate t, Template(key, value));
        task->env.emplace_back(std::string(name.str()), std::move(t));
      }
    }
  } else if (const toml::node* args = table.get("args")) {
    ASSIGN_OR_RETURN(task->args, TemplateArray(where + ".args", *args));
  }
  if (const toml::node* n = table.get("poke_interval")) {
    ASSIGN_OR_RETURN(task->poke_interval, Duration(where + ".poke_interval", *n, false));
  }
  return Status::Ok();
}

Status DagParser::ResolveDependencies(const toml::array& tasks_node, DagSpec* spec) const {
  std::string all_ids;
  for (const TaskSpec& t : spec->tasks) all_ids += (all_ids.empty() ? "" : ", ") + t.id;
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    TaskSpec& task = spec->tasks[i];
    for (const std::string& dep : task.depends_on) {
      const std::optional<size_t> index = spec->TaskIndex(dep);
      if (!index) {
        const toml::node* n = tasks_node.get(i)->as_table()->get("depends_on");
        return Error(fmt::format("tasks.{}.depends_on", task.id), n,
                     fmt::format("unknown task \"{}\" (tasks: {})", dep, all_ids));
      }
      task.upstream.push_back(*index);
    }
  }
  // Depth-first search in file order; a task met again while on the stack closes a cycle.
  enum class Mark : uint8_t { kNew, kOnStack, kDone };
  std::vector<Mark> mark(spec->tasks.size(), Mark::kNew);
  std::vector<size_t> stack;
  // Each frame: task index and the next upstream edge to follow.
  std::vector<std::pair<size_t, size_t>> frames;
  for (size_t root = 0; root < spec->tasks.size(); ++root) {
    if (mark[root] != Mark::kNew) continue;
    frames.emplace_back(root, 0);
    mark[root] = Mark::kOnStack;
    stack.push_back(root);
    while (!frames.empty()) {
      auto& [node, edge] = frames.back();
      const std::vector<size_t>& up = spec->tasks[node].upstream;
      if (edge == up.size()) {
        mark[node] = Mark::kDone;
        spec->topological_order.push_back(node);
        stack.pop_back();
        frames.pop_back();
        continue;
      }
      const size_t next = up[edge++];
      if (mark[next] == Mark::kOnStack) {
        // The stack holds downstream -> upstream; print the cycle in run order (upstream first).
        std::string path;
        size_t from = stack.size();
        while (from > 0 && stack[from - 1] != next) --from;
        path = spec->tasks[next].id;
        for (size_t k = stack.size(); k-- > from - 1;) {
          path += " -> " + spec->tasks[stack[k]].id;
        }
        return Error("tasks", tasks_node.get(next),
                     fmt::format("dependency cycle: {} (\"a -> b\": b depends on a)", path));
      }
      if (mark[next] == Mark::kNew) {
        mark[next] = Mark::kOnStack;
        stack.push_back(next);
        frames.emplace_back(next, 0);
      }
    }
  }
  return Status::Ok();
}

StatusOr<DagSpec> DagParser::Parse(std::string_view text) {
  ASSIGN_OR_RETURN(toml::table root, errors_.Parse(text));
  for (auto&& [key, value] : root) {
    if (!Contains(kTopKeys, key.str())) {
      return Error(key.str(), &value,
                   fmt::format("unknown table (allowed: [dag], [defaults], [[tasks]])"));
    }
  }
  DagSpec spec;
  spec.source_name = std::string(errors_.source_name());
  const toml::node* dag = root.get("dag");
  if (dag == nullptr || !dag->is_table()) return Error("dag", dag, "missing table [dag]");
  RETURN_IF_ERROR(ParseDag(*dag->as_table(), &spec));

  if (const toml::node* defaults = root.get("defaults")) {
    const toml::table* table = defaults->as_table();
    if (table == nullptr) return Error("defaults", defaults, "must be a table [defaults]");
    RETURN_IF_ERROR(CheckKeys("defaults", *table, kDefaultsKeys));
    RETURN_IF_ERROR(ParseRetryKeys("defaults", *table, &default_retry_, &default_timeout_));
  }

  const toml::node* tasks_node = root.get("tasks");
  const toml::array* tasks = tasks_node != nullptr ? tasks_node->as_array() : nullptr;
  if (tasks == nullptr || !tasks->is_array_of_tables()) {
    return Error("tasks", tasks_node, "missing [[tasks]] (at least one task)");
  }
  if (tasks->empty()) return Error("tasks", tasks_node, "missing [[tasks]] (at least one task)");
  if (tasks->size() > kMaxTasks) {
    return Error("tasks", tasks_node, fmt::format("more than {} tasks", kMaxTasks));
  }
  for (size_t i = 0; i < tasks->size(); ++i) {
    const toml::table& table = *tasks->get(i)->as_table();
    std::string where = fmt::format("tasks[{}]", i);
    const toml::node* id = table.get("id");
    if (id == nullptr) return Error(where, &table, "missing key \"id\"");
    ASSIGN_OR_RETURN(std::string task_id, String(where + ".id", *id));
    if (!IsId(task_id)) {
      return Error(where + ".id", id, "must be 1-250 letters, digits, '_', '-' or '.'");
    }
    if (const std::optional<size_t> first = spec.TaskIndex(task_id)) {
      return Error(where + ".id", id,
                   fmt::format("duplicate task id \"{}\" (first defined at line {})", task_id,
                               spec.tasks[*first].line));
    }
    where = "tasks." + task_id;
    RETURN_IF_ERROR(CheckKeys(where, table, kTaskKeys));
    TaskSpec task;
    task.id = task_id;
    task.line = static_cast<int>(table.source().begin.line);
    RETURN_IF_ERROR(ParseTask(where, table, &task));
    spec.tasks.push_back(std::move(task));
  }
  RETURN_IF_ERROR(ResolveDependencies(*tasks, &spec));
  return spec;
}

}  // namespace

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kWaitSealed: return "wait_sealed";
    case TaskKind::kBatch: return "batch";
    case TaskKind::kRefreshViews: return "refresh_views";
    case TaskKind::kShell: return "shell";
  }
  return "?";
}

std::chrono::seconds RetryPolicy::DelayAfterTry(int try_number) const {
  const double factor = std::pow(backoff, std::max(try_number - 1, 0));
  const double seconds = static_cast<double>(delay.count()) * factor;
  const double cap = static_cast<double>(max_delay.count());
  if (!(seconds < cap)) return max_delay;  // also catches overflow to infinity
  return std::chrono::seconds(static_cast<int64_t>(seconds));
}

std::optional<size_t> DagSpec::TaskIndex(std::string_view task_id) const {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].id == task_id) return i;
  }
  return std::nullopt;
}

StatusOr<DagSpec> ParseDagSpec(std::string_view text, std::string_view source_name) {
  try {
    return DagParser(source_name).Parse(text);
  } catch (const std::exception& e) {
    // toml++ reports syntax errors as parse_error (handled above); anything else (bad_alloc on
    // a hostile file) must not escape the module.
    return InvalidArgument(fmt::format("{}: cannot load DAG file: {}", source_name, e.what()));
  }
}

StatusOr<DagSpec> LoadDagSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot open DAG file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFound(fmt::format("cannot read DAG file {}", path));
  return ParseDagSpec(text.str(), path);
}

std::vector<DagSpec> LoadDagFolder(const std::string& dir, std::vector<std::string>* errors) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path().string());
  }
  if (ec) errors->push_back(fmt::format("{}: {}", dir, ec.message()));
  std::sort(paths.begin(), paths.end());
  std::vector<DagSpec> dags;
  for (const std::string& path : paths) {
    StatusOr<DagSpec> spec = LoadDagSpec(path);
    if (!spec.ok()) {
      errors->push_back(spec.status().message());
      continue;
    }
    const bool duplicate =
        std::any_of(dags.begin(), dags.end(), [&](const DagSpec& d) { return d.id == spec->id; });
    if (duplicate) {
      errors->push_back(fmt::format("{}: DAG id {} is defined twice", path, spec->id));
      continue;
    }
    dags.push_back(std::move(*spec));
  }
  return dags;
}

}  // namespace pinpipe::scheduler
