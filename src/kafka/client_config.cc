#include "kafka/client_config.h"
#include "core/ascii.h"
#include "log/logger.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace pinpipe::kafka {
namespace {

int ConfiguredLogLevel() {
  static const int level = [] {
    const char* env = std::getenv("PINPIPE_KAFKA_LOG_LEVEL");
    if (env == nullptr || *env == '\0') return 4;  // LOG_WARNING
    return std::clamp(std::atoi(env), 0, 7);
  }();
  return level;
}

void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // A freshly started broker answers the idempotent producer's PID request with "Coordinator
  // load in progress" for a second or two; librdkafka retries by itself, so it is not a warning.
  if (level == 4 && message != nullptr &&
      std::string_view(message).find("Coordinator load in progress: retrying") !=
          std::string_view::npos) {
    level = 6;
  }
  LogLine(level, facility != nullptr ? facility : "", rk != nullptr ? rd_kafka_name(rk) : "",
          message != nullptr ? message : "");
}

constexpr const char* kLevelNames[] = {"EMERG",   "ALERT",  "CRIT", "ERROR",
                                       "WARNING", "NOTICE", "INFO", "DEBUG"};

// librdkafka's syslog levels (0 emergency .. 7 debug) as the logger's.
log::Level LevelOfSyslog(int level) {
  if (level <= 3) return log::Level::kError;
  if (level == 4) return log::Level::kWarn;
  if (level <= 6) return log::Level::kInfo;
  return log::Level::kDebug;
}

}  // namespace

int ClientErrorLevel(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN: return 4;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE: return 6;
    default: return 3;
  }
}

void LogClientError(rd_kafka_t* rk, rd_kafka_resp_err_t code, const char* reason) {
  LogLine(ClientErrorLevel(code), rd_kafka_err2name(code), rk != nullptr ? rd_kafka_name(rk) : "",
          reason != nullptr ? reason : "");
}

bool IsGuaranteeDowngrade(std::string_view facility, std::string_view message) {
  std::string text = core::AsciiLower(facility) + " " + core::AsciiLower(message);
  bool about_guarantee = text.find("idempot") != std::string::npos ||
                         text.find("compression") != std::string::npos ||
                         text.find("compress") != std::string::npos;
  bool downgraded = text.find("not supported") != std::string::npos ||
                    text.find("disabl") != std::string::npos ||
                    text.find("uncompressed") != std::string::npos ||
                    text.find("unsupported") != std::string::npos;
  return about_guarantee && downgraded;
}

void LogLine(int level, std::string_view facility, std::string_view client,
             std::string_view message) {
  static const log::Logger logger("kafka");
  if (IsGuaranteeDowngrade(facility, message)) {
    logger.Log(log::Level::kWarn,
               "producer guarantee downgraded (idempotence or compression not in effect)",
               {{"client", client}, {"facility", facility}, {"detail", message}});
    return;
  }
  if (level > ConfiguredLogLevel()) return;
  logger.Log(LevelOfSyslog(level), message,
             {{"client", client},
              {"facility", facility},
              {"syslog", kLevelNames[std::clamp(level, 0, 7)]}});
}

Status SetConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return InvalidArgument(fmt::format("kafka setting {}={}: {}", key, value, errstr));
  }
  return Status::Ok();
}

Status SetConf(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  for (const auto& [key, value] : props) RETURN_IF_ERROR(SetConf(conf, key, value));
  return Status::Ok();
}

StatusOr<std::string> GetConf(const rd_kafka_conf_t* conf, const std::string& key) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, key.c_str(), value, &size) != RD_KAFKA_CONF_OK) {
    return NotFound(fmt::format("kafka setting {} is unknown", key));
  }
  return std::string(value);
}

StatusOr<ConfHandle> NewConf(const std::string& brokers, const std::string& client_id) {
  ConfHandle conf(rd_kafka_conf_new());
  RETURN_IF_ERROR(SetConf(conf.get(), "bootstrap.servers", brokers));
  RETURN_IF_ERROR(SetConf(conf.get(), "client.id", client_id));
  rd_kafka_conf_set_log_cb(conf.get(), &LogCallback);
  return conf;
}

StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf) {
  char errstr[512];
  KafkaHandle rk(rd_kafka_new(type, conf.get(), errstr, sizeof(errstr)));
  if (rk == nullptr) return InvalidArgument(fmt::format("creating kafka client: {}", errstr));
  static_cast<void>(conf.release());  // owned by rk now
  return rk;
}

int TimeoutMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 24LL * 3600 * 1000));
}

}  // namespace pinpipe::kafka
