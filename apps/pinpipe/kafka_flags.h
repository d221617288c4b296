// The Kafka client properties of every subcommand that talks to Kafka (serve, emulate, stream,
// archive, topics, dashboard, status): one set of flags for all, installed process-wide before
// the command runs (src/kafka/client_properties.h), so SASL, TLS and any other librdkafka
// property reach every client the command creates.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::app {

struct KafkaClientFlags {
  std::vector<std::string> options;  // key=value
  std::string config_file;           // a properties file
};

// Adds --kafka-option key=value (repeatable) and --kafka-config FILE (PINPIPE_KAFKA_CONFIG) to
// `sub`, bound to `*flags`.
void AddKafkaClientFlags(CLI::App& sub, KafkaClientFlags* flags);

// Installs `flags` and runs `run`; on a bad flag logs the error (CommandError)
// and returns 2 without running it.
int RunWithKafkaClientFlags(const KafkaClientFlags& flags, std::string_view command,
                            const std::function<int()>& run);

// Loads the file and the options and installs them. Errors: kafka::LoadProperties' (a bad line,
// a refused or unknown key): the command should exit with them before doing anything.
Status InstallKafkaClientFlags(const KafkaClientFlags& flags);

}  // namespace pinpipe::app
