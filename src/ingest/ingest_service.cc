#include "ingest/ingest_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "core/elapsed.h"
#include "core/mutex.h"
#include "core/record_validator.h"
#include "http/bearer_auth.h"
#include "ingest/bulk_splitter.h"
#include "ingest/errors.h"
#include "ingest/openapi.h"

namespace pinpipe::ingest {
namespace {

using core::FieldError;
using core::RecordKind;

constexpr std::string_view kRouteNames[] = {
    "/pin/",   "/geo/",    "/user/",        "/batch/pin", "/batch/geo", "/batch/user", "/healthz",
    "/readyz", "/metrics", "/openapi.json", "/docs",      "/",          "unknown"};
constexpr int kAccepted = 0, kRejected = 1, kFailed = 2;
constexpr std::string_view kOutcomeNames[] = {"accepted", "rejected", "failed"};
constexpr std::string_view kLateNames[] = {"stored", "failed"};

// pinpipe_validation_failures_total label slots (see validation_cells_ in the header).
constexpr std::string_view kBodyField = "(body)";
constexpr std::string_view kUnknownLabel = "_unknown";
constexpr size_t kTypeSlots = std::size(core::kFieldErrorTypes) + 1;

size_t MaxSchemaFields() {
  size_t most = 0;
  for (RecordKind kind : core::kAllRecordKinds)
    most = std::max(most, core::SchemaFor(kind).fields.size());
  return most;
}
size_t FieldSlots() { return MaxSchemaFields() + 2; }  // + "(body)" + "_unknown"

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

}  // namespace

IngestService::IngestService(IngestOptions options, kafka::Producer* producer,
                             core::Registry* metrics)
    : options_(std::move(options)),
      producer_(producer),
      registry_(metrics),
      validation_cells_(new std::atomic<core::Counter*>[3 * FieldSlots() * kTypeSlots]),
      deadlines_(options_.delivery_deadline) {
  for (size_t i = 0; i < 3 * FieldSlots() * kTypeSlots; ++i) validation_cells_[i] = nullptr;
  ApiDescription api{.auth_required = !options_.bearer_token.empty(),
                     .max_record_bytes = options_.max_record_bytes,
                     .max_bulk_bytes = options_.max_bulk_bytes,
                     .max_bulk_items = options_.max_bulk_items};
  openapi_json_ = BuildOpenApiJson(api);
  docs_html_ = BuildDocsHtml(api);

  requests_ =
      registry_->AddCounter("pinpipe_http_requests_total",
                            "HTTP requests answered, by route and status", {"route", "status"});
  records_ = registry_->AddCounter(
      "pinpipe_ingest_records_total",
      "Records by kind and outcome (accepted by Kafka, rejected by validation, failed)",
      {"kind", "outcome"});
  validation_failures_ = registry_->AddCounter(
      "pinpipe_validation_failures_total",
      "Validation errors by kind, field (a schema field, (body), or _unknown) and error type",
      {"kind", "field", "type"});
  late_deliveries_ = registry_->AddCounter(
      "pinpipe_ingest_late_deliveries_total",
      "Delivery reports that came after the request was answered 503 at its deadline, by kind "
      "and result (stored: the record is in Kafka although the client was told to retry)",
      {"kind", "result"});
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
    for (int o = 0; o < 3; ++o)
      record_cells_[k][o] = records_->With({name, std::string(kOutcomeNames[o])});
    for (int l = 0; l < 2; ++l)
      late_cells_[k][l] = late_deliveries_->With({name, std::string(kLateNames[l])});
  }
  kafka::Producer* p = producer_;
  registry_->AddGauge("pinpipe_producer_queue_depth",
                      "Records handed to the producer and not yet acknowledged or failed",
                      [p] { return static_cast<double>(p->Stats().in_flight); });
  registry_->AddGauge("pinpipe_kafka_brokers_up", "1 when a Kafka broker connection is up",
                      [p] { return p->Stats().brokers_up ? 1.0 : 0.0; });
  DeadlineQueue* deadlines = &deadlines_;
  registry_->AddGauge(
      "pinpipe_ingest_requests_waiting",
      "Requests (records or bulk requests) waiting for Kafka under the delivery deadline",
      [deadlines] { return static_cast<double>(deadlines->size()); });
}

IngestService::~IngestService() = default;

