// DashboardService: the dashboard's HTTP handler (routes.h): the page and its assets from the
// binary, /openapi.json, /healthz, /metrics, and the read-only JSON API under /api, answered
// from the AnswerCache (never by doing I/O on an HTTP thread), plus the server-sent events of
// /api/events.
//
// OnHead() (the server's HeadHandler) answers from the request line and headers what needs no
// body: 404 for an unknown path, 405 (Allow: GET, HEAD) for any other method, 401 (with
// WWW-Authenticate: Bearer) on /api/* without the bearer token when one is set; every other
// request gets a body limit of 0 (no route takes a body). Handle() makes the same checks, then
// 400/422 for bad query parameters ({"detail": "..."} naming the parameter), then the answer.
// API answers carry `Cache-Control: no-store` and `X-Pinpipe-Generated-At`; hashed asset names
// a year-long immutable cache lifetime, the page `no-cache`.
//
// Metrics (in the registry given): pinpipe_dashboard_requests_total{route,status} (route: the
// table's paths, "/assets/*" or "unknown": a closed set), pinpipe_dashboard_request_seconds{route}
// (until the answer; a first request for new parameters includes its computation), and the
// answer cache's hits, misses and size.
//
// Routes answered on demand (OnDemandHooks::handles: the analytics engine's, whose state any
// thread may read) never wait for the refresher: a request whose answer is missing or older than
// the engine's generation has it computed on the service's ComputeQueue (once per generation and
// key, however many clients ask; answer_cache.h, "On-demand entries"), never on the I/O thread,
// so cached answers are not held behind a computation. pinpipe_dashboard_compute_seconds and
// pinpipe_dashboard_compute_pending show those computations. Every other route is computed by
// the refresher.
//
// Thread-safety: OnHead and Handle run on the server's I/O threads, several at once; answers
// that wait for a computation are sent from the refresher thread or a compute worker. The
// service must outlive the server; StopComputing() (or the destructor) after the server stops.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "dashboard/answer_cache.h"
#include "dashboard/compute_queue.h"
#include "dashboard/event_hub.h"
#include "dashboard/refresher.h"
#include "dashboard/routes.h"
#include "http/server.h"

namespace pinpipe::dashboard {

struct ServiceOptions {
  std::string bearer_token;         // empty: /api is open
  std::vector<std::string> topics;  // the pipeline's topics (the peek's allowed values)
  int retry_after_seconds = 1;      // in 503 answers
  size_t compute_threads = 1;       // ComputeQueue workers for on-demand answers
};

struct OnDemandHooks {
  std::function<bool(RouteId)> handles;  // null: no route is on demand
  std::function<uint64_t()> generation;  // of the state the answers come from; any thread
  ComputeFn compute;                     // any thread, several at once
};

class DashboardService {
 public:
  DashboardService(ServiceOptions options, AnswerCache* cache, EventHub* events,
                   core::Registry* registry, OnDemandHooks on_demand = {});

  http::HeadDecision OnHead(const http::Request& head);
  void Handle(const http::Request& request, const http::Responder& respond);

  // The OpenAPI 3.1 document served at /openapi.json.
  const std::string& openapi_json() const { return openapi_json_; }
  // Waits for the on-demand computation running, drops the pending ones. After the server stops.
  void StopComputing() { compute_.Stop(); }

 private:
  using Clock = std::chrono::steady_clock;
  // The answer for what the head alone decides (404, 405, 401), or nullopt.
  std::optional<http::Response> Precheck(RouteId route, const http::Request& request) const;
  void Finish(RouteId route, Clock::time_point start, const http::Responder& respond,
              http::Response response);
  http::Response Static(RouteId route, const http::Request& request) const;
  void HandleEvents(RouteId route, Clock::time_point start, const http::Responder& respond);
  void HandleOnDemand(RouteId route, const Query& query, Clock::time_point start,
                      const http::Responder& respond);
  void RefuseFull(RouteId route, Clock::time_point start, const http::Responder& respond);

  const ServiceOptions options_;
  AnswerCache* cache_;
  EventHub* events_;
  core::Registry* registry_;
  const OnDemandHooks on_demand_;
  std::string openapi_json_;

  core::CounterFamily* requests_;
  std::array<core::Histogram*, static_cast<size_t>(RouteId::kCount)> seconds_{};
  // Per route and status code, filled lazily: a lock-free hot path.
  std::array<std::array<std::atomic<core::Counter*>, 600>, static_cast<size_t>(RouteId::kCount)>
      cells_{};
  core::Histogram* compute_seconds_;
  ComputeQueue compute_;  // last: its workers stop before the members they use go
};

// {"detail": "<message>"} with `status`.
http::Response DetailResponse(int status, std::string_view detail);

}  // namespace pinpipe::dashboard
