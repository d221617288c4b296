#include "serving/merged_views.h"

#include <fmt/format.h>

#include "pg/connection.h"

namespace pinpipe::serving {
namespace {

std::string Q(std::string_view name) { return pg::QuoteIdentifier(name); }

std::string BatchTable(const transform::Transform& t, core::RecordKind kind) {
  return fmt::format("{}.{}", Q(kBatchSchema), Q(t.table(kind).table));
}

std::string SpeedTable(const transform::Transform& t, core::RecordKind kind) {
  return fmt::format("{}.{}", Q(kSpeedSchema), Q(t.table(kind).table));
}

// "a.c1, a.c2, ..." over the transform's columns.
std::string Columns(const transform::TableDef& def, std::string_view alias) {
  std::string out;
  for (const transform::ColumnDef& c : def.columns) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}.{}", alias, Q(c.name));
  }
  return out;
}

// The days the batch layer serves (loaded, every kind sealed), as an array: `dt = ANY (...)` /
// `dt <> ALL (...)` are InitPlans evaluated once, so the batch tables' partitions can be pruned
// at run time.
constexpr std::string_view kServedDays =
    "ANY (ARRAY(SELECT d.dt FROM serving.batch_days d WHERE d.sealed))";
constexpr std::string_view kNotServedDays =
    "ALL (ARRAY(SELECT d.dt FROM serving.batch_days d WHERE d.sealed))";

// One merged view: the rows of the days each layer serves, then one row per key, the batch copy
// first ('batch' < 'speed'), the earliest day first. Written as DISTINCT ON over both layers
// (one sort) rather than "speed rows whose key has no batch row" (an anti-join): the planner
// then knows the view has one row per key, so a question's LEFT JOIN to a view whose columns it
// does not read is removed (Q4 reads no geolocation) and the joins are hash joins. Measured
// with 1 M speed rows per kind and 3 batch days of 100 k posts (+ 20 k replays each), run
// alternately on this 2-core machine under load: Q1 7 s vs 12 s with the anti-join (whose joins
// became merge joins sorting 1 M rows each); count(*) of the pins 1.9 s either way. The first
// anti-join form (NOT EXISTS against serving.batch_days) was estimated at 1 speed row and probed
// every served day's (dt, key) index per speed row: 24 s. DISTINCT ON also keeps one row per key
// when a transform has no dedup_key (speed tables without a UNIQUE key).
std::string MergedView(const transform::Transform& t, core::RecordKind kind) {
  const transform::TableDef& def = t.table(kind);
  const std::string key = Q(MergeKey(kind));
  const std::string view = fmt::format("serving.{}", MergedViewName(kind));
  return fmt::format(
      R"sql(
CREATE OR REPLACE VIEW {view} AS
SELECT DISTINCT ON (m.{key}) m.*
FROM (
  SELECT {b_cols}, b.dt, 'batch'::text AS layer
  FROM {batch} b
  WHERE b.dt = {served}
  UNION ALL
  SELECT {s_cols}, s.dt, 'speed'::text AS layer
  FROM {speed} s
  WHERE s.dt <> {not_served}
) m
ORDER BY m.{key}, m.layer, m.dt;
COMMENT ON VIEW {view} IS {comment};
)sql",
      fmt::arg("view", view), fmt::arg("b_cols", Columns(def, "b")),
      fmt::arg("s_cols", Columns(def, "s")), fmt::arg("key", key),
      fmt::arg("batch", BatchTable(t, kind)), fmt::arg("speed", SpeedTable(t, kind)),
      fmt::arg("served", kServedDays), fmt::arg("not_served", kNotServedDays),
      fmt::arg("comment",
               pg::QuoteLiteral(fmt::format(
                   "{} merged, one row per {}: rows of the days the batch layer serves (sealed "
                   "loaded days, serving.batch_days) from {}, of the other days from {} by the "
                   "row's event day dt; of several rows of a key the batch copy wins, then the "
                   "earliest day. layer = batch | speed.",
                   def.table, MergeKey(kind), BatchTable(t, kind), SpeedTable(t, kind)))));
}