IngestService::Route IngestService::Classify(std::string_view path) {
  // Both "/pin/" (the original's path) and "/pin" are accepted.
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/pin") return kRoutePin;
  if (path == "/geo") return kRouteGeo;
  if (path == "/user") return kRouteUser;
  if (path == "/batch/pin") return kRouteBulkPin;
  if (path == "/batch/geo") return kRouteBulkGeo;
  if (path == "/batch/user") return kRouteBulkUser;
  if (path == "/healthz") return kRouteHealthz;
  if (path == "/readyz") return kRouteReadyz;
  if (path == "/metrics") return kRouteMetrics;
  if (path == "/openapi.json") return kRouteOpenapi;
  if (path == "/docs") return kRouteDocs;
  if (path == "/") return kRouteRoot;
  return kRouteUnknown;
}

bool IngestService::Authorized(const http::Request& request) const {
  return http::BearerTokenMatches(request, options_.bearer_token);
}

void IngestService::CountRequest(Route route, Clock::time_point start, int status) {
  if (status >= 0 && status < 600) {
    auto& cell = request_cells_[route][static_cast<size_t>(status)];
    core::Counter* counter = cell.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = requests_->With({std::string(kRouteNames[route]), std::to_string(status)});
      cell.store(counter, std::memory_order_release);
    }
    counter->Inc();
  }
  request_hist_[route]->Observe(core::SecondsSince(start));
}

void IngestService::Finish(Route route, Clock::time_point start, const http::Responder& respond,
                           http::Response response) {
  CountRequest(route, start, response.status);
  respond(std::move(response));
}

void IngestService::CountValidationErrors(RecordKind kind, std::span<const FieldError> errors) {
  const core::RecordSchema& schema = core::SchemaFor(kind);
  const size_t field_slots = FieldSlots();
  const size_t k = static_cast<size_t>(kind);
  for (const auto& e : errors) {
    // Field: a schema field, the whole body, or (an unknown key, anything else) _unknown.
    size_t field = field_slots - 1;
    std::string_view field_name = kUnknownLabel;
    if (e.field.empty()) {
      field = field_slots - 2;
      field_name = kBodyField;
    } else if (std::optional<size_t> i = schema.FieldIndex(e.field)) {
      field = *i;
      field_name = schema.fields[*i].name;
    }
    size_t type = kTypeSlots - 1;
    std::string_view type_name = kUnknownLabel;
    for (size_t t = 0; t + 1 < kTypeSlots; ++t) {
      if (core::kFieldErrorTypes[t] == e.type) {
        type = t;
        type_name = core::kFieldErrorTypes[t];
        break;
      }
    }
    auto& cell = validation_cells_[(k * field_slots + field) * kTypeSlots + type];
    core::Counter* counter = cell.load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Racing threads get the same cell from the family; either store is right.
      counter = validation_failures_->With({std::string(core::RecordKindName(kind)),
                                            std::string(field_name), std::string(type_name)});
      cell.store(counter, std::memory_order_release);
    }
    counter->Inc();
  }
}

void IngestService::CountLateDelivery(size_t kind, bool stored) {
  late_cells_[kind][stored ? 0 : 1]->Inc();
}

Status IngestService::DeadlineStatus() const {
  return DeadlineExceeded("kafka: no acknowledgement within the delivery deadline of " +
                          std::to_string(options_.delivery_deadline.count()) +
                          " ms; the record may or may not be stored, retry");
}

std::optional<http::Response> IngestService::Precheck(Route route,
                                                      const http::Request& request) const {
  switch (route) {
    case kRoutePin:
    case kRouteGeo:
    case kRouteUser:
    case kRouteBulkPin:
    case kRouteBulkGeo:
    case kRouteBulkUser: {
      if (request.method != "POST") {
        http::Response r = Detail(405, "Method Not Allowed");
        r.headers.emplace_back("Allow", "POST");
        return r;
      }
      if (!Authorized(request)) {
        return ErrorResponse(Unauthenticated("missing or wrong bearer token"), 0);
      }
      if (draining_.load(std::memory_order_relaxed)) {
        return ErrorResponse(Unavailable("server is shutting down"), options_.retry_after_seconds);
      }
      // While the producer knows every broker is down, answer at once: waiting out the delivery
      // deadline would hold the client for seconds for the same 503 in the end.
      if (!producer_->Stats().brokers_up) {
        return ErrorResponse(Unavailable("kafka: no broker is reachable; nothing was stored"),
                             options_.retry_after_seconds);
      }
      return std::nullopt;
    }
    case kRouteUnknown: return Detail(404, "Not Found");
    default:
      if (request.method != "GET" && request.method != "HEAD") {
        http::Response r = Detail(405, "Method Not Allowed");
        r.headers.emplace_back("Allow", "GET");
        return r;
      }
      return std::nullopt;
  }
}

