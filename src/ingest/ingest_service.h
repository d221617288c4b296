// IngestService: the ingestion API's request handler (routes, auth, validate -> produce -> answer).
//
// Routes:
//   POST /pin/ /geo/ /user/        one record; 200 with the validated record once Kafka has it
//   POST /batch/pin|geo|user       NDJSON or JSON array; 200 with a per-item result list
//   GET  /healthz /readyz /metrics /openapi.json /docs
// A record is answered 2xx only from the producer's delivery report (acks=all), so an
// acknowledged record is in Kafka. Kafka down or queue full -> 503 with Retry-After: at once while
// the producer knows all brokers are down, else after the producer's delivery timeout at most. The Kafka message value is the exact bytes the
// client sent for that record; the key is the record's key field (see docs/design.md).
//
// Thread-safety: Handle() runs on the HTTP server's I/O threads (several at once); answers for
// produced records are sent from the producer's delivery thread. Each I/O thread has its own
// validator (thread_local). The service must outlive the server and the producer's deliveries.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <string>

#include <span>

#include "core/metrics.h"
#include "core/record_validator.h"
#include "core/record_schema.h"
#include "http/server.h"
#include "kafka/producer.h"

namespace pinpipe::ingest {

struct IngestOptions {
  // Topic per record kind, indexed by RecordKind.
  std::array<std::string, 3> topics = {"pinterest", "pinterest_geo", "pinterest_user"};
  size_t max_record_bytes = 1 << 20;
  size_t max_batch_bytes = 64 << 20;
  size_t max_batch_items = 100000;
  std::string bearer_token;  // empty: authentication off
  int retry_after_seconds = 1;
};

class IngestService {
 public:
  IngestService(IngestOptions options, kafka::Producer* producer, core::Registry* metrics);
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  // The http::Handler.
  void Handle(const http::Request& request, http::Responder respond);

  // From now on ingestion requests answer 503 (used while shutting down).
  void StartDraining() { draining_.store(true); }

 private:
  enum Route : int {
    kRoutePin,
    kRouteGeo,
    kRouteUser,
    kRouteBatchPin,
    kRouteBatchGeo,
    kRouteBatchUser,
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

  static Route Classify(std::string_view path);
  bool Authorized(const http::Request& request) const;
  void HandleRecord(Route route, core::RecordKind kind, const http::Request& request,
                    http::Responder respond, Clock::time_point start);
  void HandleBatch(Route route, core::RecordKind kind, const http::Request& request,
                   http::Responder respond, Clock::time_point start);
  // Records the request in the metrics, then answers.
  void Finish(Route route, Clock::time_point start, const http::Responder& respond,
              http::Response response);
  void CountValidationErrors(core::RecordKind kind, std::span<const core::FieldError> errors);

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
  core::HistogramFamily* request_seconds_;
  core::HistogramFamily* produce_seconds_;
  // Per-route, per-status request counters, filled lazily: a lock-free hot path.
  std::array<std::array<std::atomic<core::Counter*>, 600>, kRouteCount> request_cells_{};
  std::array<core::Histogram*, kRouteCount> request_hist_{};
  std::array<core::Histogram*, 3> produce_hist_{};
  std::array<std::array<core::Counter*, 3>, 3> record_cells_{};  // [kind][accepted/rejected/failed]
};

}  // namespace pinpipe::ingest
