#include "dashboard/fact_loader.h"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "pg/copy_out.h"
#include "serving/merged_views.h"

namespace pinpipe::dashboard {
namespace {

using core::RecordKind;

std::string Q(std::string_view name) { return pg::QuoteIdentifier(name); }

size_t K(RecordKind kind) { return static_cast<size_t>(kind); }

std::string Merged(RecordKind kind) {
  return fmt::format("{}.{}", serving::kSchema, serving::MergedViewName(kind));
}

// The columns every pin query selects, in the order DecodePin reads them: the pin, then its
// geolocation and its user record (NULL columns and false when missing). `p`, `g` and `u` are
// the pin, its geolocation and its user record.
constexpr std::string_view kPinColumns =
    "p.ind::int4, p.dt::date, p.layer = 'batch', p.category::text, p.follower_count::int4, "
    "p.poster_name::text, g.ind IS NOT NULL, g.country::text, g.\"timestamp\"::timestamp, "
    "u.ind IS NOT NULL, u.age::int4, u.date_joined::timestamp";
// Of a user record `u`, in the order DecodeUser reads them.
constexpr std::string_view kUserColumns =
    "u.ind::int4, u.dt::date, u.first_name::text, u.last_name::text, u.age::int4, "
    "u.date_joined::timestamp";

std::string CopyBinary(std::string_view query) {
  return fmt::format("COPY ({}) TO STDOUT (FORMAT binary)", query);
}

// A pin row of kPinColumns; text points into the row.
struct PinRow {
  std::optional<int32_t> ind;
  std::optional<int32_t> day;
  bool batch = false;
  std::optional<std::string_view> category, poster_name;
  std::optional<int32_t> follower_count;
  bool has_geo = false;
  std::optional<std::string_view> country;
  std::optional<int64_t> posted_at_us;
  bool has_user = false;
  std::optional<int32_t> age;
  std::optional<int64_t> date_joined_us;
};

StatusOr<PinRow> DecodePin(const pg::BinaryRow& row) {
  if (row.size() != 12) return DataLoss(fmt::format("pin row with {} columns", row.size()));
  PinRow p;
  ASSIGN_OR_RETURN(p.ind, row.Int4(0));
  ASSIGN_OR_RETURN(p.day, row.Date(1));
  ASSIGN_OR_RETURN(std::optional<bool> batch, row.Bool(2));
  p.batch = batch.value_or(false);
  p.category = row.Text(3);
  ASSIGN_OR_RETURN(p.follower_count, row.Int4(4));
  p.poster_name = row.Text(5);
  ASSIGN_OR_RETURN(std::optional<bool> has_geo, row.Bool(6));
  p.has_geo = has_geo.value_or(false);
  p.country = row.Text(7);
  ASSIGN_OR_RETURN(p.posted_at_us, row.Timestamp(8));
  ASSIGN_OR_RETURN(std::optional<bool> has_user, row.Bool(9));
  p.has_user = has_user.value_or(false);
  ASSIGN_OR_RETURN(p.age, row.Int4(10));
  ASSIGN_OR_RETURN(p.date_joined_us, row.Timestamp(11));
  return p;
}

PinFields Fields(const PinRow& p) {
  PinFields f;
  f.ind = p.ind;
  f.day = *p.day;
  f.batch = p.batch;
  f.category = p.category;
  f.poster_name = p.poster_name;
  f.follower_count = p.follower_count;
  if (p.has_geo) f.geo = GeoFields{p.country, p.posted_at_us};
  if (p.has_user) f.user = UserFields{p.age, p.date_joined_us};
  return f;
}

struct UserRow {
  std::optional<int32_t> ind;
  std::optional<int32_t> day;
  std::optional<std::string_view> first_name, last_name;
  std::optional<int32_t> age;
  std::optional<int64_t> date_joined_us;
};

StatusOr<UserRow> DecodeUser(const pg::BinaryRow& row) {
  if (row.size() != 6) return DataLoss(fmt::format("user row with {} columns", row.size()));
  UserRow u;
  ASSIGN_OR_RETURN(u.ind, row.Int4(0));
  ASSIGN_OR_RETURN(u.day, row.Date(1));
  u.first_name = row.Text(2);
  u.last_name = row.Text(3);
  ASSIGN_OR_RETURN(u.age, row.Int4(4));
  ASSIGN_OR_RETURN(u.date_joined_us, row.Timestamp(5));
  return u;
}

UserRecord Record(const UserRow& u) {
  UserRecord r;
  r.ind = u.ind;
  r.day = *u.day;
  r.first_name = u.first_name;
  r.last_name = u.last_name;
  r.fields = UserFields{u.age, u.date_joined_us};
  return r;
}

std::optional<std::string> Own(const std::optional<std::string_view>& text) {
  if (!text) return std::nullopt;
  return std::string(*text);
}

std::optional<std::string_view> View(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::string_view(*text);
}

// Streams `copy_sql` and calls fn(row) per row (fn returns a Status).
template <typename Fn>
Status ForEachRow(pg::Connection& conn, const std::string& copy_sql, const Fn& fn) {
  ASSIGN_OR_RETURN(pg::CopyOut copy, pg::CopyOut::Start(conn, copy_sql));
  pg::BinaryRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, copy.Next(&row));
    if (!more) return Status::Ok();
    RETURN_IF_ERROR(fn(row));
  }
}

