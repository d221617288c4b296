#include "ingest/ingest_service.h"

#include <memory>
#include <mutex>
#include <vector>

#include "core/record_validator.h"
#include "ingest/batch_splitter.h"
#include "ingest/errors.h"
#include "ingest/openapi.h"

namespace pinpipe::ingest {
namespace {

using core::FieldError;
using core::RecordKind;

constexpr std::string_view kRouteNames[] = {
    "/pin/",   "/geo/",         "/user/", "/batch/pin", "/batch/geo", "/batch/user", "/healthz",
    "/readyz", "/metrics", "/openapi.json", "/docs", "/", "unknown"};
constexpr int kAccepted = 0, kRejected = 1, kFailed = 2;
constexpr std::string_view kOutcomeNames[] = {"accepted", "rejected", "failed"};

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Each I/O thread validates with its own parser: RecordValidator is not thread-safe, and a
// thread_local avoids both locking and a parser allocation per request.
core::RecordValidator& ThreadValidator() {
  thread_local core::RecordValidator validator;
  return validator;
}

http::Response Json(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::Response Detail(int status, std::string_view detail) {
  std::string body = "{\"detail\":";
  core::AppendJsonString(detail, &body);
  body += '}';
  return Json(status, std::move(body));
}

// Constant-time comparison so the token cannot be guessed byte by byte from response timing.
bool SafeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace

IngestService::IngestService(IngestOptions options, kafka::Producer* producer,
                             core::Registry* metrics)
    : options_(std::move(options)), producer_(producer), registry_(metrics) {
  ApiDescription api{.auth_required = !options_.bearer_token.empty(),
                     .max_record_bytes = options_.max_record_bytes,
                     .max_batch_bytes = options_.max_batch_bytes,
                     .max_batch_items = options_.max_batch_items};
  openapi_json_ = BuildOpenApiJson(api);
  docs_html_ = BuildDocsHtml(api);

  requests_ = registry_->AddCounter("pinpipe_http_requests_total",
                                    "HTTP requests answered, by route and status",
                                    {"route", "status"});
  records_ = registry_->AddCounter(
      "pinpipe_ingest_records_total",
      "Records by kind and outcome (accepted by Kafka, rejected by validation, failed)",
      {"kind", "outcome"});
  validation_failures_ = registry_->AddCounter("pinpipe_validation_failures_total",
                                               "Validation errors by kind, field and error type",
                                               {"kind", "field", "type"});
  request_seconds_ = registry_->AddHistogram("pinpipe_http_request_duration_seconds",
                                             "Time from a complete request to its answer",
                                             {"route"}, core::LatencyBuckets());
  produce_seconds_ = registry_->AddHistogram(
      "pinpipe_produce_latency_seconds",
      "Time from handing a record to the producer to Kafka's acknowledgement", {"kind"},
      core::LatencyBuckets());
  for (int r = 0; r < kRouteCount; ++r) {
    request_hist_[r] = request_seconds_->With({std::string(kRouteNames[r])});
  }
  for (RecordKind kind : core::kAllRecordKinds) {
    auto k = static_cast<size_t>(kind);
    std::string name(core::RecordKindName(kind));
    produce_hist_[k] = produce_seconds_->With({name});
    for (int o = 0; o < 3; ++o) record_cells_[k][o] = records_->With({name, std::string(kOutcomeNames[o])});
  }
  kafka::Producer* p = producer_;
  registry_->AddGauge("pinpipe_producer_queue_depth",
                      "Records handed to the producer and not yet acknowledged or failed",
                      [p] { return static_cast<double>(p->Stats().in_flight); });
  registry_->AddGauge("pinpipe_kafka_brokers_up", "1 when a Kafka broker connection is up",
                      [p] { return p->Stats().brokers_up ? 1.0 : 0.0; });
}

IngestService::Route IngestService::Classify(std::string_view path) {
  // Both "/pin/" (the original's path) and "/pin" are accepted.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/pin") return kRoutePin;
  if (path == "/geo") return kRouteGeo;
  if (path == "/user") return kRouteUser;
  if (path == "/batch/pin") return kRouteBatchPin;
  if (path == "/batch/geo") return kRouteBatchGeo;
  if (path == "/batch/user") return kRouteBatchUser;
  if (path == "/healthz") return kRouteHealthz;
  if (path == "/readyz") return kRouteReadyz;
  if (path == "/metrics") return kRouteMetrics;
  if (path == "/openapi.json") return kRouteOpenapi;
  if (path == "/docs") return kRouteDocs;
  if (path == "/") return kRouteRoot;
  return kRouteUnknown;
}

bool IngestService::Authorized(const http::Request& request) const {
  if (options_.bearer_token.empty()) return true;
  std::string_view auth = request.Header("Authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (auth.size() <= kPrefix.size()) return false;
  // The scheme is case-insensitive (RFC 6750 / 7235).
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return false;
    }
  }
  return SafeEquals(auth.substr(kPrefix.size()), options_.bearer_token);
}

void IngestService::Finish(Route route, Clock::time_point start, const http::Responder& respond,
                           http::Response response) {
  int status = response.status;
  if (status >= 0 && status < 600) {
    auto& cell = request_cells_[route][static_cast<size_t>(status)];
    core::Counter* counter = cell.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = requests_->With({std::string(kRouteNames[route]), std::to_string(status)});
      cell.store(counter, std::memory_order_release);
    }
    counter->Inc();
  }
  request_hist_[route]->Observe(SecondsSince(start));
  respond(std::move(response));
}

void IngestService::CountValidationErrors(RecordKind kind, std::span<const FieldError> errors) {
  std::string name(core::RecordKindName(kind));
  for (const auto& e : errors) {
    validation_failures_->With({name, e.field.empty() ? "(body)" : e.field, e.type})->Inc();
  }
}

void IngestService::Handle(const http::Request& request, http::Responder respond) {
  const Clock::time_point start = Clock::now();
  const Route route = Classify(request.path);
  const bool is_post = request.method == "POST";
  switch (route) {
    case kRoutePin:
    case kRouteGeo:
    case kRouteUser:
    case kRouteBatchPin:
    case kRouteBatchGeo:
    case kRouteBatchUser: {
      if (!is_post) {
        http::Response r = Detail(405, "Method Not Allowed");
        r.headers.emplace_back("Allow", "POST");
        return Finish(route, start, respond, std::move(r));
      }
      if (!Authorized(request)) {
        return Finish(route, start, respond,
                      ErrorResponse(Unauthenticated("missing or wrong bearer token"), 0));
      }
      if (draining_.load(std::memory_order_relaxed)) {
        return Finish(route, start, respond,
                      ErrorResponse(Unavailable("server is shutting down"),
                                    options_.retry_after_seconds));
      }
      // While the producer knows every broker is down, answer at once: waiting out the delivery
      // timeout would hold the client for seconds (librdkafka reports stuck in-flight messages
      // only several seconds after message.timeout.ms) for the same 503 in the end.
      if (!producer_->Stats().brokers_up) {
        return Finish(route, start, respond,
                      ErrorResponse(Unavailable("kafka: no broker is reachable; nothing was stored"),
                                    options_.retry_after_seconds));
      }
      const bool batch = route >= kRouteBatchPin;
      const auto kind = static_cast<RecordKind>(batch ? route - kRouteBatchPin : route);
      if (batch) return HandleBatch(route, kind, request, std::move(respond), start);
      return HandleRecord(route, kind, request, std::move(respond), start);
    }
    default:
      break;
  }
  if (route == kRouteUnknown) return Finish(route, start, respond, Detail(404, "Not Found"));
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = Detail(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", "GET");
    return Finish(route, start, respond, std::move(r));
  }
  switch (route) {
    case kRouteHealthz:
      return Finish(route, start, respond, Json(200, R"({"status":"ok"})"));
    case kRouteReadyz: {
      kafka::ProducerStats stats = producer_->Stats();
      if (stats.brokers_up) return Finish(route, start, respond, Json(200, R"({"status":"ready","kafka":"up"})"));
      http::Response r = Json(503, R"({"status":"not ready","kafka":"down"})");
      r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteMetrics: {
      http::Response r = Json(200, registry_->Render());
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteOpenapi:
      return Finish(route, start, respond, Json(200, openapi_json_));
    case kRouteDocs: {
      http::Response r = Json(200, docs_html_);
      r.content_type = "text/html; charset=utf-8";
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteRoot:
      return Finish(route, start, respond,
                    Json(200, R"({"service":"pinpipe ingestion API","docs":"/docs","openapi":"/openapi.json"})"));
    default:
      return Finish(route, start, respond, Detail(404, "Not Found"));
  }
}

void IngestService::HandleRecord(Route route, RecordKind kind, const http::Request& request,
                                 http::Responder respond, Clock::time_point start) {
  const auto k = static_cast<size_t>(kind);
  if (request.body.size() > options_.max_record_bytes) {
    return Finish(route, start, respond,
                  Detail(413, "record body is " + std::to_string(request.body.size()) +
                                  " bytes; the limit is " +
                                  std::to_string(options_.max_record_bytes) +
                                  " (use /batch/ for many records)"));
  }
  core::ValidatedRecord record;
  thread_local std::vector<FieldError> errors;
  errors.clear();
  if (!ThreadValidator().Validate(kind, request.body, &record, &errors)) {
    CountValidationErrors(kind, errors);
    record_cells_[k][kRejected]->Inc();
    return Finish(route, start, respond, ValidationErrorResponse(errors));
  }
  // Shared between this frame and the delivery callback: if Produce() fails fast the callback is
  // never called and we still have to answer from here.
  struct Pending {
    http::Responder respond;
    std::string answer;
    Clock::time_point produced_at;
  };
  auto pending = std::make_shared<Pending>(
      Pending{std::move(respond), std::move(record.canonical_json), Clock::now()});
  Status s = producer_->Produce(
      options_.topics[k], record.key, request.body,
      [this, pending, route, start, k](const kafka::DeliveryResult& result) {
        produce_hist_[k]->Observe(SecondsSince(pending->produced_at));
        if (result.status.ok()) {
          record_cells_[k][kAccepted]->Inc();
          Finish(route, start, pending->respond, Json(200, std::move(pending->answer)));
        } else {
          record_cells_[k][kFailed]->Inc();
          Finish(route, start, pending->respond,
                 ErrorResponse(result.status.WithContext("kafka"), options_.retry_after_seconds));
        }
      });
  if (!s.ok()) {
    record_cells_[k][kFailed]->Inc();
    Finish(route, start, pending->respond,
           ErrorResponse(s.WithContext("kafka"), options_.retry_after_seconds));
  }
}

void IngestService::HandleBatch(Route route, RecordKind kind, const http::Request& request,
                                http::Responder respond, Clock::time_point start) {
  const auto k = static_cast<size_t>(kind);
  if (request.body.size() > options_.max_batch_bytes) {
    return Finish(route, start, respond,
                  Detail(413, "batch body is " + std::to_string(request.body.size()) +
                                  " bytes; the limit is " +
                                  std::to_string(options_.max_batch_bytes)));
  }
  StatusOr<BatchItems> split = SplitBatch(request.body, options_.max_batch_items);
  if (!split.ok()) {
    if (split.status().code() == StatusCode::kResourceExhausted) {
      return Finish(route, start, respond, Detail(413, split.status().message()));
    }
    FieldError e{"", "JSON decode error: " + split.status().message(), "json_invalid"};
    return Finish(route, start, respond, ValidationErrorResponse(std::span(&e, 1)));
  }
  const std::vector<std::string_view>& items = split->items;

  // The batch's state lives until the last delivery report; each item's slot is written by
  // exactly one party (this thread for rejected/fail-fast items, the delivery thread otherwise),
  // and `remaining` orders those writes before the final read.
  struct Batch {
    http::Responder respond;
    std::vector<int> status;           // per item: 200, 422, 503, ...
    std::vector<std::string> detail;   // per item: JSON for "detail" (empty when none)
    std::atomic<size_t> remaining;
    Clock::time_point produced_at;
  };
  auto batch = std::make_shared<Batch>();
  batch->respond = std::move(respond);
  batch->status.assign(items.size(), 0);
  batch->detail.resize(items.size());
  batch->remaining.store(items.size() + 1);  // +1: held by this frame until all are handed out
  batch->produced_at = Clock::now();

  auto finish_if_last = [this, route, start, k](const std::shared_ptr<Batch>& b) {
    if (b->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    size_t accepted = 0, rejected = 0, failed = 0;
    std::string results;
    results.reserve(b->status.size() * 28);
    for (size_t i = 0; i < b->status.size(); ++i) {
      int st = b->status[i];
      if (st == 200) {
        ++accepted;
      } else if (st == 422) {
        ++rejected;
      } else {
        ++failed;
      }
      if (i) results += ',';
      results += "{\"position\":" + std::to_string(i) + ",\"status\":" + std::to_string(st);
      if (!b->detail[i].empty()) {
        results += ",\"detail\":";
        results += b->detail[i];
      }
      results += '}';
    }
    record_cells_[k][kAccepted]->Inc(static_cast<int64_t>(accepted));
    record_cells_[k][kRejected]->Inc(static_cast<int64_t>(rejected));
    record_cells_[k][kFailed]->Inc(static_cast<int64_t>(failed));
    std::string body = "{\"accepted\":" + std::to_string(accepted) +
                       ",\"rejected\":" + std::to_string(rejected) +
                       ",\"failed\":" + std::to_string(failed) + ",\"results\":[";
    body += results;
    body += "]}";
    http::Response r = Json(200, std::move(body));
    if (failed > 0) {
      r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
    }
    Finish(route, start, b->respond, std::move(r));
  };

  core::RecordValidator& validator = ThreadValidator();
  core::ValidatedRecord record;
  std::vector<FieldError> errors;
  const std::string& topic = options_.topics[k];
  for (size_t i = 0; i < items.size(); ++i) {
    errors.clear();
    if (!validator.Validate(kind, items[i], &record, &errors)) {
      CountValidationErrors(kind, errors);
      batch->status[i] = 422;
      std::string detail = "[";
      AppendErrorDetails(errors, "\"body\"," + std::to_string(i), &detail);
      detail += ']';
      batch->detail[i] = std::move(detail);
      finish_if_last(batch);
      continue;
    }
    Status s = producer_->Produce(
        topic, record.key, items[i],
        [this, batch, i, k, finish_if_last](const kafka::DeliveryResult& result) {
          produce_hist_[k]->Observe(SecondsSince(batch->produced_at));
          if (result.status.ok()) {
            batch->status[i] = 200;
          } else {
            batch->status[i] = HttpStatusFor(result.status);
            std::string detail;
            core::AppendJsonString("kafka: " + result.status.message(), &detail);
            batch->detail[i] = std::move(detail);
          }
          finish_if_last(batch);
        });
    if (!s.ok()) {
      batch->status[i] = HttpStatusFor(s);
      std::string detail;
      core::AppendJsonString("kafka: " + s.message(), &detail);
      batch->detail[i] = std::move(detail);
      finish_if_last(batch);
    }
  }
  finish_if_last(batch);
}

}  // namespace pinpipe::ingest
