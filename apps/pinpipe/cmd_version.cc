// `pinpipe version`: prints the version and the linked library versions.
#include <librdkafka/rdkafka.h>

#include <iostream>

#include "command.h"

namespace pinpipe::app {
namespace {
CommandRegistration kVersion("version", "Print pinpipe and library versions", [](CLI::App&) {
  return CommandRunner([] {
    std::cout << "pinpipe 0.1.0\nlibrdkafka " << rd_kafka_version_str() << "\n";
    return 0;
  });
});
}  // namespace
}  // namespace pinpipe::app
