// The dashboard's routes and their query parameters: one table, from which the server routes and
// validates requests and /openapi.json is generated (so the documentation cannot drift from what
// the server accepts). The JSON bodies are those of /work/notes/dashboard_api.md (docs/design.md,
// "Dashboard").
//
// ParseQuery() checks a request's query string against its route: percent-decoding ('+' is a
// space), each parameter at most once, every value well formed for its kind, no parameter the
// route does not take. Errors carry the HTTP status the server answers with and a message that
// names the parameter:
//   400  malformed: bad percent-encoding, a parameter given twice, a day that is not a real
//        YYYY-MM-DD, a number that is not a number, text over 200 bytes, not UTF-8 or with
//        control characters;
//   422  well formed but not allowed: an unknown parameter, a window or age group not in the
//        list, a topic that is not one of the pipeline's, a number out of range, `from` after
//        `to`, a required parameter missing.
// An empty value is an absent one. Defaults are filled in (window=5m, limit=20), so the
// canonical key of a query (the answer cache's key) is the same however the client spelled it.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::dashboard {

enum class RouteId : uint8_t {
  kIndex,
  kAsset,
  kOpenapi,
  kHealthz,
  kMetrics,
  kOverview,
  kThroughput,
  kKafka,
  kKafkaMessages,
  kFreshness,
  kLambda,
  kAnalytics,
  kFilters,
  kQuality,
  kScheduler,
  kSchedulerLog,
  kEvents,
  kUnknown,
  kCount,
};

enum class ParamKind : uint8_t {
  kWindow,     // 5m | 1h | 24h
  kDay,        // YYYY-MM-DD
  kText,       // free text (a category, a country): <= 200 bytes of UTF-8, no control characters
  kAgeGroup,   // 18-24 | 25-35 | 36-50 | 50+
  kTopic,      // one of the pipeline's topics
  kPartition,  // integer >= 0
  kLimit,      // integer 1..100
  kTry,        // integer >= 1
  kId,         // an identifier (dag, run, task): 1..256 bytes, UTF-8, no control characters
};

struct ParamSpec {
  std::string_view name;
  ParamKind kind;
  bool required = false;
  std::string_view default_value;  // filled in when absent ("" = none)
  std::string_view description;
};

struct RouteSpec {
  RouteId id;
  std::string_view path;  // exact path; kAsset matches the prefix "/assets/"
  bool api = false;       // under /api: bearer token, answer cache, Cache-Control no-store
  std::string_view summary;
  std::string_view description;
  std::string_view content_type;     // of the 200 answer
  std::string_view response_schema;  // JSON Schema of the 200 body (for /openapi.json)
  std::vector<ParamSpec> params;
};

// Every route, in documentation order (kUnknown excluded).
std::span<const RouteSpec> Routes();
const RouteSpec& RouteFor(RouteId id);
// The route of a request path; kUnknown when none matches.
RouteId ClassifyPath(std::string_view path);
// The route's name as a metric label: its path ("/assets/*" for assets, "unknown").
std::string_view RouteLabel(RouteId id);

// The age groups of the analytics (the order the page shows them in).
inline constexpr std::array<std::string_view, 4> kAgeGroupNames = {"18-24", "25-35", "36-50",
                                                                   "50+"};

// A request's parameters, validated, with defaults filled in.
struct Query {
  RouteId route = RouteId::kUnknown;
  std::vector<std::optional<std::string>> values;  // aligned with RouteFor(route).params
  std::string key;  // canonical: path?name=value&... in the table's order, for present values

  // The value of parameter `name` (nullopt when absent or not a parameter of the route).
  std::optional<std::string_view> Get(std::string_view name) const;
};

struct QueryError {
  int status = 400;    // 400 or 422
  std::string detail;  // names the parameter
};

struct QueryResult {
  std::optional<Query> query;
  std::optional<QueryError> error;  // set when query is not
};

// `topics`: the pipeline's topics (kTopic values must be one of them).
QueryResult ParseQuery(RouteId route, std::string_view raw_query,
                       std::span<const std::string> topics);

// Percent-decodes a query component ('+' is a space). nullopt for a bad escape.
std::optional<std::string> DecodeQueryComponent(std::string_view text);

}  // namespace pinpipe::dashboard