int64_t ParseInt(std::string_view text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// '{2024-01-01,2024-01-02}'::date[]
std::string DaysArray(const std::vector<int32_t>& days) {
  std::string out = "'{";
  for (size_t i = 0; i < days.size(); ++i) {
    if (i > 0) out += ',';
    out += core::DateOfDay(days[i]);
  }
  return out + "}'::date[]";
}

}  // namespace

FactLoader::FactLoader(const transform::Transform& transform, std::array<std::string, 3> topics,
                       std::string stream_group)
    : topics_(std::move(topics)), group_(std::move(stream_group)) {
  for (RecordKind kind : core::kAllRecordKinds) {
    const std::string& table = transform.table(kind).table;
    speed_tables_[K(kind)] = fmt::format("{}.{}", Q(serving::kSpeedSchema), Q(table));
    batch_tables_[K(kind)] = fmt::format("{}.{}", Q(serving::kBatchSchema), Q(table));
  }
}

StatusOr<RefreshHeader> FactLoader::ReadHeader(pg::Connection& conn) const {
  RefreshHeader header;
  // The first statement takes the transaction's snapshot.
  ASSIGN_OR_RETURN(pg::Result now,
                   conn.Exec("SELECT (extract(epoch FROM statement_timestamp()) * 1000)::int8"));
  header.snapshot_ms = ParseInt(now.GetValue(0, 0));
  ASSIGN_OR_RETURN(pg::Result days,
                   conn.Exec("SELECT d.dt::text, d.sealed, d.kinds, d.loaded_at::text "
                             "FROM serving.batch_days d ORDER BY d.dt"));
  for (int i = 0; i < days.rows(); ++i) {
    for (int c = 0; c < days.columns(); ++c) {
      header.batch_signature += days.IsNull(i, c) ? std::string_view("\\N") : days.GetValue(i, c);
      header.batch_signature += c + 1 < days.columns() ? '|' : '\n';
    }
    if (!days.IsNull(i, 1) && days.GetValue(i, 1) == "t") {
      auto day = core::ParseDate(days.GetValue(i, 0));
      if (!day) return DataLoss(fmt::format("serving.batch_days: bad dt {}", days.GetValue(i, 0)));
      header.served_days.push_back(static_cast<int32_t>(*day));
    }
  }
  if (!header.served_days.empty()) header.boundary = header.served_days.back();
  ASSIGN_OR_RETURN(pg::Result offsets,
                   conn.ExecParams("SELECT topic, partition, next_offset FROM "
                                   "public.pinpipe_stream_offsets WHERE consumer_group = $1 "
                                   "AND topic IN ($2, $3, $4)",
                                   {group_, topics_[0], topics_[1], topics_[2]}));
  for (int i = 0; i < offsets.rows(); ++i) {
    const std::string_view topic = offsets.GetValue(i, 0);
    for (size_t k = 0; k < topics_.size(); ++k) {
      if (topic == topics_[k]) {
        header.offsets[k][static_cast<int32_t>(ParseInt(offsets.GetValue(i, 1)))] =
            ParseInt(offsets.GetValue(i, 2));
      }
    }
  }
  return header;
}

std::string FactLoader::FullPinsSql() const {
  return fmt::format(
      "SELECT {} FROM {} p LEFT JOIN {} g ON g.ind = p.ind LEFT JOIN {} u ON u.ind = p.ind",
      kPinColumns, Merged(RecordKind::kPin), Merged(RecordKind::kGeo), Merged(RecordKind::kUser));
}

