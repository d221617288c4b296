#include "dashboard/dashboard_service.h"

#include "core/elapsed.h"
#include "core/json_writer.h"
#include "dashboard/asset_lookup.h"
#include "dashboard/openapi.h"
#include "http/bearer_auth.h"

namespace pinpipe::dashboard {
namespace {

constexpr std::string_view kJson = "application/json; charset=utf-8";
constexpr std::string_view kNoStore = "no-store";

http::Response FromAnswer(const Answer& answer) {
  http::Response r;
  r.status = answer.status;
  r.content_type = answer.content_type;
  r.body = answer.body;
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  r.headers.emplace_back("X-Pinpipe-Generated-At", answer.generated_at);
  return r;
}

}  // namespace

http::Response DetailResponse(int status, std::string_view detail) {
  http::Response r;
  r.status = status;
  r.content_type = std::string(kJson);
  core::JsonWriter json(&r.body);
  json.BeginObject().Key("detail").String(detail).EndObject();
  return r;
}

DashboardService::DashboardService(ServiceOptions options, AnswerCache* cache, EventHub* events,
                                   core::Registry* registry, OnDemandHooks on_demand)
    : options_(std::move(options)),
      cache_(cache),
      events_(events),
      registry_(registry),
      on_demand_(std::move(on_demand)),
      compute_(options_.compute_threads) {
  openapi_json_ = BuildDashboardOpenApi(!options_.bearer_token.empty(), options_.topics);
  requests_ =
      registry_->AddCounter("pinpipe_dashboard_requests_total",
                            "HTTP requests answered, by route and status", {"route", "status"});
  core::HistogramFamily* seconds = registry_->AddHistogram(
      "pinpipe_dashboard_request_seconds",
      "Time from a complete request to its answer (a first request for new parameters waits "
      "for their computation)",
      {"route"}, core::LatencyBuckets());
  for (size_t r = 0; r < seconds_.size(); ++r) {
    seconds_[r] = seconds->With({std::string(RouteLabel(static_cast<RouteId>(r)))});
  }
  compute_seconds_ =
      registry_
          ->AddHistogram("pinpipe_dashboard_compute_seconds",
                         "Duration of the on-demand computations (the analytics engine's answers)",
                         {}, core::LatencyBuckets())
          ->With({});
  registry_->AddGauge("pinpipe_dashboard_compute_pending",
                      "On-demand computations waiting for a compute worker",
                      [this] { return static_cast<double>(compute_.pending()); });
  registry_->AddCounterFunction("pinpipe_dashboard_cache_hits_total",
                                "API requests answered from the cache at once",
                                [cache] { return static_cast<double>(cache->stats().hits); });
  registry_->AddCounterFunction(
      "pinpipe_dashboard_cache_misses_total",
      "API requests for parameters without an answer yet (each queued one computation)",
      [cache] { return static_cast<double>(cache->stats().misses); });
  registry_->AddCounterFunction(
      "pinpipe_dashboard_cache_joined_total",
      "API requests that waited for a computation another request had queued",
      [cache] { return static_cast<double>(cache->stats().joined); });
  registry_->AddCounterFunction("pinpipe_dashboard_cache_refused_total",
                                "API requests refused (503) because the cache was full of "
                                "entries waiting for a first answer",
                                [cache] { return static_cast<double>(cache->stats().refused); });
  registry_->AddGauge("pinpipe_dashboard_cache_entries", "Answers held in the cache",
                      [cache] { return static_cast<double>(cache->stats().entries); });
  registry_->AddGauge("pinpipe_dashboard_cache_bytes", "Bytes of the answers held in the cache",
                      [cache] { return static_cast<double>(cache->stats().bytes); });
  registry_->AddGauge("pinpipe_dashboard_event_streams", "Open /api/events streams",
                      [events] { return static_cast<double>(events->subscribers()); });
}

std::optional<http::Response> DashboardService::Precheck(RouteId route,
                                                         const http::Request& request) const {
  if (route == RouteId::kUnknown) return DetailResponse(404, "Not Found");
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = DetailResponse(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (RouteFor(route).api && !http::BearerTokenMatches(request, options_.bearer_token)) {
    http::Response r = DetailResponse(401, "missing or wrong bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return std::nullopt;
}

http::HeadDecision DashboardService::OnHead(const http::Request& head) {
  const Clock::time_point start = Clock::now();
  const RouteId route = ClassifyPath(head.path);
  http::HeadDecision decision;
  decision.answer = Precheck(route, head);
  if (decision.answer) {
    const int status = decision.answer->status;
    const size_t r = static_cast<size_t>(route);
    core::Counter* counter = cells_[r][static_cast<size_t>(status)].load();
    if (counter == nullptr) {
      counter = requests_->With({std::string(RouteLabel(route)), std::to_string(status)});
      cells_[r][static_cast<size_t>(status)].store(counter);
    }
    counter->Inc();
    seconds_[r]->Observe(core::SecondsSince(start));
  } else {
    decision.max_body_bytes = 0;  // no route takes a body
  }
  return decision;
}

void DashboardService::Finish(RouteId route, Clock::time_point start,
                              const http::Responder& respond, http::Response response) {
  const size_t r = static_cast<size_t>(route);
  const int status = response.status;
  if (status >= 0 && status < 600) {
    auto& cell = cells_[r][static_cast<size_t>(status)];
    core::Counter* counter = cell.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter = requests_->With({std::string(RouteLabel(route)), std::to_string(status)});
      cell.store(counter, std::memory_order_release);
    }
    counter->Inc();
  }
  seconds_[r]->Observe(core::SecondsSince(start));
  respond(std::move(response));
}

http::Response DashboardService::Static(RouteId route, const http::Request& request) const {
  switch (route) {
    case RouteId::kIndex: {
      const Asset* page = FindAsset("/");
      if (page == nullptr) return DetailResponse(404, "this binary has no page");
      http::Response r;
      r.content_type = std::string(page->content_type);
      r.body = std::string(page->body);
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    case RouteId::kAsset: {
      const std::string_view name = request.path;  // "/assets/..."
      const Asset* asset = FindAsset(name);
      if (asset == nullptr) return DetailResponse(404, "no such asset");
      http::Response r;
      r.content_type = std::string(asset->content_type);
      r.body = std::string(asset->body);
      r.headers.emplace_back("Cache-Control", IsHashedAssetName(name)
                                                  ? "public, max-age=31536000, immutable"
                                                  : "no-cache");
      return r;
    }
    case RouteId::kOpenapi: {
      http::Response r;
      r.content_type = std::string(kJson);
      r.body = openapi_json_;
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    case RouteId::kHealthz: {
      http::Response r;
      r.content_type = std::string(kJson);
      r.body = R"({"status":"ok"})";
      r.headers.emplace_back("Cache-Control", std::string(kNoStore));
      return r;
    }
    case RouteId::kMetrics: {
      http::Response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = registry_->Render();
      r.headers.emplace_back("Cache-Control", std::string(kNoStore));
      return r;
    }
    default: return DetailResponse(404, "Not Found");
  }
}

void DashboardService::HandleEvents(RouteId route, Clock::time_point start,
                                    const http::Responder& respond) {
  if (events_->Full()) {
    http::Response r = DetailResponse(503, "too many open event streams; poll instead");
    r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
    return Finish(route, start, respond, std::move(r));
  }
  http::Response r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  r.headers.emplace_back("X-Accel-Buffering", "no");
  EventHub* events = events_;
  r.on_stream = [events](const std::shared_ptr<http::StreamSink>& sink) {
    if (!events->Add(sink)) sink->Close();  // filled up meanwhile
  };
  Finish(route, start, respond, std::move(r));
}

void DashboardService::Handle(const http::Request& request, const http::Responder& respond) {
  const Clock::time_point start = Clock::now();
  const RouteId route = ClassifyPath(request.path);
  if (std::optional<http::Response> answer = Precheck(route, request)) {
    return Finish(route, start, respond, std::move(*answer));
  }
  const RouteSpec& spec = RouteFor(route);
  if (!spec.api) return Finish(route, start, respond, Static(route, request));
  QueryResult parsed = ParseQuery(route, request.query, options_.topics);
  if (parsed.error) {
    http::Response r = DetailResponse(parsed.error->status, parsed.error->detail);
    r.headers.emplace_back("Cache-Control", std::string(kNoStore));
    return Finish(route, start, respond, std::move(r));
  }
  if (route == RouteId::kEvents) return HandleEvents(route, start, respond);
  if (on_demand_.handles && on_demand_.handles(route)) {
    return HandleOnDemand(route, *parsed.query, start, respond);
  }
  std::shared_ptr<const Answer> answer;
  // The waiter runs on the refresher thread when the first answer is ready; it holds the
  // responder (which outlives the server safely) and this service (which outlives the server).
  auto waiter = [this, route, start, respond](const std::shared_ptr<const Answer>& ready) {
    Finish(route, start, respond, FromAnswer(*ready));
  };
  switch (cache_->Get(*parsed.query, start, waiter, &answer)) {
    case AnswerCache::Lookup::kHit: return Finish(route, start, respond, FromAnswer(*answer));
    case AnswerCache::Lookup::kJoined:
    case AnswerCache::Lookup::kFirstMiss: return;  // the waiter answers
    case AnswerCache::Lookup::kFull: return RefuseFull(route, start, respond);
  }
}

void DashboardService::HandleOnDemand(RouteId route, const Query& query, Clock::time_point start,
                                      const http::Responder& respond) {
  const uint64_t generation = on_demand_.generation();
  std::shared_ptr<const Answer> answer;
  // A joined request is answered by the thread of the request that computes.
  auto waiter = [this, route, start, respond](const std::shared_ptr<const Answer>& ready) {
    Finish(route, start, respond, FromAnswer(*ready));
  };
  switch (cache_->ClaimOnDemand(query, start, generation, waiter, &answer)) {
    case AnswerCache::Claim::kHit: return Finish(route, start, respond, FromAnswer(*answer));
    case AnswerCache::Claim::kJoined: return;
    case AnswerCache::Claim::kCompute: {
      auto task = [this, route, start, respond, query, generation] {
        const Clock::time_point began = Clock::now();
        auto computed = std::make_shared<const Answer>(ComputeAnswer(on_demand_.compute, query));
        compute_seconds_->Observe(core::SecondsSince(began));
        cache_->PublishClaimed(query, generation, computed);
        Finish(route, start, respond, FromAnswer(*computed));
      };
      if (!compute_.Post(std::move(task))) {
        Finish(route, start, respond, DetailResponse(503, "the dashboard is stopping"));
      }
      return;
    }
    case AnswerCache::Claim::kFull: return RefuseFull(route, start, respond);
  }
}

void DashboardService::RefuseFull(RouteId route, Clock::time_point start,
                                  const http::Responder& respond) {
  http::Response r =
      DetailResponse(503, "too many different requests are waiting for a first answer; retry");
  r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_seconds));
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  Finish(route, start, respond, std::move(r));
}

}  // namespace pinpipe::dashboard
