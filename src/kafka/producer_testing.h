// Test-only hooks into the Producer implementation. Not for production code.
#pragma once

#include <string>

#include "kafka/producer.h"

namespace pinpipe::kafka {

// Makes librdkafka raise a fatal error on `producer`'s current handle (rd_kafka_test_fatal_error),
// as a broken idempotence sequence would. In-flight messages then fail with Internal and the
// producer re-creates its handle. Returns InvalidArgument if `producer` is not a Kafka producer.
Status InjectFatalErrorForTesting(Producer& producer, const std::string& reason);

}  // namespace pinpipe::kafka
