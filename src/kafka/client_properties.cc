#include "kafka/client_properties.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "kafka/handles.h"

namespace pinpipe::kafka {
namespace {

constexpr std::string_view kSpace = " \t\r\f\v";

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Properties& Installed() {
  static Properties properties;
  return properties;
}

// bootstrap.servers and the ids come from pinpipe's own flags; a second source would be
// ambiguous.
Status CheckKeys(const Properties& properties) {
  ConfHandle scratch(rd_kafka_conf_new());
  for (const auto& [key, value] : properties) {
    if (key == "bootstrap.servers" || key == "metadata.broker.list") {
      return InvalidArgument(
          fmt::format("kafka property {}: give the brokers with --kafka-brokers", key));
    }
    if (key == "client.id" || key == "group.id") {
      return InvalidArgument(fmt::format(
          "kafka property {}: pinpipe sets it itself (the consumer group with --group)", key));
    }
    // Known to librdkafka, and a value it takes (librdkafka's reason names a bad enum value, never
    // a free-text one such as a password, which it always takes).
    char errstr[512];
    switch (rd_kafka_conf_set(scratch.get(), key.c_str(), value.c_str(), errstr, sizeof errstr)) {
      case RD_KAFKA_CONF_OK: break;
      case RD_KAFKA_CONF_UNKNOWN:
        return InvalidArgument(fmt::format("kafka property {}: librdkafka does not know it", key));
      default: return InvalidArgument(fmt::format("kafka property {}: {}", key, errstr));
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Properties> ParseProperties(std::string_view text, std::string_view origin) {
  Properties out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) {
      return InvalidArgument(fmt::format("{}:{}: expected key=value", origin, line_no));
    }
    const std::string key(Trim(line.substr(0, sep)));
    if (key.empty()) return InvalidArgument(fmt::format("{}:{}: empty key", origin, line_no));
    if (!out.emplace(key, std::string(Trim(line.substr(sep + 1)))).second) {
      return InvalidArgument(fmt::format("{}:{}: {} is given twice", origin, line_no, key));
    }
  }
  return out;
}

StatusOr<std::pair<std::string, std::string>> ParsePropertyArg(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return InvalidArgument(fmt::format("--kafka-option {}: expected key=value", arg));
  }
  std::string key(Trim(arg.substr(0, eq)));
  if (key.empty()) return InvalidArgument(fmt::format("--kafka-option {}: empty key", arg));
  return std::make_pair(std::move(key), std::string(arg.substr(eq + 1)));
}

StatusOr<Properties> LoadProperties(const std::string& file,
                                    const std::vector<std::string>& options) {
  Properties out;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      const int err = errno;
      const std::string message = fmt::format("--kafka-config {}: {}", file, std::strerror(err));
      return err == ENOENT ? NotFound(message) : FailedPrecondition(message);
    }
    std::ostringstream text;
    text << in.rdbuf();
    ASSIGN_OR_RETURN(out, ParseProperties(text.str(), file));
  }
  for (const std::string& option : options) {
    ASSIGN_OR_RETURN(auto kv, ParsePropertyArg(option));
    out[kv.first] = std::move(kv.second);
  }
  RETURN_IF_ERROR(CheckKeys(out));
  return out;
}

Status SetClientProperties(Properties properties) {
  RETURN_IF_ERROR(CheckKeys(properties));
  Installed() = std::move(properties);
  return Status::Ok();
}

const Properties& ClientProperties() { return Installed(); }

Status ApplyClientProperties(rd_kafka_conf_t* conf) {
  for (const auto& [key, value] : Installed()) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return InvalidArgument(fmt::format("kafka property {}: {}", key, errstr));
    }
  }
  return Status::Ok();
}

}  // namespace pinpipe::kafka
