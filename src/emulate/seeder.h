// Seeding of the source tables (pinterest_data, geolocation_data, user_data) with the synthetic
// data set, as the original system's RDS database held them.
//
// Idempotent: the (rows, seed) of the last load is recorded in pinpipe_seed_info; a second run
// with the same values and intact row counts does nothing unless `reset` is set. The load runs in
// one transaction (TRUNCATE + COPY), under an advisory lock so concurrent seeders serialise.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace pinpipe::emulate {

struct SeedOptions {
  std::string dsn;  // libpq conninfo naming the target database (created if missing)
  int32_t rows = 11000;
  uint64_t seed = 42;
  bool reset = false;  // reload even if already seeded with the same rows and seed
};

struct SeedReport {
  std::string database;
  bool created_database = false;
  bool loaded = false;  // false: already seeded, nothing done
  int64_t pin_rows = 0;
  int64_t geo_rows = 0;
  int64_t user_rows = 0;
  double seconds = 0;
};

// Creates the database (connecting to the maintenance database "postgres" for that) and the
// tables if missing, and loads them unless already seeded. Errors: Unavailable if PostgreSQL
// cannot be reached, InvalidArgument for a bad DSN or rows < 1, others per the SQLSTATE table.
StatusOr<SeedReport> SeedSourceTables(const SeedOptions& options);

}  // namespace pinpipe::emulate
