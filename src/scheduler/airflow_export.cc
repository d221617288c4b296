#include "scheduler/airflow_export.h"

#include <regex>

#include <fmt/format.h>

#include "core/duration.h"

namespace pinpipe::scheduler {
namespace {

// A Python string literal.
std::string Py(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "'";
}

std::string ShellQuote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=:,+@%") == std::string::npos) {
    return arg;
  }
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// pinpipe's template variables as Airflow Jinja expressions.
std::string ToJinja(const std::string& text) {
  static const std::regex kVar(R"(\{\{\s*([a-z_]+)\s*\}\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kVar);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out += text.substr(last, static_cast<size_t>(m.position(0)) - last);
    const std::string name = m[1].str();
    std::string expr = name;
    if (name == "dag_id") expr = "dag.dag_id";
    if (name == "task_id") expr = "task.task_id";
    if (name == "try_number") expr = "ti.try_number";
    out += "{{ " + expr + " }}";
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  return out + text.substr(last);
}

std::string Seconds(std::chrono::seconds s) {
  return fmt::format("timedelta(seconds={})", s.count());
}

bool DailyUtc(const DagSpec& spec) {
  return spec.timezone.name() == "UTC" && spec.schedule.ToString() == "0 0 * * *";
}

// Jinja for the UTC days the run's interval covers (as the scheduler's UtcDaysOf).
std::string DayRange(const DagSpec& spec) {
  if (DailyUtc(spec)) return "--date {{ ds }}";
  return "--from {{ data_interval_start.in_timezone('UTC').strftime('%Y-%m-%d') }} --to {{ "
         "(data_interval_end.in_timezone('UTC') - macros.timedelta(seconds=1))"
         ".strftime('%Y-%m-%d') }}";
}

std::string LocalDateTime(Instant t, const TimeZone& zone) {
  const LocalTime local = zone.ToLocal(t);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{local - day};
  return fmt::format("pendulum.datetime({}, {}, {}, {}, {}, {}, tz={})",
                     static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                     hms.seconds().count(), Py(zone.name()));
}

}  // namespace

std::string AirflowBashCommand(const DagSpec& spec, const TaskSpec& task,
                               const AirflowExportOptions& options) {
  std::string cmd;
  auto add_args = [&](const std::vector<TaskTemplate>& args) {
    for (const TaskTemplate& a : args) cmd += " " + ShellQuote(ToJinja(a.source()));
  };
  auto add_batch_args = [&] {
    for (const std::string& a : options.batch_args) cmd += " " + ShellQuote(a);
  };
  const std::string bin = ShellQuote(options.pinpipe_bin);
  switch (task.kind) {
    case TaskKind::kShell:
      if (task.command) {
        cmd = ToJinja(task.command->source());
      } else {
        for (const TaskTemplate& a : task.argv) {
          cmd += (cmd.empty() ? "" : " ") + ShellQuote(ToJinja(a.source()));
        }
      }
      if (!task.env.empty()) {
        std::string prefix = "env";
        for (const auto& [name, value] : task.env) {
          prefix += " " + ShellQuote(name + "=" + ToJinja(value.source()));
        }
        cmd = task.command ? prefix + " /bin/sh -c " + ShellQuote(cmd) : prefix + " " + cmd;
      }
      return cmd;
    case TaskKind::kWaitSealed:
      cmd = bin + " scheduler wait-sealed " + DayRange(spec);
      if (!options.lake_url.empty()) cmd += " --lake " + ShellQuote(options.lake_url);
      cmd += " --poke-interval " + core::FormatDuration(task.poke_interval);
      add_args(task.args);
      return cmd;
    case TaskKind::kBatch:
      cmd = bin + " batch " + DayRange(spec);
      if (!options.lake_url.empty()) cmd += " --lake " + ShellQuote(options.lake_url);
      add_batch_args();
      add_args(task.args);
      return cmd;
    case TaskKind::kRefreshViews:
      cmd = bin + " batch --views-only";
      add_batch_args();
      add_args(task.args);
      return cmd;
  }
  return cmd;
}

std::string ExportAirflow(const DagSpec& spec, const AirflowExportOptions& options) {
  std::string py;
  py += fmt::format(
      "# Generated by `pinpipe scheduler export-airflow {}` from {}.\n"
      "# The same tasks as pinpipe's scheduler runs, as Airflow BashOperators calling pinpipe.\n"
      "# Edit the DAG file and export again rather than editing this file.\n",
      spec.id, spec.source_name);
  py +=
      "from datetime import timedelta\n\n"
      "import pendulum\n"
      "from airflow import DAG\n"
      "from airflow.operators.bash import BashOperator\n\n";
  py += fmt::format("PINPIPE = {}\n\n", Py(options.pinpipe_bin));
  py += "default_args = {\n    'owner': 'pinpipe',\n";
  if (spec.sla) py += fmt::format("    'sla': {},\n", Seconds(*spec.sla));
  py += "}\n\n";
  py += "with DAG(\n";
  py += fmt::format("    dag_id={},\n", Py(spec.id));
  if (!spec.description.empty()) py += fmt::format("    description={},\n", Py(spec.description));
  py += fmt::format("    schedule={},\n", Py(spec.schedule.source()));
  py += fmt::format("    start_date={},\n", LocalDateTime(spec.start_date, spec.timezone));
  if (spec.end_date) {
    py += fmt::format("    end_date={},\n", LocalDateTime(*spec.end_date, spec.timezone));
  }
  py += fmt::format("    catchup={},\n", spec.catchup ? "True" : "False");
  py += fmt::format("    max_active_runs={},\n", spec.max_active_runs);
  py += fmt::format("    max_active_tasks={},\n", spec.max_active_tasks);
  py += "    default_args=default_args,\n    tags=['pinpipe'],\n) as dag:\n";
  auto var = [](const std::string& id) {
    std::string v = "t_";
    for (char c : id) v += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return v;
  };
  for (const TaskSpec& task : spec.tasks) {
    const std::string cmd = AirflowBashCommand(spec, task, options);
    std::string expr;
    // PINPIPE stays a variable in the file so it can be pointed elsewhere in one place.
    const std::string quoted_bin = ShellQuote(options.pinpipe_bin) + " ";
    if (cmd.starts_with(quoted_bin)) {
      expr = "PINPIPE + " + Py(cmd.substr(quoted_bin.size() - 1));
    } else {
      expr = Py(cmd);
    }
    py += fmt::format("    {} = BashOperator(\n", var(task.id));
    py += fmt::format("        task_id={},\n", Py(task.id));
    py += fmt::format("        bash_command={},\n", expr);
    if (!task.description.empty()) py += fmt::format("        doc={},\n", Py(task.description));
    py += fmt::format("        retries={},\n", task.retry.retries);
    py += fmt::format("        retry_delay={},\n", Seconds(task.retry.delay));
    py += fmt::format("        retry_exponential_backoff={},\n",
                      task.retry.backoff > 1.0 ? "True" : "False");
    py += fmt::format("        max_retry_delay={},\n", Seconds(task.retry.max_delay));
    if (task.timeout) py += fmt::format("        execution_timeout={},\n", Seconds(*task.timeout));
    py += "    )\n";
  }
  bool any_edge = false;
  for (const TaskSpec& task : spec.tasks) {
    for (const std::string& up : task.depends_on) {
      if (!any_edge) py += "\n";
      any_edge = true;
      py += fmt::format("    {} >> {}\n", var(up), var(task.id));
    }
  }
  return py;
}

}  // namespace pinpipe::scheduler
