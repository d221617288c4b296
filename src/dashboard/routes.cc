#include "dashboard/routes.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "core/utf8_text.h"

namespace pinpipe::dashboard {
namespace {

constexpr size_t kMaxTextBytes = 200;
constexpr size_t kMaxIdBytes = 256;

// JSON Schema fragments of the answers (OpenAPI 3.1 uses JSON Schema 2020-12).
#define PP_NUM_OR_NULL R"({"type":["number","null"]})"
#define PP_INT_OR_NULL R"({"type":["integer","null"]})"
#define PP_STR_OR_NULL R"({"type":["string","null"]})"
#define PP_TIME R"({"type":"string","format":"date-time"})"
#define PP_DAY_OR_NULL R"({"type":["string","null"],"format":"date"})"
#define PP_NUM_ARRAY R"({"type":"array","items":{"type":["number","null"]}})"
#define PP_GENERATED \
  R"("generated_at":{"type":"string","format":"date-time","description":"When the server computed this answer"})"

const std::vector<RouteSpec>& Table() {
  static const auto* table = new std::vector<RouteSpec>{
      {RouteId::kIndex,
       "/",
       false,
       "The dashboard page",
       "The single-page dashboard (HTML); its scripts and styles come from /assets/.",
       "text/html; charset=utf-8",
       R"({"type":"string"})",
       {}},
      {RouteId::kAsset,
       "/assets/{name}",
       false,
       "A bundled script, style or image",
       "Served from the binary. Names with a content hash (name-HASH.ext) are immutable and "
       "cached for a year.",
       "application/octet-stream",
       R"({"type":"string"})",
       {}},
      {RouteId::kOpenapi,
       "/openapi.json",
       false,
       "This document",
       "",
       "application/json",
       R"({"type":"object"})",
       {}},
      {RouteId::kHealthz,
       "/healthz",
       false,
       "The process is up",
       "",
       "application/json",
       R"({"type":"object","properties":{"status":{"const":"ok"}}})",
       {}},
      {RouteId::kMetrics,
       "/metrics",
       false,
       "The dashboard's own Prometheus metrics",
       "Requests by route and status, answer-cache hits and misses, refresh durations, sizes "
       "held in memory.",
       "text/plain; version=0.0.4",
       R"({"type":"string"})",
       {}},
      {RouteId::kOverview,
       "/api/overview",
       true,
       "Health of every stage",
       "One tile per stage (api, kafka, speed, archiver, scheduler, batch): up, current rate, "
       "seconds since the stage last did work, a stale flag with its reason, restarts counted by "
       "the supervisor; and the state of each source the dashboard reads.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"stages":{"type":"array","items":{"type":"object","properties":{"stage":{"enum":["api","kafka","speed","archiver","scheduler","batch"]},"up":{"type":"boolean"},"rate":)" PP_NUM_OR_NULL
       R"(,"rate_unit":{"type":"string"},"last_activity_s":)" PP_NUM_OR_NULL
       R"(,"stale":{"type":"boolean"},"stale_reason":)" PP_STR_OR_NULL
       R"(,"restarts":)" PP_INT_OR_NULL
       R"(,"detail":{"type":"string"}}}},"sources":{"type":"array","items":{"type":"object","properties":{"source":{"type":"string"},"ok":{"type":"boolean"},"error":)" PP_STR_OR_NULL
       R"(,"last_ok":)" PP_STR_OR_NULL R"(}}}}})",
       {{"window", ParamKind::kWindow, false, "5m", "Time window of the rates (5m, 1h, 24h)"}}},
      {RouteId::kThroughput,
       "/api/throughput",
       true,
       "Ingest rates and latency over time",
       "Per point of the window: records accepted, rejected (422) and answered 503 per second by "
       "the API, its latency p50/p99 in ms over the record routes (from its histogram buckets, "
       "per point), and rows per second stored by the speed layer.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"t":{"type":"array","items":{"type":"number"},"description":"Unix seconds"},"series":{"type":"object","properties":{"accepted":)" PP_NUM_ARRAY
       R"(,"rejected":)" PP_NUM_ARRAY R"(,"unavailable":)" PP_NUM_ARRAY
       R"(,"latency_p50_ms":)" PP_NUM_ARRAY R"(,"latency_p99_ms":)" PP_NUM_ARRAY
       R"(,"rows_per_s":)" PP_NUM_ARRAY R"(}}}})",
       {{"window", ParamKind::kWindow, false, "5m",
         "5m (every refresh), 1h (15 s points), 24h (5 min points)"}}},
      {RouteId::kKafka,
       "/api/kafka",
       true,
       "Topics, partitions and consumer lag",
       "Per topic and partition the high watermark and the production rate (records/s over the "
       "last minute); per consumer group of the pipeline its committed offsets and lag (from "
       "Kafka's group offsets, as lag tools see them); the total lag per group over the window.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"topics":{"type":"array","items":{"type":"object","properties":{"topic":{"type":"string"},"partition":{"type":"integer"},"high_watermark":{"type":"integer"},"rate":)" PP_NUM_OR_NULL
       R"(}}},"consumers":{"type":"array","items":{"type":"object","properties":{"group":{"type":"string"},"topic":{"type":"string"},"partition":{"type":"integer"},"committed":)" PP_INT_OR_NULL
       R"(,"lag":)" PP_INT_OR_NULL
       R"(}}},"lag_series":{"type":"object","properties":{"t":{"type":"array"},"series":{"type":"object","additionalProperties":)" PP_NUM_ARRAY
       R"(}}}}})",
       {{"window", ParamKind::kWindow, false, "5m", "Time window of lag_series"}}},
      {RouteId::kKafkaMessages,
       "/api/kafka/messages",
       true,
       "The newest messages of a topic",
       "Read-only peek (no consumer group, no commit), newest first: key, offset, timestamp and "
       "value (invalid UTF-8 replaced by U+FFFD, at most 4096 bytes; value_bytes is the full "
       "size).",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"messages":{"type":"array","items":{"type":"object","properties":{"topic":{"type":"string"},"partition":{"type":"integer"},"offset":{"type":"integer"},"key":)" PP_STR_OR_NULL
       R"(,"timestamp":)" PP_STR_OR_NULL
       R"(,"value":{"type":"string"},"value_bytes":{"type":"integer"},"truncated":{"type":"boolean"}}}}}})",
       {{"topic", ParamKind::kTopic, true, "", "One of the pipeline's topics"},
        {"partition", ParamKind::kPartition, false, "", "One partition (default: all)"},
        {"limit", ParamKind::kLimit, false, "20", "How many messages, 1 to 100"}}},
      {RouteId::kFreshness,
       "/api/freshness",
       true,
       "How fresh the data is",
       "API acknowledgement (Kafka CreateTime) to row visible in PostgreSQL, p50/p99 over the "
       "window and per point; per table its layer, rows (speed layer: PostgreSQL's live-row "
       "estimate; batch layer: rows loaded, from its load bookkeeping) and data as of (speed: "
       "the last commit of its topic's offsets; batch: the end of the last loaded day); the last "
       "day the archiver sealed and the last day the batch layer loaded.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"ack_to_visible_ms":{"type":"object","properties":{"p50":)" PP_NUM_OR_NULL
       R"(,"p99":)" PP_NUM_OR_NULL
       R"(}},"series":{"type":"object","properties":{"t":{"type":"array"},"p50":)" PP_NUM_ARRAY
       R"(,"p99":)" PP_NUM_ARRAY
       R"(}},"tables":{"type":"array","items":{"type":"object","properties":{"table":{"type":"string"},"layer":{"enum":["speed","batch"]},"rows":)" PP_INT_OR_NULL
       R"(,"data_as_of":)" PP_STR_OR_NULL R"(}}},"last_sealed_day":)" PP_DAY_OR_NULL
       R"(,"last_loaded_day":)" PP_DAY_OR_NULL R"(}})",
       {{"window", ParamKind::kWindow, false, "5m", "Time window of the latency"}}},
      {RouteId::kLambda,
       "/api/lambda",
       true,
       "The merged view: batch, speed and the boundary",
       "Rows per day and kind in each layer and in the merged view, and the reconciliation of "
       "batch and speed rows on loaded days (from serving.layer_days and serving.reconciliation, "
       "which read whole tables: recomputed at most every --slow-refresh-interval, 60 s, see "
       "counts_as_of); pin counts of the merged view are live (the analytics engine).",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED R"(,"boundary":)" PP_DAY_OR_NULL
       R"(,"counts_as_of":)" PP_STR_OR_NULL
       R"(,"days":{"type":"array","items":{"type":"object","properties":{"dt":{"type":"string","format":"date"},"kind":{"enum":["pin","geo","user"]},"batch_rows":{"type":"integer"},"speed_rows":{"type":"integer"},"merged_batch":{"type":"integer"},"merged_speed":{"type":"integer"}}}},)"
       R"("reconciliation":{"type":"array","items":{"type":"object","properties":{"dt":{"type":"string","format":"date"},"kind":{"type":"string"},"batch_rows":{"type":"integer"},"speed_rows":{"type":"integer"},"difference":{"type":"integer"},"only_batch":{"type":"integer"},"only_speed":{"type":"integer"}}}}}})",
       {{"from", ParamKind::kDay, false, "", "First day (the row's event day dt), inclusive"},
        {"to", ParamKind::kDay, false, "", "Last day, inclusive"}}},
      {RouteId::kAnalytics,
       "/api/analytics",
       true,
       "The 8 analytics questions",
       "Over the merged view (batch + speed), with the shared filters; tables, columns and row "
       "order equal the SQL views serving.q1_... to serving.q8_...; ties are rows.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED R"(,"boundary":)" PP_DAY_OR_NULL
       R"(,"as_of":{"type":"object"},"tables":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"title":{"type":"string"},"columns":{"type":"array","items":{"type":"string"}},"rows":{"type":"array","items":{"type":"array"}}}}}}})",
       {{"from", ParamKind::kDay, false, "", "First day (the post's event day dt), inclusive"},
        {"to", ParamKind::kDay, false, "", "Last day, inclusive"},
        {"category", ParamKind::kText, false, "", "One category"},
        {"country", ParamKind::kText, false, "", "One country"},
        {"age_group", ParamKind::kAgeGroup, false, "", "18-24, 25-35, 36-50 or 50+"}}},
      {RouteId::kFilters,
       "/api/filters",
       true,
       "Values the filters can take",
       "Categories, countries and age groups present in the merged view, and its first and last "
       "day.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"categories":{"type":"array","items":{"type":"string"}},"countries":{"type":"array","items":{"type":"string"}},"age_groups":{"type":"array","items":{"type":"string"}},"days":{"type":"object","properties":{"min":)" PP_DAY_OR_NULL
       R"(,"max":)" PP_DAY_OR_NULL R"(}}}})",
       {}},
      {RouteId::kQuality,
       "/api/quality",
       true,
       "Data quality",
       "Validation failures at the API by kind, field and error type (increase over the window); "
       "the speed layer's dead letters (count, and the newest with their raw bytes: invalid "
       "UTF-8 replaced, at most 2048 bytes); rows dropped by rule (speed layer: over the window, "
       "from its counters; batch layer: over all loaded days, from its quality reports); records "
       "the archiver received for days it had already sealed (over the window).",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"validation_failures":{"type":"array","items":{"type":"object","properties":{"kind":{"type":"string"},"field":{"type":"string"},"type":{"type":"string"},"count":{"type":"integer"}}}},)"
       R"("dead_letters":{"type":"object","properties":{"count":)" PP_INT_OR_NULL
       R"(,"latest":{"type":"array","items":{"type":"object","properties":{"at":{"type":"string"},"stage":{"type":"string"},"topic":{"type":"string"},"partition":{"type":"integer"},"offset":{"type":"integer"},"reason":{"type":"string"},"raw":{"type":"string"},"raw_bytes":{"type":"integer"}}}}}},)"
       R"("dropped":{"type":"array","items":{"type":"object","properties":{"layer":{"enum":["speed","batch"]},"rule":{"type":"string"},"count":{"type":"integer"}}}},)"
       R"("late_records":{"type":"array","items":{"type":"object","properties":{"topic":{"type":"string"},"count":{"type":"integer"}}}}}})",
       {{"window", ParamKind::kWindow, false, "5m", "Time window of the counts"}}},
      {RouteId::kScheduler,
       "/api/scheduler",
       true,
       "Scheduler runs and tasks",
       "DAGs, and the runs whose logical date (interval start) is in [from, to] (default: the "
       "last 14 days; at most 500 runs, newest first) with their tasks; backfill progress and "
       "SLA misses over the same runs.",
       "application/json",
       R"({"type":"object","properties":{)" PP_GENERATED
       R"(,"dags":{"type":"array","items":{"type":"object","properties":{"dag_id":{"type":"string"},"paused":{"type":"boolean"},"schedule":)" PP_STR_OR_NULL
       R"(}}},"runs":{"type":"array","items":{"type":"object","properties":{"dag_id":{"type":"string"},"run_id":{"type":"string"},"kind":{"type":"string"},"logical_date":)" PP_TIME
       R"(,"state":{"type":"string"},"started_at":)" PP_STR_OR_NULL R"(,"ended_at":)" PP_STR_OR_NULL
       R"(,"sla_missed":{"type":"boolean"},"tasks":{"type":"array","items":{"type":"object","properties":{"task_id":{"type":"string"},"state":{"type":"string"},"tries":{"type":"integer"},"started_at":)" PP_STR_OR_NULL
       R"(,"ended_at":)" PP_STR_OR_NULL R"(,"duration_s":)" PP_NUM_OR_NULL R"(}}}}}},)"
       R"("backfill":{"type":"object","properties":{"total":{"type":"integer"},"done":{"type":"integer"},"running":{"type":"integer"},"failed":{"type":"integer"}}},"sla_misses":{"type":"integer"}}})",
       {{"from", ParamKind::kDay, false, "", "First logical day, inclusive"},
        {"to", ParamKind::kDay, false, "", "Last logical day, inclusive"}}},
      {RouteId::kSchedulerLog,
       "/api/scheduler/log",
       true,
       "A task try's log",
       "The output of one try of a task (default: its latest try), as text: invalid UTF-8 "
       "replaced by U+FFFD, the last 1 MiB when longer (the first line then says so).",
       "text/plain; charset=utf-8",
       R"({"type":"string"})",
       {{"dag_id", ParamKind::kId, true, "", "The DAG"},
        {"run_id", ParamKind::kId, true, "", "The run"},
        {"task_id", ParamKind::kId, true, "", "The task"},
        {"try", ParamKind::kTry, false, "", "The try number (default: the latest)"}}},
      {RouteId::kEvents,
       "/api/events",
       true,
       "Live updates (server-sent events)",
       "text/event-stream: `event: refresh` with data {\"version\":n,\"generated_at\":...} each "
       "time the server's cache has new answers (at most once per refresh interval); a comment "
       "line every 15 s as keep-alive. Fetch the endpoints you show when one arrives.",
       "text/event-stream",
       R"({"type":"string"})",
       {}},
  };
  return *table;
}

#undef PP_NUM_OR_NULL
#undef PP_INT_OR_NULL
#undef PP_STR_OR_NULL
#undef PP_TIME
#undef PP_DAY_OR_NULL
#undef PP_NUM_ARRAY
#undef PP_GENERATED

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7F;
  });
}

