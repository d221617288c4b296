// Client properties given by the user: librdkafka properties that every Kafka client of the
// process gets (producer, consumer, admin, inspector), so that SASL, TLS and whatever else a
// managed or secured cluster needs work without code changes (`--kafka-option key=value`,
// repeatable, and `--kafka-config FILE`: apps/pinpipe/kafka_flags.h).
//
// The file format is the one Kafka's own clients read (java.util.Properties, simplified): one
// `key=value` (or `key: value`) per line, whitespace around key and value trimmed, the value may
// contain '=' (sasl.jaas.config does); blank lines and lines starting with '#' or '!' are
// comments. No line continuations or escapes.
//
// Order inside a client: its own settings (defaults, group.id, the `extra` options its component
// gives, e.g. the speed layer's fetch queue size), then these properties, which so override
// pinpipe's tuning, then its safety settings (the producer refuses a property that contradicts
// acks=all, idempotence, its delivery timeout or its compression). Properties that
// pinpipe takes from its own flags are refused: bootstrap.servers (--kafka-brokers), client.id,
// group.id (--group). Values are never logged (they hold passwords).
//
// Thread-safety: SetClientProperties once at startup, before any client exists (the CLI does it
// before running a subcommand); ClientProperties/ApplyClientProperties from any thread after.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pinpipe::kafka {

using Properties = std::map<std::string, std::string>;

// Parses properties text; `origin` (a file name) prefixes errors. Errors: InvalidArgument
// "<origin>:<line>: ..." for a line without '=' or ':' or with an empty key; a key given twice
// is an error too (which one was meant?).
StatusOr<Properties> ParseProperties(std::string_view text, std::string_view origin);

// One `key=value` of --kafka-option. Errors: InvalidArgument for a missing '=' or empty key.
StatusOr<std::pair<std::string, std::string>> ParsePropertyArg(std::string_view arg);

// The file's properties, then the options' (an option overrides the file's value of its key).
// Errors: the parsers'; NotFound (no such file) or FailedPrecondition when the file cannot be
// read; InvalidArgument for a refused key (see above), one librdkafka does not know, or a value
// it refuses (checked on a scratch conf, so a typo fails at startup, not at the first client).
StatusOr<Properties> LoadProperties(const std::string& file,
                                    const std::vector<std::string>& options);

// Installs the process-wide properties. Errors: as LoadProperties for refused or unknown keys.
Status SetClientProperties(Properties properties);
const Properties& ClientProperties();

// Sets ClientProperties() on `conf`. Errors: InvalidArgument naming the key (not the value).
Status ApplyClientProperties(rd_kafka_conf_t* conf);

}  // namespace pinpipe::kafka
