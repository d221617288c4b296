#include "testing/kafka_services.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <random>

#include <fmt/format.h>

namespace pinpipe::testing {
namespace {

bool PortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A base port in [20000, 30000) whose 2 * nodes ports are free; 0 if none was found.
int BasePort(int nodes) {
  std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = 20000 + 2 * static_cast<int>(rng() % 5000);
    bool free = true;
    for (int p = base; p < base + 2 * nodes && free; ++p) free = PortFree(p);
    if (free) return base;
  }
  return 0;
}

}  // namespace

StatusOr<std::unique_ptr<KafkaServices>> KafkaServices::Start(const std::string& state_dir,
                                                              KafkaServicesOptions options) {
  if (KafkaLibs().empty()) {
    return FailedPrecondition("PINPIPE_TEST_KAFKA_LIBS is not set (scripts/test sets it)");
  }
  const int base = BasePort(options.nodes);
  if (base == 0) return Unavailable("no free ports for a Kafka of the test's own");
  std::unique_ptr<KafkaServices> k(new KafkaServices());
  k->state_dir_ = state_dir;
  k->command_ = fmt::format(
      "PINPIPE_STATE_DIR={} PINPIPE_KAFKA_NODES={} PINPIPE_KAFKA_PORT={} "
      "PINPIPE_KAFKA_CONTROLLER_PORT={} PINPIPE_KAFKA_SECURITY={} PINPIPE_KAFKA_LIBS={} "
      "{}/scripts/services kafka ",
      ShellQuote(state_dir), options.nodes, base, base + 1,
      options.sasl_ssl ? "sasl_ssl" : "plaintext", ShellQuote(KafkaLibs()), PINPIPE_SOURCE_DIR);
  const CommandResult started = k->Run("start");
  if (started.exit_code != 0) {
    return Internal("scripts/services kafka start failed:\n" + started.output);
  }
  const CommandResult list = k->Run("brokers");
  if (list.exit_code != 0) return Internal("scripts/services kafka brokers:\n" + list.output);
  k->brokers_ = list.output.substr(0, list.output.find('\n'));
  return k;
}

KafkaServices::~KafkaServices() {
  const CommandResult stopped = Run("stop");
  if (stopped.exit_code != 0) std::fprintf(stderr, "stopping the test's Kafka: %s\n", stopped.output.c_str());
}

CommandResult KafkaServices::Run(const std::string& args) const {
  return RunCommand(command_ + args + " 2>&1");
}

}  // namespace pinpipe::testing
