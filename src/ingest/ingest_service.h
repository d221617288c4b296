// IngestService: the ingestion API's request handler (routes, auth, validate -> produce -> answer).
//
// Routes:
//   POST /pin/ /geo/ /user/        one record; 200 with the validated record once Kafka has it
//   POST /batch/pin|geo|user       NDJSON or JSON array; 200 with a per-item result list
//   GET  /healthz /readyz /metrics /openapi.json /docs
// A record is answered 2xx only from the producer's delivery report (acks=all), so an
// acknowledged record is in Kafka. Kafka down or queue full -> 503 with Retry-After: at once while
// the producer knows all brokers are down, else at the latest when `delivery_deadline` has passed
// since the record (or the bulk request's last record) was handed to the producer: whichever of the
// delivery report and that deadline comes first answers, exactly once; a bulk request's items still
// unacknowledged then are 503 in its result list. A late delivery report only updates metrics.
// The Kafka message value is the exact bytes the client sent for that record; the key is the
// record's key field (see docs/design.md).
//
// OnHead() is the server's HeadHandler: from the request line and headers alone it answers what
// needs no body (404, 405, 401, 503 while draining or while Kafka is known down) and gives each
// route its body limit (record routes max_record_bytes, bulk routes max_bulk_bytes, the GET
// routes none), so the server never buffers a body the route would refuse. Handle() makes the
// same checks, so it is also correct without OnHead (unit tests call it directly).
//
// Metric labels come from closed sets only: routes, statuses, record kinds, schema field names
// (anything else, e.g. an unknown JSON key, counts as field "_unknown"), and
// core::kFieldErrorTypes.
//
// Thread-safety: Handle() and OnHead() run on the HTTP server's I/O threads (several at once);
// answers for produced records are sent from the producer's delivery thread or from the
// deadline thread. Each I/O thread has its own validator (thread_local). The service must
// outlive the server and the producer's deliveries.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/metrics.h"
#include "core/record_schema.h"
#include "core/record_validator.h"
#include "http/server.h"
#include "ingest/deadline_queue.h"
#include "kafka/producer.h"

namespace pinpipe::ingest {

struct IngestOptions {
  // Topic per record kind, indexed by RecordKind.
  std::array<std::string, 3> topics = core::DefaultTopics();
  size_t max_record_bytes = 1 << 20;  // a /pin/-style body, and each item of a bulk request
  size_t max_bulk_bytes = 64 << 20;
  size_t max_bulk_items = 100000;
  std::string bearer_token;  // empty: authentication off
  int retry_after_seconds = 1;
  // Longest wait for Kafka's acknowledgement before answering 503: the producer's delivery
  // timeout (message.timeout.ms), which librdkafka itself may overrun on a dead connection.
  std::chrono::milliseconds delivery_deadline{5000};
};

class IngestService {
 public:
  IngestService(IngestOptions options, kafka::Producer* producer, core::Registry* metrics);
  ~IngestService();
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  // The http::HeadHandler.
  http::HeadDecision OnHead(const http::Request& head);
  // The http::Handler.
  void Handle(const http::Request& request, http::Responder respond);

  // From now on ingestion requests answer 503 (used while shutting down).
  void StartDraining() { draining_.store(true); }

 private:
  enum Route : int {
    kRoutePin,
    kRouteGeo,
    kRouteUser,
    kRouteBulkPin,
    kRouteBulkGeo,
    kRouteBulkUser,
    kRouteHealthz,
    kRouteReadyz,
    kRouteMetrics,
    kRouteOpenapi,
    kRouteDocs,
    kRouteRoot,
    kRouteUnknown,
    kRouteCount
  };
  using Clock = std::chrono::steady_clock;
  struct PendingRecord;
  struct PendingBulk;

  static Route Classify(std::string_view path);
  bool Authorized(const http::Request& request) const;
  // The answer for a request that can be decided from its head alone (wrong route or method,
  // no token, draining, Kafka known down); nullopt when the request goes on.
  std::optional<http::Response> Precheck(Route route, const http::Request& request) const;
  size_t BodyLimit(Route route) const;
  void HandleRecord(Route route, core::RecordKind kind, const http::Request& request,
                    http::Responder respond, Clock::time_point start);
  void HandleBulk(Route route, core::RecordKind kind, const http::Request& request,
                  http::Responder respond, Clock::time_point start);
  // Records the request in the metrics, then answers.
  void Finish(Route route, Clock::time_point start, const http::Responder& respond,
              http::Response response);
  void CountRequest(Route route, Clock::time_point start, int status);
  void CountValidationErrors(core::RecordKind kind, std::span<const core::FieldError> errors);
  void CountLateDelivery(size_t kind, bool stored);
  // The 503 of a request whose deadline passed (detail says the record may be stored).
  Status DeadlineStatus() const;

  IngestOptions options_;
  kafka::Producer* producer_;  // not owned
  std::atomic<bool> draining_{false};
  std::string openapi_json_;
  std::string docs_html_;

  // Metrics (cells live in the registry, which outlives this service).
  core::Registry* registry_;
  core::CounterFamily* requests_;
  core::CounterFamily* records_;
  core::CounterFamily* validation_failures_;
  core::CounterFamily* late_deliveries_;
  core::HistogramFamily* request_seconds_;
  core::HistogramFamily* produce_seconds_;
  // Per-route, per-status request counters, filled lazily: a lock-free hot path.
  std::array<std::array<std::atomic<core::Counter*>, 600>, kRouteCount> request_cells_{};
  std::array<core::Histogram*, kRouteCount> request_hist_{};
  std::array<core::Histogram*, 3> produce_hist_{};
  std::array<std::array<core::Counter*, 3>, 3> record_cells_{};  // [kind][accepted/rejected/failed]
  std::array<std::array<core::Counter*, 2>, 3> late_cells_{};    // [kind][stored/failed]
  // Validation failure cells, filled lazily: [kind][field slot][type slot] flattened; field
  // slots are the schema's fields, then "(body)", then "_unknown"; type slots are
  // core::kFieldErrorTypes, then "_unknown". The only label values possible, so the family
  // cannot grow with input.
  std::unique_ptr<std::atomic<core::Counter*>[]> validation_cells_;

  // Declared last, so destroyed first: its thread, which answers through the members above, is
  // joined before they go.
  DeadlineQueue deadlines_;
};

}  // namespace pinpipe::ingest