std::string FactLoader::FullUsersSql() const {
  return fmt::format("SELECT {} FROM {} u", kUserColumns, Merged(RecordKind::kUser));
}

StatusOr<LoadCounts> FactLoader::FullLoad(pg::Connection& conn, const RefreshHeader& header,
                                          PostFacts* facts) const {
  (void)header;
  LoadCounts counts;
  // PostgreSQL has no statistics for the merged views' columns and guesses 200 rows per key;
  // with a nested loop over a million pins that guess would be fatal (see analytics_sql.cc).
  RETURN_IF_ERROR(conn.Run("SET LOCAL enable_nestloop = off"));
  // User records first: the posts come with their user's fields joined, so none waits.
  RETURN_IF_ERROR(ForEachRow(conn, CopyBinary(FullUsersSql()), [&](const pg::BinaryRow& row) {
    ASSIGN_OR_RETURN(UserRow u, DecodeUser(row));
    ++counts.users;
    if (!u.day || !facts->AddUser(Record(u)).ok()) ++counts.skipped;
    return Status::Ok();
  }));
  RETURN_IF_ERROR(ForEachRow(conn, CopyBinary(FullPinsSql()), [&](const pg::BinaryRow& row) {
    ASSIGN_OR_RETURN(PinRow p, DecodePin(row));
    if (!p.day || !facts->AddPin(Fields(p)).ok()) {
      ++counts.skipped;
    } else {
      ++counts.pins;
    }
    return Status::Ok();
  }));
  return counts;
}

std::string FactLoader::Ranges(const std::map<int32_t, int64_t>& cursor,
                               const std::map<int32_t, int64_t>& offsets) {
  std::string out;
  for (const auto& [partition, next] : offsets) {
    auto at = cursor.find(partition);
    const int64_t from = at == cursor.end() ? 0 : at->second;
    if (next <= from) continue;
    if (!out.empty()) out += " OR ";
    out += fmt::format("(s.kafka_partition = {} AND s.kafka_offset >= {} AND s.kafka_offset < {})",
                       partition, from, next);
  }
  return out;
}

std::string FactLoader::BatchKeyBoundsSql(const RefreshHeader& header) const {
  if (header.served_days.empty()) return "";
  // Per served day, the key's first and last entry of the batch table's (dt, key) index (two
  // index endpoint probes per day and kind, not a scan of the batch rows).
  const std::string served = DaysArray(header.served_days);
  std::string out =
      "SELECT x0.lo::text, x0.hi::text, x1.lo::text, x1.hi::text, x2.lo::text, "
      "x2.hi::text";
  for (RecordKind kind : core::kAllRecordKinds) {
    const std::string key = Q(serving::MergeKey(kind));
    out += fmt::format(
        "{sep} (SELECT min(d.lo) AS lo, max(d.hi) AS hi FROM unnest({served}) s(dt) CROSS JOIN "
        "LATERAL (SELECT min(b.{key}) AS lo, max(b.{key}) AS hi FROM {batch} b WHERE b.dt = s.dt) "
        "d) x{k}",
        fmt::arg("sep", kind == RecordKind::kPin ? " FROM" : ","), fmt::arg("served", served),
        fmt::arg("key", key), fmt::arg("batch", batch_tables_[K(kind)]), fmt::arg("k", K(kind)));
  }
  return out;
}

StatusOr<BatchKeyBounds> FactLoader::ReadBatchKeyBounds(pg::Connection& conn,
                                                        const RefreshHeader& header) const {
  BatchKeyBounds bounds;
  const std::string sql = BatchKeyBoundsSql(header);
  if (sql.empty()) return bounds;
  ASSIGN_OR_RETURN(pg::Result r, conn.Exec(sql));
  if (r.rows() != 1 || r.columns() != 6) return DataLoss("batch key bounds: unexpected shape");
  for (size_t k = 0; k < bounds.size(); ++k) {
    const int lo = static_cast<int>(2 * k);
    if (r.IsNull(0, lo) || r.IsNull(0, lo + 1)) continue;  // no batch row of the kind
    bounds[k] = KeyRange{std::string(r.GetValue(0, lo)), std::string(r.GetValue(0, lo + 1))};
  }
  return bounds;
}

