#include "kafka_flags.h"

#include "command.h"

#include "kafka/client_properties.h"

namespace pinpipe::app {

void AddKafkaClientFlags(CLI::App& sub, KafkaClientFlags* flags) {
  sub.add_option(
         "--kafka-option", flags->options,
         "A librdkafka property as key=value for every Kafka client of this command (repeatable; "
         "overrides the file's and pinpipe's own tuning, e.g. security.protocol=SASL_SSL)")
      ->allow_extra_args(false);
  sub.add_option("--kafka-config", flags->config_file,
                 "A file of librdkafka properties (key=value lines, '#' comments) for every Kafka "
                 "client of this command, e.g. SASL and TLS settings")
      ->envname("PINPIPE_KAFKA_CONFIG");
}

Status InstallKafkaClientFlags(const KafkaClientFlags& flags) {
  ASSIGN_OR_RETURN(kafka::Properties properties,
                   kafka::LoadProperties(flags.config_file, flags.options));
  return kafka::SetClientProperties(std::move(properties));
}

int RunWithKafkaClientFlags(const KafkaClientFlags& flags, std::string_view command,
                            const std::function<int()>& run) {
  if (Status s = InstallKafkaClientFlags(flags); !s.ok()) {
    return CommandError(command, s.message(), 2);
  }
  return run();
}

}  // namespace pinpipe::app
