// Building librdkafka configurations and client handles, shared by Producer, Consumer and admin.
//
// SetConf/GetConf turn librdkafka's char-buffer API into Status. NewClient() installs the log
// callback (librdkafka logs -> the log, component "kafka", filtered by level) and creates the
// rd_kafka_t.
// Log level: messages at syslog level <= PINPIPE_KAFKA_LOG_LEVEL (default 4 = warning) are
// logged (0-3 as error, 4 warn, 5-6 info, 7 debug, then filtered by --log-level too); a
// librdkafka message saying that idempotence or compression is not in effect is
// always logged, as a warning, because it silently weakens the producer's guarantees.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "kafka/handles.h"

namespace pinpipe::kafka {

// Sets `key`=`value`. InvalidArgument naming the key when librdkafka rejects it.
Status SetConf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// Sets every entry of `props` in order (see SetConf).
Status SetConf(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props);

// The current value of `key` (also topic-level keys set on the global conf).
// NotFound when librdkafka does not know the key.
StatusOr<std::string> GetConf(const rd_kafka_conf_t* conf, const std::string& key);

// A new conf with bootstrap.servers and client.id set and the log callback installed.
StatusOr<ConfHandle> NewConf(const std::string& brokers, const std::string& client_id);

// Creates a client of `type`; takes `conf` on success. InvalidArgument with librdkafka's reason.
StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf);

// Logs one librdkafka log line if it passes the level filter (see above): the message, with
// fields client, facility and syslog (librdkafka's level name).
// Called on librdkafka's threads. Exposed for tests.
void LogLine(int level, std::string_view facility, std::string_view client,
             std::string_view message);

// Logs an error event of a client's error callback (rd_kafka_conf_set_error_cb) at its syslog
// level: "all brokers down" is a warning (4; the client keeps retrying), a transport or resolve
// error is info (6; librdkafka's own FAIL log line already said it), anything else an error (3).
void LogClientError(rd_kafka_t* rk, rd_kafka_resp_err_t code, const char* reason);
int ClientErrorLevel(rd_kafka_resp_err_t code);

// True when `message` (with `facility`) reports that idempotence or compression is disabled.
bool IsGuaranteeDowngrade(std::string_view facility, std::string_view message);

// `timeout` as librdkafka's int milliseconds, clamped to 0..24 h (a negative one is 0: no wait).
int TimeoutMs(std::chrono::milliseconds timeout);

}  // namespace pinpipe::kafka