std::string FactLoader::BatchKeyGate(RecordKind kind, const BatchKeyBounds& bounds,
                                     const std::string& value) {
  const std::optional<KeyRange>& range = bounds[K(kind)];
  if (!range) return "";
  return fmt::format("{} BETWEEN {} AND {}", value, pg::QuoteLiteral(range->lo),
                     pg::QuoteLiteral(range->hi));
}

std::string FactLoader::SpeedRowsWhere(RecordKind kind, const RefreshHeader& header,
                                       const BatchKeyBounds& bounds,
                                       const std::string& ranges) const {
  const std::string key = Q(serving::MergeKey(kind));
  const std::string served = DaysArray(header.served_days);
  std::string where = fmt::format("({ranges}) AND s.dt <> ALL ({served})",
                                  fmt::arg("ranges", ranges), fmt::arg("served", served));
  // A key outside the served batch rows' [min, max] cannot be among them: the anti-join runs
  // only for keys inside (none at all when no served day has rows of the kind).
  const std::string gate = BatchKeyGate(kind, bounds, "s." + key);
  if (gate.empty()) return where;
  return where + fmt::format(
                     " AND (NOT ({gate}) OR NOT EXISTS (SELECT 1 FROM {batch} b WHERE b.dt = ANY "
                     "({served}) AND b.{key} = s.{key}))",
                     fmt::arg("gate", gate), fmt::arg("batch", batch_tables_[K(kind)]),
                     fmt::arg("served", served), fmt::arg("key", key));
}

std::string FactLoader::MergedLookup(RecordKind kind, const RefreshHeader& header,
                                     const BatchKeyBounds& bounds, const std::string& columns,
                                     const std::string& name) const {
  const std::string served = DaysArray(header.served_days);
  // The merged view's row of key p.ind: the batch copy of the earliest served day, else the
  // speed row (of a day the batch layer does not serve). Two LATERAL index lookups on the
  // tables themselves (not the view: its DISTINCT ON sorts per lookup), each skipped by a
  // one-time filter when it cannot match (`name`b when p.ind is outside the batch rows' key
  // range, `name`s when `name`b found the row).
  const std::string gate = BatchKeyGate(kind, bounds, "p.ind");
  std::string out;
  if (!gate.empty()) {
    out += fmt::format(
        " LEFT JOIN LATERAL (SELECT {cols} FROM {batch} x WHERE {gate} AND x.ind = p.ind AND "
        "x.dt = ANY ({served}) ORDER BY x.dt LIMIT 1) {name}b ON true",
        fmt::arg("cols", columns), fmt::arg("batch", batch_tables_[K(kind)]),
        fmt::arg("gate", gate), fmt::arg("served", served), fmt::arg("name", name));
  }
  out += fmt::format(
      " LEFT JOIN LATERAL (SELECT {cols} FROM {speed} x WHERE {found}x.ind = p.ind AND "
      "x.dt <> ALL ({served}) ORDER BY x.dt LIMIT 1) {name}s ON true",
      fmt::arg("cols", columns), fmt::arg("speed", speed_tables_[K(kind)]),
      fmt::arg("found", gate.empty() ? "" : fmt::format("{}b.ind IS NULL AND ", name)),
      fmt::arg("served", served), fmt::arg("name", name));
  return out;
}

