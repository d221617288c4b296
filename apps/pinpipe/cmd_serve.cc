// `pinpipe serve`: the ingestion API (HTTP -> validate -> Kafka).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stop_token>
#include <thread>

#include "auth_flags.h"
#include "command.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/record_schema.h"
#include "http/server.h"
#include "ingest/ingest_service.h"
#include "kafka/producer.h"
#include "kafka_flags.h"
#include "log/logger.h"
#include "stop_signals.h"
#include "topic_flags.h"

namespace pinpipe::app {
namespace {

const log::Logger kServeLog("serve");

// glibc raises its mmap threshold each time a large mmap'ed block is freed (up to 32 MiB), after
// which such blocks come from the heap and, freed, stay in the process. Request bodies, bulk
// request result lists and item vectors are large and short-lived, so after a burst of them the
// idle API kept most of them. Setting the thresholds explicitly turns that adjustment off: blocks
// from 256 KiB up are mmap'ed and go back to the kernel when freed, and free heap tops are trimmed
// above 1 MiB. Measured with 2 bursts of 8 x 60 MB bulk requests (2 accepted each): idle RSS 15 ->
// 94 MB with neither this nor TrimAfterBursts, 112 MB with this alone, 31 MB with the trim alone,
// 20.5 MB with both.
void PinMallocThresholds() {
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

// Gives the memory of a burst of large bodies back to the kernel once the burst is over. The
// records of a bulk request are copied into librdkafka's queue by the I/O threads and freed by its
// delivery thread: hundreds of thousands of small blocks spread over the I/O threads' malloc
// arenas, which glibc trims only from the top of each heap, so a burst left ~80 MB resident
// in the idle process. malloc_trim(0) returns every free page of every arena (measured: 104 MB
// -> 21 MB after 2 x 60 MB bulk requests; see PinMallocThresholds for the combination). It walks
// all arenas, so it runs only after a burst (kTrimAfterBytes of bodies reserved since the last
// trim), on this thread, never on an I/O thread. A burst ends when the process has been quiet
// (no body buffered, nothing waiting for Kafka) for kQuietPolls polls in a row: the delivery
// thread frees the last records just after the queue empties, so one quiet poll is too early
// (seen in CI on a slow machine: 38 MB idle). While a burst lasts, a trim every kTrimWait keeps
// a long burst from holding everything; the burst still ends with a quiet trim.
void TrimAfterBursts(const std::stop_token& stop, const http::Server& server,
                     const kafka::Producer& producer) {
  constexpr uint64_t kTrimAfterBytes = 32 << 20;
  constexpr auto kPoll = std::chrono::milliseconds(200);
  constexpr int kQuietPolls = 3;
  constexpr auto kTrimWait = std::chrono::seconds(5);
  uint64_t trimmed_at = server.body_bytes_reserved_total();
  int quiet_polls = 0;
  // The last trim of the current burst, or when it was first seen.
  auto last_trim = std::chrono::steady_clock::time_point::max();
  core::Mutex mu;
  std::condition_variable_any cv;
  core::MutexLock lock(mu);
  while (!stop.stop_requested()) {
    lock.WaitFor(cv, stop, kPoll, [] { return false; });  // a stoppable sleep
    const uint64_t total = server.body_bytes_reserved_total();
    if (total - trimmed_at < kTrimAfterBytes) continue;
    const auto now = std::chrono::steady_clock::now();
    last_trim = std::min(last_trim, now);
    const bool quiet = server.buffered_body_bytes() == 0 && producer.Stats().in_flight == 0;
    quiet_polls = quiet ? quiet_polls + 1 : 0;
    if (quiet_polls >= kQuietPolls) {
      malloc_trim(0);  // the burst is over
      trimmed_at = server.body_bytes_reserved_total();
      quiet_polls = 0;
      last_trim = std::chrono::steady_clock::time_point::max();
    } else if (now - last_trim >= kTrimWait) {
      malloc_trim(0);  // a long burst: give back what it has freed so far
      last_trim = now;
    }
  }
}

struct ServeFlags {
  KafkaClientFlags kafka;  // --kafka-option, --kafka-config
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  int threads = 2;
  std::string brokers = "127.0.0.1:19092";
  std::string topic_pin = core::DefaultTopic(core::RecordKind::kPin),
              topic_geo = core::DefaultTopic(core::RecordKind::kGeo),
              topic_user = core::DefaultTopic(core::RecordKind::kUser);
  int delivery_timeout_ms = 5000;
  double linger_ms = 0.5;  // measured: best req/s at 32-64 connections with p99 < 10 ms (bench/)
  std::string compression = "lz4";
  int queue_max_messages = 500000;
  size_t max_record_bytes = 1 << 20;
  size_t max_bulk_bytes = 64 << 20;
  size_t max_bulk_items = 100000;
  size_t max_buffered_body_bytes = 256 << 20;
  int request_timeout_ms = 10000;
  int idle_timeout_ms = 60000;
  size_t max_connections = 10000;
  AuthTokenFlags auth;
  int retry_after_s = 1;
};

int RunServe(const ServeFlags& f) {
  if (f.max_buffered_body_bytes < std::max(f.max_bulk_bytes, f.max_record_bytes)) {
    kServeLog.Error(
        "--max-buffered-body-bytes ({}) is below the largest body a route accepts ({}); such a "
        "body could never be taken",
        f.max_buffered_body_bytes, std::max(f.max_bulk_bytes, f.max_record_bytes));
    return 1;
  }
  PinMallocThresholds();
  // Before any thread starts, so every thread inherits the blocked mask.
  StopSignals signals("serve", "draining: new records get 503, waiting for Kafka acknowledgements");

  StatusOr<std::string> resolved = ResolveAuthToken(f.auth);
  if (!resolved.ok()) {
    kServeLog.Error("{}", resolved.status().ToString());
    return 1;
  }
  const std::string token = *resolved;

  kafka::ProducerOptions po;
  po.brokers = f.brokers;
  po.client_id = "pinpipe-ingest";
  po.delivery_timeout = std::chrono::milliseconds(f.delivery_timeout_ms);
  po.linger = std::chrono::microseconds(static_cast<int64_t>(f.linger_ms * 1000.0));
  po.compression = f.compression;
  po.queue_max_messages = f.queue_max_messages;
  auto producer = kafka::Producer::Create(po);
  if (!producer.ok()) {
    kServeLog.Error("{}", producer.status().ToString());
    return 1;
  }

  core::Registry registry;
  ingest::IngestOptions io;
  io.topics = {f.topic_pin, f.topic_geo, f.topic_user};
  io.max_record_bytes = f.max_record_bytes;
  io.max_bulk_bytes = f.max_bulk_bytes;
  io.max_bulk_items = f.max_bulk_items;
  io.bearer_token = token;
  io.retry_after_seconds = f.retry_after_s;
  io.delivery_deadline = std::chrono::milliseconds(f.delivery_timeout_ms);
  ingest::IngestService service(io, producer->get(), &registry);

  http::ServerOptions so;
  so.host = f.host;
  so.port = f.port;
  so.threads = f.threads;
  so.max_body_bytes = std::max(f.max_bulk_bytes, f.max_record_bytes);
  so.max_buffered_body_bytes = f.max_buffered_body_bytes;
  so.retry_after_seconds = f.retry_after_s;
  so.max_connections = f.max_connections;
  so.request_timeout = std::chrono::milliseconds(f.request_timeout_ms);
  so.idle_timeout = std::chrono::milliseconds(f.idle_timeout_ms);
  http::Server server(
      so,
      [&service](const http::Request& req, http::Responder respond) {
        service.Handle(req, std::move(respond));
      },
      [&service](const http::Request& head) { return service.OnHead(head); });
  registry.AddGauge("pinpipe_http_connections", "Open HTTP connections",
                    [&server] { return static_cast<double>(server.connections()); });
  registry.AddGauge("pinpipe_http_buffered_body_bytes",
                    "Request body bytes reserved against --max-buffered-body-bytes",
                    [&server] { return static_cast<double>(server.buffered_body_bytes()); });
  registry.AddCounterFunction("pinpipe_http_body_budget_refusals_total",
                              "Requests answered 503 because --max-buffered-body-bytes was reached",
                              [&server] { return static_cast<double>(server.budget_refusals()); });
  if (Status s = server.Start(); !s.ok()) {
    kServeLog.Error("{}", s.ToString());
    return 1;
  }
  std::jthread trimmer([&server, &producer](const std::stop_token& stop) {
    TrimAfterBursts(stop, server, **producer);
  });
  kServeLog.Info(
      "listening on http://{}:{} (docs /docs, metrics /metrics), Kafka {}, topics {}/{}/{}{}",
      f.host, server.port(), f.brokers, f.topic_pin, f.topic_geo, f.topic_user,
      token.empty() ? ", auth off" : ", bearer auth on");
  if (Status s = (*producer)->CheckReachable(std::chrono::milliseconds(3000)); !s.ok()) {
    kServeLog.Warn("Kafka not reachable yet ({}); records will be answered 503 until it is",
                   s.ToString());
  }

  signals.Wait();
  service.StartDraining();
  // Answers for records already produced are written by the server, so it must still run while
  // the producer flushes; only then are the connections closed.
  Status flushed = (*producer)->Flush(std::chrono::milliseconds(f.delivery_timeout_ms + 1000));
  if (!flushed.ok()) kServeLog.Error("{}", flushed.ToString());
  server.Stop();
  (*producer)->Close(std::chrono::milliseconds(1000));
  kServeLog.Info("stopped");
  return 0;
}

CommandRegistration kServe(
    "serve", "Run the ingestion API: validate records and produce them to Kafka",
    [](CLI::App& sub) {
      auto f = std::make_shared<ServeFlags>();
      sub.add_option("--host", f->host, "Address to listen on")
          ->envname("PINPIPE_API_HOST")
          ->capture_default_str();
      sub.add_option("--port", f->port, "Port to listen on (0 = any free port)")
          ->envname("PINPIPE_API_PORT")
          ->capture_default_str();
      sub.add_option("--threads", f->threads, "HTTP I/O threads")
          ->envname("PINPIPE_API_THREADS")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      sub.add_option("--kafka-brokers", f->brokers, "Kafka bootstrap servers (host:port,...)")
          ->envname("PINPIPE_KAFKA_BROKERS")
          ->capture_default_str();
      AddKafkaClientFlags(sub, &f->kafka);
      AddTopicFlags(sub, {&f->topic_pin, &f->topic_geo, &f->topic_user}, "Topic for {} records");
      sub.add_option("--delivery-timeout-ms", f->delivery_timeout_ms,
                     "Bound on waiting for Kafka's acknowledgement (message.timeout.ms); a request "
                     "still waiting after it gets 503")
          ->envname("PINPIPE_DELIVERY_TIMEOUT_MS")
          ->check(CLI::Range(100, 600000))
          ->capture_default_str();
      sub.add_option("--linger-ms", f->linger_ms,
                     "How long the producer waits to fill a Kafka request, in ms (linger.ms; "
                     "fractions allowed)")
          ->envname("PINPIPE_LINGER_MS")
          ->check(CLI::Range(0.0, 1000.0))
          ->capture_default_str();
      sub.add_option("--compression", f->compression,
                     "Producer compression: none, lz4, zstd, snappy, gzip")
          ->envname("PINPIPE_COMPRESSION")
          ->check(CLI::IsMember({"none", "lz4", "zstd", "snappy", "gzip"}))
          ->capture_default_str();
      sub.add_option("--queue-max-messages", f->queue_max_messages,
                     "Producer queue bound; when full, requests get 503 instead of growing memory")
          ->envname("PINPIPE_QUEUE_MAX_MESSAGES")
          ->check(CLI::Range(1000, 10000000))
          ->capture_default_str();
      sub.add_option("--max-record-bytes", f->max_record_bytes,
                     "Largest single-record body (413 above)")
          ->envname("PINPIPE_MAX_RECORD_BYTES")
          ->capture_default_str();
      sub.add_option("--max-bulk-bytes,--max-batch-bytes", f->max_bulk_bytes,
                     "Largest bulk request body (413 above); --max-batch-bytes is the old "
                     "spelling, still accepted")
          ->envname("PINPIPE_MAX_BATCH_BYTES")
          ->capture_default_str();
      sub.add_option("--max-bulk-items,--max-batch-items", f->max_bulk_items,
                     "Most records in one bulk request (413 above); --max-batch-items is the old "
                     "spelling, still accepted")
          ->envname("PINPIPE_MAX_BATCH_ITEMS")
          ->capture_default_str();
      sub.add_option("--max-buffered-body-bytes", f->max_buffered_body_bytes,
                     "Request bodies buffered by all connections together; a body that would pass "
                     "it gets 503 with Retry-After before it is read")
          ->envname("PINPIPE_MAX_BUFFERED_BODY_BYTES")
          ->capture_default_str();
      sub.add_option("--request-timeout-ms", f->request_timeout_ms,
                     "A started request must arrive completely within this (408)")
          ->envname("PINPIPE_REQUEST_TIMEOUT_MS")
          ->capture_default_str();
      sub.add_option("--idle-timeout-ms", f->idle_timeout_ms,
                     "Idle keep-alive connections close after this")
          ->envname("PINPIPE_IDLE_TIMEOUT_MS")
          ->capture_default_str();
      sub.add_option("--max-connections", f->max_connections, "Connections above this get 503")
          ->envname("PINPIPE_MAX_CONNECTIONS")
          ->capture_default_str();
      AddAuthTokenFlags(sub, &f->auth, "PINPIPE_API_TOKEN", "PINPIPE_API_TOKEN_FILE",
                        "ingestion routes");
      sub.add_option("--retry-after", f->retry_after_s, "Seconds in Retry-After on 503 answers")
          ->envname("PINPIPE_RETRY_AFTER")
          ->capture_default_str();
      return CommandRunner(
          [f] { return RunWithKafkaClientFlags(f->kafka, "serve", [f] { return RunServe(*f); }); });
    });

}  // namespace
}  // namespace pinpipe::app
