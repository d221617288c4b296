// The serving schema's own views: where the batch layer ends, and the batch and speed layers'
// rows merged into one answer (docs/design.md, "Serving layer"). All SQL, rendered for a
// transform (table and column names) over the batch tables (schema batch) and the speed
// layer's tables (schema public) of one database:
//
//   serving.batch_days      one row per day the batch job has loaded (batch.quality, its own
//                           load bookkeeping: one row per (dt, kind) per load), sealed = every
//                           kind of the load had the archiver's _SUCCESS marker
//   serving.boundary        one row: the last sealed loaded day (NULL when none), and friends
//   serving.pins, .geo,     the merged rows. A day is served by the batch layer when it is a
//   serving.users           sealed loaded day, else by the speed layer (every day after the
//                           boundary, and a day below it the batch job has not loaded, so no
//                           row disappears while a day waits for its load). Rows of batch-served
//                           days come from the batch tables, the others from the speed tables by
//                           the speed row's dt (the archiver's event-day rule). Each key (pins
//                           unique_id, geo and user ind) is one row of the whole view: the batch
//                           copy wins over the speed copy, the earliest batch day over later
//                           ones. Columns: the transform's, dt, layer ('batch' | 'speed').
//   serving.layer_days      per day and kind: rows each layer holds, rows the merged view takes
//                           from each, which layer serves the day, the boundary
//   serving.reconciliation  per loaded day and kind: batch vs speed rows of that day, the
//                           difference, and the keys present in one layer only
//
// An unsealed load (pinpipe batch on a day the archiver has not sealed, without
// --require-sealed) does not count: the day may still get records, so it stays served by the
// speed layer; layer_days and reconciliation show its batch rows all the same.
// Pure functions of their arguments; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/record_schema.h"
#include "transform/transform.h"

namespace pinpipe::serving {

inline constexpr const char* kSchema = "serving";
inline constexpr const char* kSpeedSchema = "public";
inline constexpr const char* kBatchSchema = "batch";

// The key of a kind in the merged views (and the analytics' join columns): pins unique_id,
// geo and user ind.
const char* MergeKey(core::RecordKind kind);
// "pins", "geo", "users": the merged view of a kind.
const char* MergedViewName(core::RecordKind kind);

// CREATE SCHEMA serving and CREATE OR REPLACE VIEW of everything above, with comments.
// Errors: none here; the server refuses the SQL when a table lacks a key column.
std::string MergedViewsSql(const transform::Transform& transform);

// The views MergedViewsSql() creates, in order.
const std::vector<std::string>& MergedViewNames();

}  // namespace pinpipe::serving
