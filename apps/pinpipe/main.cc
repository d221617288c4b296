// pinpipe: one binary, one subcommand per role. See `pinpipe --help`.
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "command.h"
#include "log/logger.h"

namespace pinpipe::app {

std::vector<Command>& Commands() {
  static std::vector<Command> commands;
  return commands;
}

int CommandError(std::string_view command, std::string_view message, int exit_code) {
  log::Logger(std::string(command)).Log(log::Level::kError, message);
  return exit_code;
}

namespace {

// The --config file is the lowest-precedence layer: flag > environment > file > default.
// CLI11's own config support would let the file override the environment, so we apply the file
// by exporting each setting as its option's environment variable unless that is already set.
// Unknown tables and keys are errors: a typo in a config file must not be silently ignored.
bool ApplyConfigFile(const std::string& path, CLI::App& app, std::string* error) {
  toml::table file;
  try {
    file = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    *error = out.str();
    return false;
  }
  for (auto&& [section, node] : file) {
    CLI::App* sub = nullptr;
    try {
      sub = app.get_subcommand(std::string(section.str()));
    } catch (const CLI::OptionNotFound&) {
    }
    const toml::table* table = node.as_table();
    if (sub == nullptr || table == nullptr) {
      *error = path + ": [" + std::string(section.str()) +
               "] is not a subcommand table (settings go under [serve], [emulate], ...)";
      return false;
    }
    for (auto&& [key, value] : *table) {
      const CLI::Option* option = nullptr;
      try {
        option = sub->get_option("--" + std::string(key.str()));
      } catch (const CLI::OptionNotFound&) {
      }
      if (option == nullptr || option->get_envname().empty()) {
        *error = path + ": [" + std::string(section.str()) + "] " + std::string(key.str()) +
                 " is not a setting of `pinpipe " + std::string(section.str()) + "` (see pinpipe " +
                 std::string(section.str()) + " --help)";
        return false;
      }
      std::string text;
      // Test the node's own type: toml++'s value<T>() converts (an integer reads as a bool).
      if (const auto* s = value.as_string()) {
        text = s->get();
      } else if (const auto* b = value.as_boolean()) {
        text = b->get() ? "true" : "false";
      } else if (const auto* i = value.as_integer()) {
        text = std::to_string(i->get());
      } else if (const auto* d = value.as_floating_point()) {
        std::ostringstream out;
        out << d->get();
        text = out.str();
      } else {
        *error = path + ": " + std::string(key.str()) + " must be a string, number or boolean";
        return false;
      }
      setenv(option->get_envname().c_str(), text.c_str(), /*overwrite=*/0);
    }
  }
  return true;
}

}  // namespace
}  // namespace pinpipe::app

int main(int argc, char** argv) {
  using pinpipe::app::Commands;
  CLI::App app{
      "pinpipe: a lambda-architecture event pipeline (ingest -> Kafka -> batch and speed layers -> "
      "PostgreSQL -> dashboard).\nSettings come from flags, then PINPIPE_* environment variables, "
      "then the --config TOML file (keys under a [<subcommand>] table, named like the flags: "
      "[serve] kafka-brokers = \"...\"), then defaults."};
  std::string config_path;
  app.add_option("--config", config_path, "TOML configuration file")
      ->envname("PINPIPE_CONFIG")
      ->check(CLI::ExistingFile);
  // Global: accepted before or after the subcommand's name (fallthrough, inherited by every
  // subcommand added below), and exported again after parsing so that children (the
  // supervisor's workers, the scheduler's tasks) log the same way.
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format,
                 "Log lines on stderr as text or json (one object per line: ts, level, "
                 "component, msg and fields)")
      ->envname("PINPIPE_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "Lowest level logged: debug, info, warn, error or off")
      ->envname("PINPIPE_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error", "off"}))
      ->capture_default_str();
  app.fallthrough();
  app.require_subcommand(1);
  std::sort(Commands().begin(), Commands().end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, pinpipe::app::CommandRunner> runners;
  for (auto& command : Commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    runners[sub] = command.setup(*sub);
  }
  // The config file must be read before the environment is: find --config first.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) config_path = argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) config_path = std::string(arg.substr(9));
  }
  if (config_path.empty() && std::getenv("PINPIPE_CONFIG") != nullptr) {
    config_path = std::getenv("PINPIPE_CONFIG");
  }
  if (!config_path.empty()) {
    std::string error;
    if (!pinpipe::app::ApplyConfigFile(config_path, app, &error)) {
      std::cerr << "pinpipe: config: " << error << "\n";
      return 2;
    }
  }
  CLI11_PARSE(app, argc, argv);
  // Usage and config-file errors above are printed plain by CLI11 / this file: the logger is set
  // up from here on. The values were checked by CLI11, so the parses cannot fail.
  pinpipe::log::Options log_options;
  log_options.format = pinpipe::log::ParseFormat(log_format).value();
  log_options.level = pinpipe::log::ParseLevel(log_level).value();
  pinpipe::log::Init(log_options);
  setenv("PINPIPE_LOG_FORMAT", std::string(pinpipe::log::FormatName(log_options.format)).c_str(),
         1);
  setenv("PINPIPE_LOG_LEVEL", std::string(pinpipe::log::LevelName(log_options.level)).c_str(), 1);
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return 2;
}
