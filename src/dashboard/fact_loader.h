// FactLoader: the SQL that fills the analytics engine's facts (post_facts.h) from PostgreSQL,
// in one REPEATABLE READ, READ ONLY transaction per refresh, so everything a refresh reads comes
// from one snapshot:
//
//   ReadHeader   the snapshot's time, serving.batch_days (which days the batch layer serves;
//                any change of it, a day loaded or reloaded, sealed or not, makes a full
//                reload) and the speed layer's offsets (pinpipe_stream_offsets.next_offset per
//                topic and partition, for its consumer group).
//   FullLoad     every merged post: serving.pins LEFT JOINed with serving.geo and serving.users
//                on ind (serving.posts' join, plus whether each record exists), and the merged
//                user records (Q6), each streamed through a binary COPY, so memory holds one
//                row at a time. The speed cursor becomes the header's offsets.
//   ReadNew      exactly the speed rows committed since the cursor: per topic and partition,
//                kafka_offset in [cursor, next_offset). The speed layer commits rows and their
//                partition's next_offset in one transaction, so in this snapshot those are all
//                the new rows and no others. Of them, the rows the merged views take become
//                facts: on a day the batch layer does not serve, and whose key (pins unique_id,
//                geo and user ind) no batch-served day holds (the batch copy wins). New pins
//                come with their geolocation and user joined from serving.geo / serving.users
//                (by ind, LATERAL, so one key's rows are looked up by index); new geolocations
//                and user records resolve the posts that waited for them. Read into memory
//                first (Staged), then applied, so a failure midway changes nothing.
//
// Consistency rule: after a refresh the facts equal the merged views at the refresh's snapshot
// (modulo what the speed layer had committed by then), whatever ran concurrently; a row is
// never taken twice or missed, since each poll reads [cursor, next_offset) and moves the cursor
// to next_offset of the same snapshot.
//
// The SQL uses the default transform's column names (as src/batch/analytics_sql.cc does) and the
// transform's table names. Not thread-safe: the engine's writer thread only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "dashboard/post_facts.h"
#include "pg/connection.h"
#include "transform/transform.h"

namespace pinpipe::dashboard {

// Per kind (pin, geo, user), partition -> next offset: the speed rows below it are in the facts.
using SpeedCursor = std::array<std::map<int32_t, int64_t>, 3>;

struct RefreshHeader {
  int64_t snapshot_ms = 0;           // statement_timestamp() of the snapshot, epoch ms
  std::string batch_signature;       // serving.batch_days as text: changes when any day changes
  std::vector<int32_t> served_days;  // sealed loaded days (days since 1970-01-01), ascending
  std::optional<int32_t> boundary;   // the last of them
  SpeedCursor offsets;               // pinpipe_stream_offsets now
};

// The smallest and largest merge key (text form) of a kind's rows on the served batch days;
// nullopt when there are none. Per kind, as SpeedCursor.
struct KeyRange {
  std::string lo, hi;
};
using BatchKeyBounds = std::array<std::optional<KeyRange>, 3>;

// What a load or poll did.
struct LoadCounts {
  int64_t pins = 0;           // posts added
  int64_t geo = 0;            // geolocation rows read (new merged geolocations)
  int64_t users = 0;          // user rows read
  int64_t skipped = 0;        // rows whose dt the facts cannot hold (outside 1970..2149)
  int64_t speed_records = 0;  // offsets the poll covered (records, not rows)
};

class FactLoader {
 public:
  FactLoader(const transform::Transform& transform, std::array<std::string, 3> topics,
             std::string stream_group);

  // The BEGIN of a refresh's transaction.
  static constexpr const char* kTransactionModes = "ISOLATION LEVEL REPEATABLE READ, READ ONLY";

  // Inside the refresh's transaction. Errors: the connection's (NotFound when the serving
  // schema or the speed tables are missing: `pinpipe serving ensure` makes them).
  StatusOr<RefreshHeader> ReadHeader(pg::Connection& conn) const;

  // Loads every merged post and Q6 user record into `facts` (which should be empty).
  // Errors: the connection's; `facts` then holds part of the rows (clear it).
  StatusOr<LoadCounts> FullLoad(pg::Connection& conn, const RefreshHeader& header,
                                PostFacts* facts) const;