std::string FactLoader::NewPinsSql(const RefreshHeader& header, const SpeedCursor& cursor,
                                   const BatchKeyBounds& bounds) const {
  const std::string ranges =
      Ranges(cursor[K(RecordKind::kPin)], header.offsets[K(RecordKind::kPin)]);
  if (ranges.empty()) return "";
  // Of the merged geolocation `g` and user record `u` of each new pin: whether it exists, and
  // each column, from the batch lookup when it found one, else from the speed lookup.
  const bool geo_b = bounds[K(RecordKind::kGeo)].has_value();
  const bool user_b = bounds[K(RecordKind::kUser)].has_value();
  auto pick = [](bool batch, const std::string& name, const std::string& column) {
    if (!batch) return fmt::format("{}s.{}", name, column);
    return fmt::format("CASE WHEN {0}b.ind IS NOT NULL THEN {0}b.{1} ELSE {0}s.{1} END", name,
                       column);
  };
  auto exists = [](bool batch, const std::string& name) {
    if (!batch) return fmt::format("{}s.ind IS NOT NULL", name);
    return fmt::format("({0}b.ind IS NOT NULL OR {0}s.ind IS NOT NULL)", name);
  };
  // Measured on 1 M rows per kind, 100 k new per kind, 2 served batch days (docs/design.md):
  // the previous form (LATERAL into serving.geo / serving.users) cost 1.1 s of server CPU
  // (1.9 s with JIT), this one 0.42 s when the new keys are outside the batch key range.
  return fmt::format(
      "SELECT p.ind::int4, p.dt::date, false, p.category::text, p.follower_count::int4, "
      "p.poster_name::text, {g_exists}, ({g_country})::text, ({g_ts})::timestamp, {u_exists}, "
      "({u_age})::int4, ({u_joined})::timestamp "
      "FROM (SELECT s.ind, s.dt, s.category, s.follower_count, s.poster_name FROM {speed} s "
      "WHERE {where}) p{geo}{users}",
      fmt::arg("g_exists", exists(geo_b, "g")), fmt::arg("g_country", pick(geo_b, "g", "country")),
      fmt::arg("g_ts", pick(geo_b, "g", "\"timestamp\"")),
      fmt::arg("u_exists", exists(user_b, "u")), fmt::arg("u_age", pick(user_b, "u", "age")),
      fmt::arg("u_joined", pick(user_b, "u", "date_joined")),
      fmt::arg("speed", speed_tables_[K(RecordKind::kPin)]),
      fmt::arg("where", SpeedRowsWhere(RecordKind::kPin, header, bounds, ranges)),
      fmt::arg("geo", MergedLookup(RecordKind::kGeo, header, bounds,
                                   "x.ind, x.country, x.\"timestamp\"", "g")),
      fmt::arg("users", MergedLookup(RecordKind::kUser, header, bounds,
                                     "x.ind, x.age, x.date_joined", "u")));
}

std::string FactLoader::NewGeoSql(const RefreshHeader& header, const SpeedCursor& cursor,
                                  const BatchKeyBounds& bounds) const {
  const std::string ranges =
      Ranges(cursor[K(RecordKind::kGeo)], header.offsets[K(RecordKind::kGeo)]);
  if (ranges.empty()) return "";
  return fmt::format(
      "SELECT s.ind::int4, s.country::text, s.\"timestamp\"::timestamp FROM {} s WHERE {}",
      speed_tables_[K(RecordKind::kGeo)], SpeedRowsWhere(RecordKind::kGeo, header, bounds, ranges));
}

std::string FactLoader::NewUsersSql(const RefreshHeader& header, const SpeedCursor& cursor,
                                    const BatchKeyBounds& bounds) const {
  const std::string ranges =
      Ranges(cursor[K(RecordKind::kUser)], header.offsets[K(RecordKind::kUser)]);
  if (ranges.empty()) return "";
  return fmt::format("SELECT {} FROM (SELECT s.* FROM {} s WHERE {}) u", kUserColumns,
                     speed_tables_[K(RecordKind::kUser)],
                     SpeedRowsWhere(RecordKind::kUser, header, bounds, ranges));
}

StatusOr<FactLoader::Staged> FactLoader::ReadNew(pg::Connection& conn, const RefreshHeader& header,
                                                 const SpeedCursor& cursor) const {
  Staged staged;
  if (auto backlog = Backlog(cursor, header.offsets)) staged.speed_records = *backlog;
  // A poll's statements are index lookups of a few hundred ms at most, but their cost estimate
  // (a nested loop per new row) crosses jit_above_cost from a few thousand new rows: JIT then
  // compiled them at every poll, more CPU than the statements (1.9 s instead of 1.1 s for
  // 100 k new pins). Parallel workers would only add process start-ups to each poll.
  RETURN_IF_ERROR(conn.Run("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"));
  ASSIGN_OR_RETURN(const BatchKeyBounds bounds, ReadBatchKeyBounds(conn, header));
  if (const std::string sql = NewGeoSql(header, cursor, bounds); !sql.empty()) {
    RETURN_IF_ERROR(ForEachRow(conn, CopyBinary(sql), [&](const pg::BinaryRow& row) {
      if (row.size() != 3) return DataLoss("geo row: wrong column count");
      ASSIGN_OR_RETURN(std::optional<int32_t> ind, row.Int4(0));
      ASSIGN_OR_RETURN(std::optional<int64_t> ts, row.Timestamp(2));
      if (!ind) return Status::Ok();  // joins nothing
      staged.geo.push_back(Staged::Geo{*ind, Own(row.Text(1)), ts});
      return Status::Ok();
    }));
  }
  if (const std::string sql = NewUsersSql(header, cursor, bounds); !sql.empty()) {
    RETURN_IF_ERROR(ForEachRow(conn, CopyBinary(sql), [&](const pg::BinaryRow& row) {
      ASSIGN_OR_RETURN(UserRow u, DecodeUser(row));
      if (!u.day) return DataLoss("user row without dt");
      staged.users.push_back(Staged::User{u.ind, *u.day, Own(u.first_name), Own(u.last_name), u.age,
                                          u.date_joined_us});
      return Status::Ok();
    }));
  }
  if (const std::string sql = NewPinsSql(header, cursor, bounds); !sql.empty()) {
    RETURN_IF_ERROR(ForEachRow(conn, CopyBinary(sql), [&](const pg::BinaryRow& row) {
      ASSIGN_OR_RETURN(PinRow p, DecodePin(row));
      if (!p.day) return DataLoss("pin row without dt");
      Staged::Pin pin;
      pin.ind = p.ind;
      pin.day = *p.day;
      pin.batch = p.batch;
      pin.category = Own(p.category);
      pin.poster_name = Own(p.poster_name);
      pin.follower_count = p.follower_count;
      pin.has_geo = p.has_geo;
      pin.country = Own(p.country);
      pin.posted_at_us = p.posted_at_us;
      pin.has_user = p.has_user;
      pin.age = p.age;
      pin.date_joined_us = p.date_joined_us;
      staged.pins.push_back(std::move(pin));
      return Status::Ok();
    }));
  }
  return staged;
}

