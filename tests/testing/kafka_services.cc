#include "testing/kafka_services.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
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
  if (stopped.exit_code != 0)
    std::fprintf(stderr, "stopping the test's Kafka: %s\n", stopped.output.c_str());
}

CommandResult KafkaServices::Run(const std::string& args) const {
  return RunCommand(command_ + args + " 2>&1");
}

void OwnKafkaTest::StartOwnKafka(const std::string& prefix, KafkaServicesOptions options) {
  bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
  const std::optional<std::string> admin = TestPgDsn();
  if (bin_.empty() || !admin || KafkaLibs().empty()) {
    GTEST_SKIP() << "needs PINPIPE_TEST_PINPIPE_BIN, PINPIPE_TEST_PG_DSN and "
                    "PINPIPE_TEST_KAFKA_LIBS (scripts/test sets them)";
  }
  name_ = UniqueName(prefix);
  dir_ = ::testing::TempDir() + name_;
  std::filesystem::create_directories(dir_);
  auto kafka = KafkaServices::Start(dir_ + "/state", options);
  ASSERT_TRUE(kafka.ok()) << kafka.status().ToString();
  kafka_ = std::move(*kafka);
  brokers_ = kafka_->brokers();
  db_ = std::make_unique<ScratchDatabase>(*admin);
  ASSERT_TRUE(db_->ok()) << db_->error();
}

void OwnKafkaTest::TearDown() {
  kafka_.reset();
  if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
}

}  // namespace pinpipe::testing
