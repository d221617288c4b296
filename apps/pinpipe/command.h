// Subcommand registry for the `pinpipe` binary.
//
// Each apps/pinpipe/cmd_<name>.cc defines a static `CommandRegistration` whose `setup` adds the
// subcommand's options to the CLI11 app it is given (each option with ->envname("PINPIPE_...")
// so that flags, environment and the --config file all work) and returns the function that runs
// the command and yields the process exit code. Registration happens during static
// initialisation, before main(); the registry is not thread-safe and needs not be.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::app {

using CommandRunner = std::function<int()>;
using CommandSetup = std::function<CommandRunner(CLI::App& sub)>;

struct Command {
  std::string name;
  std::string help;
  CommandSetup setup;
};

std::vector<Command>& Commands();

// A command's error exit: logs `message` at error level with the command as component and
// returns exit_code.
int CommandError(std::string_view command, std::string_view message, int exit_code);

struct CommandRegistration {
  CommandRegistration(std::string name, std::string help, CommandSetup setup) {
    Commands().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

}  // namespace pinpipe::app