// Parses a non-negative decimal integer; nullopt if `text` is not one (leading '+' and spaces
// included). A leading '-' with digits is well formed (so "negative" is a range error).
std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Checks one value; the error (status, detail) when it is not allowed.
std::optional<QueryError> CheckValue(const ParamSpec& spec, const std::string& value,
                                     std::span<const std::string> topics) {
  auto bad = [&](int status, std::string why) {
    return QueryError{status, fmt::format("{}: {}", spec.name, why)};
  };
  auto quoted = [](std::string_view v) {
    // The value is shown in the message; keep it short and printable.
    core::ShownText shown = core::ShowableText(v, 64);
    std::string out = "\"" + shown.text + (shown.truncated ? "..." : "") + "\"";
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return out;
  };
  switch (spec.kind) {
    case ParamKind::kWindow:
      if (value != "5m" && value != "1h" && value != "24h") {
        return bad(422, fmt::format("must be one of 5m, 1h, 24h (got {})", quoted(value)));
      }
      return std::nullopt;
    case ParamKind::kDay:
      if (value.size() != 10 || !core::ParseDate(value)) {
        return bad(400, fmt::format("expected a day YYYY-MM-DD (got {})", quoted(value)));
      }
      return std::nullopt;
    case ParamKind::kText:
      if (value.size() > kMaxTextBytes)
        return bad(400, fmt::format("longer than {} bytes", kMaxTextBytes));
      if (!core::IsValidUtf8(value)) return bad(400, "not valid UTF-8");
      if (HasControl(value)) return bad(400, "holds control characters");
      return std::nullopt;
    case ParamKind::kAgeGroup:
      if (std::find(kAgeGroupNames.begin(), kAgeGroupNames.end(), value) == kAgeGroupNames.end()) {
        return bad(422,
                   fmt::format("must be one of 18-24, 25-35, 36-50, 50+ (got {})", quoted(value)));
      }
      return std::nullopt;
    case ParamKind::kTopic:
      if (std::find(topics.begin(), topics.end(), value) == topics.end()) {
        std::string list;
        for (const std::string& t : topics) list += (list.empty() ? "" : ", ") + t;
        return bad(422, fmt::format("must be one of the pipeline's topics: {} (got {})", list,
                                    quoted(value)));
      }
      return std::nullopt;
    case ParamKind::kPartition:
    case ParamKind::kLimit:
    case ParamKind::kTry: {
      std::optional<int64_t> n = ParseInteger(value);
      if (!n) return bad(400, fmt::format("expected an integer (got {})", quoted(value)));
      const int64_t min = spec.kind == ParamKind::kPartition ? 0 : 1;
      const int64_t max =
          spec.kind == ParamKind::kLimit ? 100 : std::numeric_limits<int32_t>::max();
      if (*n < min || *n > max) {
        return bad(422, fmt::format("must be between {} and {} (got {})", min, max, *n));
      }
      return std::nullopt;
    }
    case ParamKind::kId:
      if (value.size() > kMaxIdBytes)
        return bad(400, fmt::format("longer than {} bytes", kMaxIdBytes));
      if (!core::IsValidUtf8(value)) return bad(400, "not valid UTF-8");
      if (HasControl(value)) return bad(400, "holds control characters");
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::span<const RouteSpec> Routes() { return Table(); }

const RouteSpec& RouteFor(RouteId id) {
  for (const RouteSpec& r : Table()) {
    if (r.id == id) return r;
  }
  static const RouteSpec unknown{RouteId::kUnknown, "", false, "", "", "", "", {}};
  return unknown;
}

RouteId ClassifyPath(std::string_view path) {
  if (path.starts_with("/assets/") && path.size() > 8) return RouteId::kAsset;
  for (const RouteSpec& r : Table()) {
    if (r.id != RouteId::kAsset && r.path == path) return r.id;
  }
  return RouteId::kUnknown;
}

std::string_view RouteLabel(RouteId id) {
  if (id == RouteId::kAsset) return "/assets/*";
  if (id == RouteId::kUnknown) return "unknown";
  return RouteFor(id).path;
}

std::optional<std::string_view> Query::Get(std::string_view name) const {
  const RouteSpec& spec = RouteFor(route);
  for (size_t i = 0; i < spec.params.size() && i < values.size(); ++i) {
    if (spec.params[i].name == name) {
      if (!values[i]) return std::nullopt;
      return std::string_view(*values[i]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> DecodeQueryComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

QueryResult ParseQuery(RouteId route, std::string_view raw_query,
                       std::span<const std::string> topics) {
  const RouteSpec& spec = RouteFor(route);
  Query query;
  query.route = route;
  query.values.assign(spec.params.size(), std::nullopt);
  std::vector<bool> seen(spec.params.size(), false);
  auto fail = [](int status, std::string detail) {
    return QueryResult{std::nullopt, QueryError{status, std::move(detail)}};
  };
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view pair = raw_query.substr(start, end - start);
    start = end + 1;
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::optional<std::string> name = DecodeQueryComponent(pair.substr(0, eq));
      std::optional<std::string> value =
          eq == std::string_view::npos ? std::string() : DecodeQueryComponent(pair.substr(eq + 1));
      if (!name) return fail(400, "malformed percent-encoding in a parameter name");
      if (!value) return fail(400, fmt::format("{}: malformed percent-encoding", *name));
      if (name->empty()) return fail(400, "a query parameter without a name");
      const auto it = std::find_if(spec.params.begin(), spec.params.end(),
                                   [&](const ParamSpec& p) { return p.name == *name; });
      if (it == spec.params.end()) {
        std::string allowed;
        for (const ParamSpec& p : spec.params)
          allowed += (allowed.empty() ? "" : ", ") + std::string(p.name);
        core::ShownText shown = core::ShowableText(*name, 64);
        std::string printable = shown.text;
        for (char& c : printable) {
          if (static_cast<unsigned char>(c) < 0x20) c = '?';
        }
        return fail(422, fmt::format("unknown query parameter \"{}\" ({})", printable,
                                     allowed.empty() ? std::string("this route takes none")
                                                     : "this route takes: " + allowed));
      }
      const size_t index = static_cast<size_t>(it - spec.params.begin());
      if (seen[index]) return fail(400, fmt::format("{}: given more than once", it->name));
      seen[index] = true;
      if (!value->empty()) query.values[index] = std::move(*value);
    }
    if (end == raw_query.size()) break;
  }
  for (size_t i = 0; i < spec.params.size(); ++i) {
    const ParamSpec& p = spec.params[i];
    if (!query.values[i] && !p.default_value.empty())
      query.values[i] = std::string(p.default_value);
    if (!query.values[i]) {
      if (p.required) return fail(422, fmt::format("{}: required", p.name));
      continue;
    }
    if (std::optional<QueryError> error = CheckValue(p, *query.values[i], topics)) {
      return QueryResult{std::nullopt, std::move(error)};
    }
  }
  std::optional<std::string_view> from = query.Get("from");
  std::optional<std::string_view> to = query.Get("to");
  if (from && to && *from > *to) {
    return fail(422, fmt::format("from ({}) is after to ({})", *from, *to));
  }
  query.key = std::string(spec.path);
  char separator = '?';
  for (size_t i = 0; i < spec.params.size(); ++i) {
    if (!query.values[i]) continue;
    query.key += separator;
    separator = '&';
    query.key += spec.params[i].name;
    query.key += '=';
    // Escaped so that a value holding '&' or '=' cannot spell another query's key.
    for (char c : *query.values[i]) {
      if (c == '%' || c == '&' || c == '=') {
        query.key += fmt::format("%{:02X}", static_cast<unsigned char>(c));
      } else {
        query.key += c;
      }
    }
  }
  return QueryResult{std::move(query), std::nullopt};
}

}  // namespace pinpipe::dashboard