size_t IngestService::BodyLimit(Route route) const {
  switch (route) {
    case kRoutePin:
    case kRouteGeo:
    case kRouteUser: return options_.max_record_bytes;
    case kRouteBulkPin:
    case kRouteBulkGeo:
    case kRouteBulkUser: return options_.max_bulk_bytes;
    default: return 0;  // the GET routes take no body
  }
}

http::HeadDecision IngestService::OnHead(const http::Request& head) {
  const Clock::time_point start = Clock::now();
  const Route route = Classify(head.path);
  http::HeadDecision decision;
  decision.answer = Precheck(route, head);
  if (decision.answer) {
    CountRequest(route, start, decision.answer->status);
  } else {
    decision.max_body_bytes = BodyLimit(route);
  }
  return decision;
}

void IngestService::Handle(const http::Request& request, http::Responder respond) {
  const Clock::time_point start = Clock::now();
  const Route route = Classify(request.path);
  if (std::optional<http::Response> answer = Precheck(route, request)) {
    return Finish(route, start, respond, std::move(*answer));
  }
  switch (route) {
    case kRoutePin:
    case kRouteGeo:
    case kRouteUser:
      return HandleRecord(route, static_cast<RecordKind>(route), request, std::move(respond),
                          start);
    case kRouteBulkPin:
    case kRouteBulkGeo:
    case kRouteBulkUser:
      return HandleBulk(route, static_cast<RecordKind>(route - kRouteBulkPin), request,
                        std::move(respond), start);
    case kRouteHealthz: return Finish(route, start, respond, Json(200, R"({"status":"ok"})"));
    case kRouteReadyz: {
      kafka::ProducerStats stats = producer_->Stats();
      if (stats.brokers_up)
        return Finish(route, start, respond, Json(200, R"({"status":"ready","kafka":"up"})"));
      http::Response r = Json(503, R"({"status":"not ready","kafka":"down"})");
      r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteMetrics: {
      http::Response r = Json(200, registry_->Render());
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteOpenapi: return Finish(route, start, respond, Json(200, openapi_json_));
    case kRouteDocs: {
      http::Response r = Json(200, docs_html_);
      r.content_type = "text/html; charset=utf-8";
      return Finish(route, start, respond, std::move(r));
    }
    case kRouteRoot:
      return Finish(
          route, start, respond,
          Json(200,
               R"({"service":"pinpipe ingestion API","docs":"/docs","openapi":"/openapi.json"})"));
    default: return Finish(route, start, respond, Detail(404, "Not Found"));
  }
}

// One record waiting for Kafka: answered by its delivery report or at its deadline, whichever
// comes first (`answered` decides); the loser only counts.
struct IngestService::PendingRecord final : Expirable {
  PendingRecord(IngestService* s, Route r, size_t k, Clock::time_point t, http::Responder done,
                std::string a)
      : service(s), route(r), kind(k), start(t), respond(std::move(done)), answer(std::move(a)) {}

  bool Answered() const override { return answered.load(std::memory_order_acquire); }

  void Expire() override {
    if (answered.exchange(true, std::memory_order_acq_rel)) return;
    service->record_cells_[kind][kFailed]->Inc();
    service->Finish(
        route, start, respond,
        ErrorResponse(service->DeadlineStatus(), service->options_.retry_after_seconds));
  }

  void Deliver(const kafka::DeliveryResult& result) {
    service->produce_hist_[kind]->Observe(core::SecondsSince(produced_at));
    if (answered.exchange(true, std::memory_order_acq_rel)) {
      service->CountLateDelivery(kind, result.status.ok());
      return;
    }
    if (result.status.ok()) {
      service->record_cells_[kind][kAccepted]->Inc();
      service->Finish(route, start, respond, Json(200, std::move(answer)));
    } else {
      service->record_cells_[kind][kFailed]->Inc();
      service->Finish(
          route, start, respond,
          ErrorResponse(result.status.WithContext("kafka"), service->options_.retry_after_seconds));
    }
  }

  IngestService* const service;
  const Route route;
  const size_t kind;
  const Clock::time_point start;
  const http::Responder respond;
  std::string answer;  // the canonical record, sent on success
  Clock::time_point produced_at = Clock::now();
  std::atomic<bool> answered{false};
};

void IngestService::HandleRecord(Route route, RecordKind kind, const http::Request& request,
                                 http::Responder respond, Clock::time_point start) {
  const auto k = static_cast<size_t>(kind);
  if (request.body.size() > options_.max_record_bytes) {
    return Finish(
        route, start, respond,
        Detail(413, "record body is " + std::to_string(request.body.size()) +
                        " bytes; the limit is " + std::to_string(options_.max_record_bytes) +
                        " (use /batch/ for many records)"));
  }
  core::ValidatedRecord record;
  thread_local std::vector<FieldError> errors;
  errors.clear();
  if (!ThreadValidator().Validate(kind, request.body, &record, &errors)) {
    CountValidationErrors(kind, errors);
    record_cells_[k][kRejected]->Inc();
    Finish(route, start, respond, ValidationErrorResponse(errors));
    // A hostile record can produce thousands of errors; do not keep their memory per thread.
    if (errors.capacity() > 64) std::vector<FieldError>().swap(errors);
    return;
  }
  auto pending = std::make_shared<PendingRecord>(this, route, k, start, std::move(respond),
                                                 std::move(record.canonical_json));
  Status s = producer_->Produce(
      options_.topics[k], record.key, request.body,
      [pending](const kafka::DeliveryResult& result) { pending->Deliver(result); });
  if (!s.ok()) {
    // Fail-fast: the delivery callback will never run.
    pending->answered.store(true, std::memory_order_release);
    record_cells_[k][kFailed]->Inc();
    Finish(route, start, pending->respond,
           ErrorResponse(s.WithContext("kafka"), options_.retry_after_seconds));
    return;
  }
  deadlines_.Add(std::move(pending));
}

// A bulk request waiting for Kafka. Each item's status is written once: by the I/O thread while the
// bulk request is handed out (422, 413, fail-fast 503), or by the delivery thread. The answer is
// built once, by whoever comes first: the last delivery report (`remaining` reaches 0) or the
// deadline; both build it under `mu`, which also guards failure details written by the delivery
// thread.
struct IngestService::PendingBulk final : Expirable {
  PendingBulk(IngestService* s, Route r, size_t k, Clock::time_point t, http::Responder done,
              size_t n)
      : service(s),
        route(r),
        kind(k),
        start(t),
        respond(std::move(done)),
        items(n),
        status(new std::atomic<int>[n]),
        detail(n),
        remaining(n + 1) {  // +1: held by HandleBulk until every item is handed out
    for (size_t i = 0; i < n; ++i) status[i].store(0, std::memory_order_relaxed);
  }

  bool Answered() const override { return answered.load(std::memory_order_acquire); }

  void Expire() override { Answer(/*at_deadline=*/true); }

  // Drops one hold; the last one answers.
  void Release() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Answer(/*at_deadline=*/false);
  }

  void Deliver(size_t i, const kafka::DeliveryResult& result) {
    service->produce_hist_[kind]->Observe(core::SecondsSince(produced_at));
    if (answered.load(std::memory_order_acquire)) {
      service->CountLateDelivery(kind, result.status.ok());
    } else if (result.status.ok()) {
      status[i].store(200, std::memory_order_release);
    } else {
      std::string text;
      core::AppendJsonString("kafka: " + result.status.message(), &text);
      SetDetail(i, std::move(text));
      status[i].store(HttpStatusFor(result.status), std::memory_order_release);
    }
    Release();
  }

  // Item i's "detail" JSON. Per failed item only, so the (uncontended) lock costs nothing.
  void SetDetail(size_t i, std::string text) {
    core::MutexLock lock(mu);
    detail[i] = std::move(text);
  }

  void Answer(bool at_deadline) {
    core::MutexLock lock(mu);
    if (answered.exchange(true, std::memory_order_acq_rel)) return;
    std::string deadline_detail;
    if (at_deadline) core::AppendJsonString(service->DeadlineStatus().message(), &deadline_detail);
    size_t accepted = 0, rejected = 0, failed = 0;
    std::string results;
    results.reserve(items * 28);
    for (size_t i = 0; i < items; ++i) {
      int st = status[i].load(std::memory_order_acquire);
      std::string_view text = detail[i];
      if (st == 0) {  // not acknowledged by the deadline
        st = 503;
        text = deadline_detail;
      }
      if (st == 200) {
        ++accepted;
      } else if (st == 422 || st == 413) {
        ++rejected;
      } else {
        ++failed;
      }
      if (i) results += ',';
      results += "{\"position\":" + std::to_string(i) + ",\"status\":" + std::to_string(st);
      if (!text.empty()) {
        results += ",\"detail\":";
        results += text;
      }
      results += '}';
    }
    lock.Unlock();
    service->record_cells_[kind][kAccepted]->Inc(static_cast<int64_t>(accepted));
    service->record_cells_[kind][kRejected]->Inc(static_cast<int64_t>(rejected));
    service->record_cells_[kind][kFailed]->Inc(static_cast<int64_t>(failed));
    std::string body = "{\"accepted\":" + std::to_string(accepted) +
                       ",\"rejected\":" + std::to_string(rejected) +
                       ",\"failed\":" + std::to_string(failed) + ",\"results\":[";
    body += results;
    body += "]}";
    http::Response r = Json(200, std::move(body));
    if (failed > 0) {
      r.headers.emplace_back("Retry-After", std::to_string(service->options_.retry_after_seconds));
    }
    service->Finish(route, start, respond, std::move(r));
  }

  IngestService* const service;
  const Route route;
  const size_t kind;
  const Clock::time_point start;
  const http::Responder respond;
  const size_t items;
  std::unique_ptr<std::atomic<int>[]> status;  // per item: 0 (waiting), 200, 413, 422, 503, ...
  core::Mutex mu;
  std::vector<std::string> detail
      GUARDED_BY(mu);  // per item: JSON for "detail" (empty when none); see above
  std::atomic<size_t> remaining;
  std::atomic<bool> answered{false};
  Clock::time_point produced_at = Clock::now();
};

void IngestService::HandleBulk(Route route, RecordKind kind, const http::Request& request,
                               http::Responder respond, Clock::time_point start) {
  const auto k = static_cast<size_t>(kind);
  if (request.body.size() > options_.max_bulk_bytes) {
    return Finish(
        route, start, respond,
        Detail(413, "bulk request body is " + std::to_string(request.body.size()) +
                        " bytes; the limit is " + std::to_string(options_.max_bulk_bytes)));
  }
  StatusOr<BulkItems> split = SplitBulk(request.body, options_.max_bulk_items);
  if (!split.ok()) {
    if (split.status().code() == StatusCode::kResourceExhausted) {
      return Finish(route, start, respond, Detail(413, split.status().message()));
    }
    FieldError e{"", "JSON decode error: " + split.status().message(), "json_invalid"};
    return Finish(route, start, respond, ValidationErrorResponse(std::span(&e, 1)));
  }
  const std::vector<std::string_view>& items = split->items;
  auto bulk =
      std::make_shared<PendingBulk>(this, route, k, start, std::move(respond), items.size());

  core::RecordValidator& validator = ThreadValidator();
  core::ValidatedRecord record;
  std::vector<FieldError> errors;
  const std::string& topic = options_.topics[k];
  for (size_t i = 0; i < items.size(); ++i) {
    // An item is held to the single-record limit too (Kafka's message size is about that), and
    // the validator never sees (nor keeps buffers for) anything larger.
    if (items[i].size() > options_.max_record_bytes) {
      std::string text;
      core::AppendJsonString("record is " + std::to_string(items[i].size()) +
                                 " bytes; the limit is " +
                                 std::to_string(options_.max_record_bytes),
                             &text);
      bulk->SetDetail(i, std::move(text));
      bulk->status[i].store(413, std::memory_order_relaxed);
      bulk->Release();
      continue;
    }
    errors.clear();
    if (!validator.Validate(kind, items[i], &record, &errors)) {
      CountValidationErrors(kind, errors);
      std::string detail = "[";
      AppendErrorDetails(errors, "\"body\"," + std::to_string(i), &detail);
      detail += ']';
      bulk->SetDetail(i, std::move(detail));
      bulk->status[i].store(422, std::memory_order_relaxed);
      bulk->Release();
      continue;
    }
    Status s = producer_->Produce(
        topic, record.key, items[i],
        [bulk, i](const kafka::DeliveryResult& result) { bulk->Deliver(i, result); });
    if (!s.ok()) {
      std::string text;
      core::AppendJsonString("kafka: " + s.message(), &text);
      bulk->SetDetail(i, std::move(text));
      bulk->status[i].store(HttpStatusFor(s), std::memory_order_relaxed);
      bulk->Release();
    }
  }
  // The deadline counts from the last item handed to the producer, as each item's own
  // message.timeout.ms does. Added before the hold is released, so the queue may see an
  // answered bulk request (dropped) but never misses an unanswered one.
  deadlines_.Add(bulk);
  bulk->Release();
}

}  // namespace pinpipe::ingest
