#include "supervisor/workers_file.h"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/duration.h"
#include "core/toml_errors.h"
#include "process/child.h"

namespace pinpipe::supervisor {
namespace {

constexpr std::string_view kTopKeys[] = {"worker"};
constexpr std::string_view kWorkerKeys[] = {"name",    "title",        "argv", "log",
                                            "restart", "stop_timeout", "env"};

StatusOr<std::string> RequiredString(const core::TomlErrors& errors, const toml::table& table,
                                     const std::string& where, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return errors.Error(fmt::format("{}.{}", where, key), nullptr, "missing");
  const auto* value = node->as_string();
  if (value == nullptr || value->get().empty()) {
    return errors.Error(fmt::format("{}.{}", where, key), node, "must be a non-empty string");
  }
  return value->get();
}

StatusOr<WorkerSpec> ParseWorker(const core::TomlErrors& errors, const toml::node& node,
                                 size_t index) {
  const std::string at = fmt::format("worker[{}]", index);
  const toml::table* table = node.as_table();
  if (table == nullptr) return errors.Error(at, &node, "must be a table ([[worker]])");
  WorkerSpec spec;
  ASSIGN_OR_RETURN(spec.name, RequiredString(errors, *table, at, "name"));
  if (!IsWorkerName(spec.name)) {
    return errors.Error(at + ".name", table->get("name"),
                        fmt::format("\"{}\" is not a worker name (1 to {} of A-Z a-z 0-9 _ . -)",
                                    spec.name, kMaxWorkerNameBytes));
  }
  const std::string where = "worker." + spec.name;
  RETURN_IF_ERROR(errors.CheckKeys(where, *table, kWorkerKeys));
  spec.title = spec.name;
  if (table->contains("title")) {
    ASSIGN_OR_RETURN(spec.title, RequiredString(errors, *table, where, "title"));
  }
  ASSIGN_OR_RETURN(spec.log_file, RequiredString(errors, *table, where, "log"));

  const toml::node* argv = table->get("argv");
  if (argv == nullptr) return errors.Error(where + ".argv", nullptr, "missing");
  const toml::array* args = argv->as_array();
  if (args == nullptr || args->empty()) {
    return errors.Error(where + ".argv", argv, "must be a non-empty array of strings");
  }
  for (const toml::node& arg : *args) {
    const auto* s = arg.as_string();
    if (s == nullptr) return errors.Error(where + ".argv", &arg, "must be an array of strings");
    spec.argv.push_back(s->get());
  }
  if (spec.argv[0].empty()) return errors.Error(where + ".argv", argv, "the program is empty");

  if (const toml::node* restart = table->get("restart")) {
    const auto* s = restart->as_string();
    if (s != nullptr && s->get() == "always") {
      spec.restart = RestartPolicy::kAlways;
    } else if (s != nullptr && s->get() == "on-failure") {
      spec.restart = RestartPolicy::kOnFailure;
    } else {
      return errors.Error(where + ".restart", restart, "must be \"always\" or \"on-failure\"");
    }
  }
  if (const toml::node* timeout = table->get("stop_timeout")) {
    const auto* s = timeout->as_string();
    if (s == nullptr) {
      return errors.Error(where + ".stop_timeout", timeout, "must be a duration such as \"15s\"");
    }
    StatusOr<std::chrono::seconds> d = core::ParseDuration(s->get());
    if (!d.ok()) return errors.Error(where + ".stop_timeout", timeout, d.status().message());
    spec.stop_timeout = *d;
  }
  if (const toml::node* env = table->get("env")) {
    const toml::table* env_table = env->as_table();
    if (env_table == nullptr) {
      return errors.Error(where + ".env", env, "must be a table of NAME = \"value\"");
    }
    for (auto&& [name, value] : *env_table) {
      const std::string key = fmt::format("{}.env.{}", where, name.str());
      if (!process::IsEnvName(name.str())) {
        return errors.Error(key, &value,
                            "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      }
      const auto* s = value.as_string();
      if (s == nullptr) return errors.Error(key, &value, "must be a string");
      spec.env.emplace_back(std::string(name.str()), s->get());
    }
  }
  return spec;
}

}  // namespace

StatusOr<std::vector<WorkerSpec>> ParseWorkersFile(std::string_view text,
                                                   std::string_view source_name) {
  const core::TomlErrors errors(source_name);
  ASSIGN_OR_RETURN(toml::table file, errors.Parse(text));
  for (auto&& [key, value] : file) {
    bool known = false;
    for (std::string_view k : kTopKeys) known = known || k == key.str();
    if (!known) {
      return errors.Error(std::string(key.str()), &value,
                          "unknown key (a workers file has only [[worker]] tables)");
    }
  }
  const toml::node* workers = file.get("worker");
  const toml::array* list = workers != nullptr ? workers->as_array() : nullptr;
  if (list == nullptr || list->empty()) {
    return errors.Error("worker", workers, "no workers: add [[worker]] tables");
  }
  if (list->size() > kMaxWorkers) {
    return errors.Error("worker", workers, fmt::format("at most {} workers", kMaxWorkers));
  }
  std::vector<WorkerSpec> specs;
  std::set<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    ASSIGN_OR_RETURN(WorkerSpec spec, ParseWorker(errors, *list->get(i), i));
    if (!names.insert(spec.name).second) {
      return errors.Error("worker." + spec.name + ".name", list->get(i)->as_table()->get("name"),
                          "used by two workers");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

StatusOr<std::vector<WorkerSpec>> LoadWorkersFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("cannot read the workers file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseWorkersFile(text.str(), path);
}

}  // namespace pinpipe::supervisor
