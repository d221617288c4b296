// SourcePost: one post of the source data set, its pin, geo and user records already encoded as
// the JSON bodies the emulator sends (encoded once at load, so sending costs no formatting).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "emulate/synthetic.h"
#include "pg/connection.h"

namespace pinpipe::emulate {

struct SourcePost {
  int32_t index = 0;
  std::string pin_json;
  std::string geo_json;
  std::string user_json;
};

// Reads the three source tables (one query each) and joins them on index = ind in memory
// (posts without both a geo and a user row are skipped, as an inner join would). Column values
// become JSON by column type: integers and floats bare, NULL as null, text and timestamps
// ("YYYY-MM-DD HH:MM:SS") as strings. Errors: per the SQLSTATE table (NotFound if a table is
// missing: run `pinpipe seed`), FailedPrecondition if the tables are empty.
StatusOr<std::vector<SourcePost>> LoadSourcePosts(pg::Connection& conn);

// The same, from an in-memory data set (tests, and emulating without a database).
std::vector<SourcePost> PostsFromDataSet(const SyntheticDataSet& data);

}  // namespace pinpipe::emulate
