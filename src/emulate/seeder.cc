#include "emulate/seeder.h"

#include <chrono>

#include "emulate/synthetic.h"
#include "pg/connection.h"
#include "pg/copy_in.h"
#include "pg/transaction.h"

namespace pinpipe::emulate {
namespace {

// Column order follows DATA_FACTS.md (and the original tables), which the emulator relies on.
constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS pinterest_data (
  "index" integer PRIMARY KEY,
  unique_id text,
  title text,
  description text,
  poster_name text,
  follower_count text,
  tag_list text,
  is_image_or_video text,
  image_src text,
  downloaded integer,
  save_location text,
  category text
);
CREATE TABLE IF NOT EXISTS geolocation_data (
  ind integer PRIMARY KEY,
  "timestamp" timestamp,
  latitude double precision,
  longitude double precision,
  country text
);
CREATE TABLE IF NOT EXISTS user_data (
  ind integer PRIMARY KEY,
  first_name text,
  last_name text,
  age integer,
  date_joined timestamp
);
CREATE TABLE IF NOT EXISTS pinpipe_seed_info (
  id integer PRIMARY KEY CHECK (id = 1),
  row_count integer NOT NULL,
  seed bigint NOT NULL,
  seeded_at timestamptz NOT NULL DEFAULT now()
);
)sql";

// Any constant works; it only has to be the same for every seeder.
constexpr const char* kAdvisoryLock = "SELECT pg_advisory_xact_lock(7365656400)";

StatusOr<int64_t> CountRows(pg::Connection& conn, const std::string& table) {
  ASSIGN_OR_RETURN(pg::Result result, conn.Exec("SELECT count(*) FROM " + table));
  return std::stoll(std::string(result.GetValue(0, 0)));
}

StatusOr<bool> AlreadySeeded(pg::Connection& conn, const SeedOptions& options) {
  ASSIGN_OR_RETURN(pg::Result info, conn.Exec("SELECT row_count, seed FROM pinpipe_seed_info"));
  if (info.rows() == 0) return false;
  if (info.GetValue(0, 0) != std::to_string(options.rows) ||
      info.GetValue(0, 1) != std::to_string(static_cast<int64_t>(options.seed))) {
    return false;
  }
  // Someone may have deleted rows by hand since; trust the counts, not just the record.
  for (const char* table : {"pinterest_data", "geolocation_data", "user_data"}) {
    ASSIGN_OR_RETURN(int64_t count, CountRows(conn, table));
    if (count != options.rows) return false;
  }
  return true;
}

Status LoadTables(pg::Connection& conn, const SyntheticDataSet& data, SeedReport& report) {
  RETURN_IF_ERROR(conn.Run("TRUNCATE pinterest_data, geolocation_data, user_data"));
  {
    ASSIGN_OR_RETURN(pg::CopyIn copy, pg::CopyIn::Start(conn, "COPY pinterest_data FROM STDIN"));
    for (const PinRow& pin : data.pins) {
      copy.Int(pin.index).Text(pin.unique_id).Text(pin.title).Text(pin.description);
      copy.Text(pin.poster_name).Text(pin.follower_count).Text(pin.tag_list);
      copy.Text(pin.is_image_or_video).Text(pin.image_src).Int(pin.downloaded);
      copy.Text(pin.save_location).Text(pin.category);
      RETURN_IF_ERROR(copy.EndRow());
    }
    ASSIGN_OR_RETURN(report.pin_rows, copy.Finish());
  }
  {
    ASSIGN_OR_RETURN(pg::CopyIn copy, pg::CopyIn::Start(conn, "COPY geolocation_data FROM STDIN"));
    for (const GeoRow& geo : data.geos) {
      copy.Int(geo.ind).Text(geo.timestamp).Text(geo.latitude).Text(geo.longitude);
      copy.Text(geo.country);
      RETURN_IF_ERROR(copy.EndRow());
    }
    ASSIGN_OR_RETURN(report.geo_rows, copy.Finish());
  }
  {
    ASSIGN_OR_RETURN(pg::CopyIn copy, pg::CopyIn::Start(conn, "COPY user_data FROM STDIN"));
    for (const UserRow& user : data.users) {
      copy.Int(user.ind).Text(user.first_name).Text(user.last_name).Int(user.age);
      copy.Text(user.date_joined);
      RETURN_IF_ERROR(copy.EndRow());
    }
    ASSIGN_OR_RETURN(report.user_rows, copy.Finish());
  }
  return Status::Ok();
}

}  // namespace

StatusOr<SeedReport> SeedSourceTables(const SeedOptions& options) {
  if (options.rows < 1) return InvalidArgument("seed: --rows must be at least 1");
  const auto started = std::chrono::steady_clock::now();
  SeedReport report;
  ASSIGN_OR_RETURN(report.database, pg::ConninfoValue(options.dsn, "dbname"));
  if (report.database.empty()) {
    return InvalidArgument("seed: the DSN must name a database (dbname=...)");
  }
  ASSIGN_OR_RETURN(report.created_database, pg::EnsureDatabase(options.dsn));
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(options.dsn));
  // Timestamps are written as "YYYY-MM-DD HH:MM:SS"; make sure they are read that way.
  RETURN_IF_ERROR(conn.Run("SET DateStyle = 'ISO, YMD'; SET client_min_messages = warning"));
  RETURN_IF_ERROR(conn.Run(kCreateTables));

  ASSIGN_OR_RETURN(pg::Transaction transaction, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kAdvisoryLock));
  ASSIGN_OR_RETURN(bool seeded, AlreadySeeded(conn, options));
  if (seeded && !options.reset) {
    report.pin_rows = report.geo_rows = report.user_rows = options.rows;
    RETURN_IF_ERROR(transaction.Commit());
  } else {
    const SyntheticDataSet data = GenerateDataSet(options.rows, options.seed);
    RETURN_IF_ERROR(LoadTables(conn, data, report));
    RETURN_IF_ERROR(
        conn.ExecParams(
                "INSERT INTO pinpipe_seed_info (id, row_count, seed) VALUES (1, $1, $2) "
                "ON CONFLICT (id) DO UPDATE SET row_count = EXCLUDED.row_count, "
                "seed = EXCLUDED.seed, seeded_at = now()",
                {std::to_string(options.rows), std::to_string(static_cast<int64_t>(options.seed))})
            .status());
    RETURN_IF_ERROR(transaction.Commit());
    report.loaded = true;
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace pinpipe::emulate