// One kind's (dt, source, rows) counts for layer_days.
std::string LayerCounts(const transform::Transform& t, core::RecordKind kind) {
  const std::string k = pg::QuoteLiteral(core::RecordKindName(kind));
  return fmt::format(
      "  SELECT {0}::text AS kind, x.dt, 'batch'::text AS source, count(*) AS n FROM {1} x "
      "GROUP BY x.dt\n"
      "  UNION ALL SELECT {0}, x.dt, 'speed', count(*) FROM {2} x GROUP BY x.dt\n"
      "  UNION ALL SELECT {0}, x.dt, 'merged_' || x.layer, count(*) FROM serving.{3} x "
      "GROUP BY x.dt, x.layer",
      k, BatchTable(t, kind), SpeedTable(t, kind), MergedViewName(kind));
}

// One kind's rows of serving.reconciliation.
std::string Reconciliation(const transform::Transform& t, core::RecordKind kind) {
  const std::string k = pg::QuoteLiteral(core::RecordKindName(kind));
  const std::string key = Q(MergeKey(kind));
  return fmt::format(
      R"sql(SELECT q.dt, {k}::text AS kind, q.sealed,
       count(j.bkey) AS batch_rows, count(j.skey) AS speed_rows,
       count(j.bkey) - count(j.skey) AS difference,
       count(*) FILTER (WHERE j.bkey IS NOT NULL AND j.skey IS NULL) AS batch_only_keys,
       count(*) FILTER (WHERE j.in_speed_other_day) AS batch_only_in_speed_other_day,
       count(*) FILTER (WHERE j.skey IS NOT NULL AND j.bkey IS NULL) AS speed_only_keys
FROM batch.quality q
LEFT JOIN (
  SELECT coalesce(b.dt, s.dt) AS dt, b.{key} AS bkey, s.{key} AS skey,
         CASE WHEN s.{key} IS NULL
              THEN EXISTS (SELECT 1 FROM {speed} o WHERE o.{key} = b.{key}) END AS in_speed_other_day
  FROM {batch} b
  FULL JOIN (SELECT x.dt, x.{key} FROM {speed} x
             WHERE x.dt IN (SELECT dt FROM batch.quality WHERE kind = {k})) s
    ON s.{key} = b.{key} AND s.dt = b.dt
) j ON j.dt = q.dt
WHERE q.kind = {k}
GROUP BY q.dt, q.sealed)sql",
      fmt::arg("k", k), fmt::arg("key", key), fmt::arg("batch", BatchTable(t, kind)),
      fmt::arg("speed", SpeedTable(t, kind)));
}

}  // namespace

const char* MergeKey(core::RecordKind kind) {
  return kind == core::RecordKind::kPin ? "unique_id" : "ind";
}

const char* MergedViewName(core::RecordKind kind) {
  switch (kind) {
    case core::RecordKind::kPin: return "pins";
    case core::RecordKind::kGeo: return "geo";
    case core::RecordKind::kUser: return "users";
  }
  return "pins";
}

const std::vector<std::string>& MergedViewNames() {
  static const std::vector<std::string> names = {"batch_days", "boundary",   "pins",          "geo",
                                                 "users",      "layer_days", "reconciliation"};
  return names;
}

