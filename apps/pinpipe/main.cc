// pinpipe: one binary, one subcommand per role. See `pinpipe --help`.
#include <algorithm>
#include <iostream>
#include <map>

#include "command.h"

namespace pinpipe::app {
std::vector<Command>& Commands() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace pinpipe::app

int main(int argc, char** argv) {
  using pinpipe::app::Commands;
  CLI::App app{
      "pinpipe: a lambda-architecture event pipeline (ingest -> Kafka -> batch and speed layers -> "
      "PostgreSQL -> dashboard).\nSettings come from flags, then PINPIPE_* environment variables, "
      "then the --config TOML file (keys under a [<subcommand>] table), then defaults."};
  app.set_config("--config", "", "TOML configuration file", false);
  app.require_subcommand(1);
  std::sort(Commands().begin(), Commands().end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, pinpipe::app::CommandRunner> runners;
  for (auto& command : Commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    runners[sub] = command.setup(*sub);
  }
  CLI11_PARSE(app, argc, argv);
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) return run();
  }
  return 2;
}