LoadCounts FactLoader::Apply(const Staged& staged, PostFacts* facts) {
  LoadCounts counts;
  counts.speed_records = staged.speed_records;
  for (const Staged::Geo& g : staged.geo) {
    facts->AddGeo(g.ind, GeoFields{View(g.country), g.timestamp_us});
    ++counts.geo;
  }
  for (const Staged::User& u : staged.users) {
    UserRecord r;
    r.ind = u.ind;
    r.day = u.day;
    r.first_name = View(u.first_name);
    r.last_name = View(u.last_name);
    r.fields = UserFields{u.age, u.date_joined_us};
    ++counts.users;
    if (!facts->AddUser(r).ok()) ++counts.skipped;
  }
  for (const Staged::Pin& p : staged.pins) {
    PinFields f;
    f.ind = p.ind;
    f.day = p.day;
    f.batch = p.batch;
    f.category = View(p.category);
    f.poster_name = View(p.poster_name);
    f.follower_count = p.follower_count;
    if (p.has_geo) f.geo = GeoFields{View(p.country), p.posted_at_us};
    if (p.has_user) f.user = UserFields{p.age, p.date_joined_us};
    if (facts->AddPin(f).ok()) {
      ++counts.pins;
    } else {
      ++counts.skipped;
    }
  }
  return counts;
}

SpeedCursor FactLoader::Slice(const SpeedCursor& cursor, const SpeedCursor& offsets,
                              int64_t limit) {
  const int64_t total = Backlog(cursor, offsets).value_or(0);
  if (total <= limit) return offsets;
  SpeedCursor out = offsets;
  for (size_t k = 0; k < offsets.size(); ++k) {
    for (auto& [partition, next] : out[k]) {
      auto at = cursor[k].find(partition);
      const int64_t from = at == cursor[k].end() ? 0 : at->second;
      const int64_t behind = next - from;
      if (behind <= 0) continue;
      // behind * limit / total without overflow (both below 2^63 / 2^31 in practice; long
      // double keeps it exact enough for a share).
      const auto share = static_cast<int64_t>(static_cast<long double>(behind) * limit / total);
      next = from + std::clamp<int64_t>(share, 1, behind);
    }
  }
  return out;
}

std::optional<int64_t> FactLoader::Backlog(const SpeedCursor& cursor, const SpeedCursor& offsets) {
  int64_t total = 0;
  for (size_t k = 0; k < cursor.size(); ++k) {
    for (const auto& [partition, from] : cursor[k]) {
      auto at = offsets[k].find(partition);
      // A partition's offsets row never goes away while the speed layer runs; gone or lower
      // means someone reset the group.
      if (at == offsets[k].end() || at->second < from) return std::nullopt;
    }
    for (const auto& [partition, next] : offsets[k]) {
      auto at = cursor[k].find(partition);
      total += next - (at == cursor[k].end() ? 0 : at->second);
    }
  }
  return total;
}

}  // namespace pinpipe::dashboard