  // The new speed rows up to `header.offsets`, read and kept (small: the engine reads a large
  // backlog in slices, header.offsets being a Slice of the snapshot's offsets; the pins' geo and
  // user records are joined as of the snapshot, and those records, when their own offsets come
  // in a later slice, resolve no post twice: only posts still waiting take them).
  struct Staged;
  StatusOr<Staged> ReadNew(pg::Connection& conn, const RefreshHeader& header,
                           const SpeedCursor& cursor) const;
  // Applies `staged` to `facts`: geolocations and user records first (resolving waiting
  // posts), then the new posts. Cannot fail (rows whose dt the facts cannot hold are counted
  // in `skipped`).
  static LoadCounts Apply(const Staged& staged, PostFacts* facts);

  // Records the offsets moved by since `cursor` (partitions absent from it count from 0).
  // nullopt when an offset went backwards (someone reset the consumer group: reload).
  static std::optional<int64_t> Backlog(const SpeedCursor& cursor, const SpeedCursor& offsets);

  // Where a poll of at most about `limit` records ends: from `cursor` towards `offsets` (which
  // Backlog must accept), each kind and partition moved by its share of `limit` in proportion
  // to its own backlog, at least one record when it has any (so every partition advances).
  static SpeedCursor Slice(const SpeedCursor& cursor, const SpeedCursor& offsets, int64_t limit);

  // Inside the refresh's transaction: the served batch rows' key ranges (all nullopt when no
  // day is served). Errors: the connection's.
  StatusOr<BatchKeyBounds> ReadBatchKeyBounds(pg::Connection& conn,
                                              const RefreshHeader& header) const;

  // The SQL, for tests and EXPLAIN ("" when there is nothing to read).
  std::string FullPinsSql() const;
  std::string FullUsersSql() const;
  std::string BatchKeyBoundsSql(const RefreshHeader& header) const;
  std::string NewPinsSql(const RefreshHeader& header, const SpeedCursor& cursor,
                         const BatchKeyBounds& bounds) const;
  std::string NewGeoSql(const RefreshHeader& header, const SpeedCursor& cursor,
                        const BatchKeyBounds& bounds) const;
  std::string NewUsersSql(const RefreshHeader& header, const SpeedCursor& cursor,
                          const BatchKeyBounds& bounds) const;

  struct Staged {
    struct Pin {
      std::optional<int32_t> ind;
      int32_t day = 0;
      bool batch = false;
      std::optional<std::string> category, poster_name;
      std::optional<int32_t> follower_count;
      bool has_geo = false;
      std::optional<std::string> country;
      std::optional<int64_t> posted_at_us;
      bool has_user = false;
      std::optional<int32_t> age;
      std::optional<int64_t> date_joined_us;
    };
    struct Geo {
      int32_t ind = 0;
      std::optional<std::string> country;
      std::optional<int64_t> timestamp_us;
    };
    struct User {
      std::optional<int32_t> ind;
      int32_t day = 0;
      std::optional<std::string> first_name, last_name;
      std::optional<int32_t> age;
      std::optional<int64_t> date_joined_us;
    };
    std::vector<Pin> pins;
    std::vector<Geo> geo;
    std::vector<User> users;
    int64_t speed_records = 0;
  };

 private:
  // "(s.kafka_partition = p AND s.kafka_offset >= a AND s.kafka_offset < b) OR ...", or "" when
  // no partition of the kind moved.
  static std::string Ranges(const std::map<int32_t, int64_t>& cursor,
                            const std::map<int32_t, int64_t>& offsets);
  // "<value> BETWEEN lo AND hi" of the kind's batch key range, or "" when it has none.
  static std::string BatchKeyGate(core::RecordKind kind, const BatchKeyBounds& bounds,
                                  const std::string& value);
  std::string SpeedRowsWhere(core::RecordKind kind, const RefreshHeader& header,
                             const BatchKeyBounds& bounds, const std::string& ranges) const;
  // LEFT JOIN LATERAL lookups of the merged row of key p.ind of `kind` (geo or user), as
  // `name`b (batch, only when the kind has batch rows) and `name`s (speed).
  std::string MergedLookup(core::RecordKind kind, const RefreshHeader& header,
                           const BatchKeyBounds& bounds, const std::string& columns,
                           const std::string& name) const;

  std::array<std::string, 3> speed_tables_;  // public."experimental_data", ...
  std::array<std::string, 3> batch_tables_;  // batch."experimental_data", ...
  std::array<std::string, 3> topics_;
  std::string group_;
};

}  // namespace pinpipe::dashboard