std::string MergedViewsSql(const transform::Transform& t) {
  std::string sql = R"sql(
CREATE SCHEMA IF NOT EXISTS serving;
COMMENT ON SCHEMA serving IS 'pinpipe serving layer: the batch tables (schema batch) and the speed layer''s tables (schema public) merged into one answer. docs/design.md, "Serving layer".';

CREATE OR REPLACE VIEW serving.batch_days AS
SELECT q.dt, bool_and(q.sealed) AS sealed, count(*) AS kinds, max(q.loaded_at) AS loaded_at
FROM batch.quality q
GROUP BY q.dt;
COMMENT ON VIEW serving.batch_days IS 'Days the batch job has loaded (batch.quality, one row per day and kind per load). sealed: every kind was sealed by the archiver when loaded; only sealed days are served from the batch tables.';

CREATE OR REPLACE VIEW serving.boundary AS
SELECT max(d.dt) FILTER (WHERE d.sealed) AS boundary,
       min(d.dt) FILTER (WHERE d.sealed) AS first_batch_day,
       count(*) FILTER (WHERE d.sealed) AS batch_days,
       (max(d.dt) FILTER (WHERE d.sealed) - min(d.dt) FILTER (WHERE d.sealed) + 1)
         - count(*) FILTER (WHERE d.sealed) AS gap_days,
       count(*) FILTER (WHERE NOT d.sealed) AS unsealed_days,
       max(d.loaded_at) FILTER (WHERE d.sealed) AS last_loaded_at
FROM serving.batch_days d;
COMMENT ON VIEW serving.boundary IS 'One row. boundary: the last day the batch layer has loaded, sealed (NULL: none, every row comes from the speed layer). Days after it come from the speed layer; so do gap_days days between first_batch_day and the boundary that are not loaded (yet), and unsealed loads.';
)sql";
  for (core::RecordKind kind : core::kAllRecordKinds) sql += MergedView(t, kind);

  sql += "\nCREATE OR REPLACE VIEW serving.layer_days AS\nWITH counts AS (\n";
  for (core::RecordKind kind : core::kAllRecordKinds) {
    if (kind != core::RecordKind::kPin) sql += "\n  UNION ALL\n";
    sql += LayerCounts(t, kind);
  }
  sql += R"sql(
)
SELECT c.dt, c.kind,
       coalesce(sum(c.n) FILTER (WHERE c.source = 'batch'), 0)::bigint AS batch_rows,
       coalesce(sum(c.n) FILTER (WHERE c.source = 'speed'), 0)::bigint AS speed_rows,
       coalesce(sum(c.n) FILTER (WHERE c.source = 'merged_batch'), 0)::bigint AS merged_from_batch,
       coalesce(sum(c.n) FILTER (WHERE c.source = 'merged_speed'), 0)::bigint AS merged_from_speed,
       coalesce(sum(c.n) FILTER (WHERE c.source LIKE 'merged\_%'), 0)::bigint AS merged_rows,
       CASE WHEN bd.sealed THEN 'batch' ELSE 'speed' END AS served_by,
       bd.sealed AS batch_sealed,
       (SELECT b.boundary FROM serving.boundary b) AS boundary
FROM counts c
LEFT JOIN serving.batch_days bd ON bd.dt = c.dt
GROUP BY c.dt, c.kind, bd.sealed
ORDER BY c.dt, c.kind;
COMMENT ON VIEW serving.layer_days IS 'Per day and kind (pin, geo, user): rows in the batch tables and in the speed tables on that dt, rows the merged views take from each (merged_from_batch + merged_from_speed = merged_rows), which layer serves the day (batch: a sealed loaded day; batch_sealed NULL = not loaded, false = loaded unsealed, not served), and the boundary.';

CREATE OR REPLACE VIEW serving.reconciliation AS
)sql";
  for (core::RecordKind kind : core::kAllRecordKinds) {
    if (kind != core::RecordKind::kPin) sql += "\nUNION ALL\n";
    sql += Reconciliation(t, kind);
  }
  sql += R"sql(
ORDER BY 1, 2;
COMMENT ON VIEW serving.reconciliation IS 'Per loaded day and kind: batch rows vs speed rows of that dt, difference = batch - speed; batch_only_keys: keys in the batch table that day without a speed row that day, of which batch_only_in_speed_other_day have their speed row on another day (the speed layer keeps a key once, on the day it first came; the batch tables once per day); speed_only_keys: speed rows that day whose key the batch table lacks that day (e.g. records archived after the load).';
)sql";
  return sql;
}

}  // namespace pinpipe::serving
