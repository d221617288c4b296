#include "emulate/source_posts.h"

#include <algorithm>
#include <unordered_map>

#include "core/record_validator.h"
#include "emulate/record_json.h"

namespace pinpipe::emulate {
namespace {

// Type OIDs from pg_type.h (stable since forever); only those that become bare JSON numbers.
bool IsNumericType(uint32_t type) {
  switch (type) {
    case 20:    // int8
    case 21:    // int2
    case 23:    // int4
    case 700:   // float4
    case 701:   // float8
    case 1700:  // numeric
      return true;
    default: return false;
  }
}

std::string RowJson(const pg::Result& result, int row) {
  std::string out = "{";
  for (int column = 0; column < result.columns(); ++column) {
    if (column > 0) out += ',';
    core::AppendJsonString(result.ColumnName(column), &out);
    out += ':';
    if (result.IsNull(row, column)) {
      out += "null";
    } else if (IsNumericType(result.ColumnType(column))) {
      std::string_view value = result.GetValue(row, column);
      // NaN/Infinity are not JSON; send them as strings so the API rejects just that record.
      if (value == "NaN" || value == "Infinity" || value == "-Infinity") {
        core::AppendJsonString(value, &out);
      } else {
        out += value;
      }
    } else {
      core::AppendJsonString(result.GetValue(row, column), &out);
    }
  }
  out += '}';
  return out;
}

// Key column first in every query, so column 0 is the join key.
constexpr const char* kPinQuery =
    R"(SELECT "index", unique_id, title, description, poster_name, follower_count, tag_list,
              is_image_or_video, image_src, downloaded, save_location, category
       FROM pinterest_data ORDER BY "index")";
constexpr const char* kGeoQuery =
    R"(SELECT ind, to_char("timestamp", 'YYYY-MM-DD HH24:MI:SS') AS "timestamp", latitude,
              longitude, country
       FROM geolocation_data)";
constexpr const char* kUserQuery =
    R"(SELECT ind, first_name, last_name, age,
              to_char(date_joined, 'YYYY-MM-DD HH24:MI:SS') AS date_joined
       FROM user_data)";

}  // namespace

StatusOr<std::vector<SourcePost>> LoadSourcePosts(pg::Connection& conn) {
  // Shortest exact float text, whatever the server's default.
  RETURN_IF_ERROR(conn.Run("SET extra_float_digits = 1"));
  ASSIGN_OR_RETURN(pg::Result pins, conn.Exec(kPinQuery));
  ASSIGN_OR_RETURN(pg::Result geos, conn.Exec(kGeoQuery));
  ASSIGN_OR_RETURN(pg::Result users, conn.Exec(kUserQuery));
  std::unordered_map<std::string_view, int> geo_rows, user_rows;
  for (int row = 0; row < geos.rows(); ++row) geo_rows.emplace(geos.GetValue(row, 0), row);
  for (int row = 0; row < users.rows(); ++row) user_rows.emplace(users.GetValue(row, 0), row);
  std::vector<SourcePost> posts;
  posts.reserve(static_cast<size_t>(pins.rows()));
  for (int row = 0; row < pins.rows(); ++row) {
    std::string_view key = pins.GetValue(row, 0);
    auto geo = geo_rows.find(key);
    auto user = user_rows.find(key);
    if (geo == geo_rows.end() || user == user_rows.end()) continue;
    SourcePost post;
    post.index = std::stoi(std::string(key));
    post.pin_json = RowJson(pins, row);
    post.geo_json = RowJson(geos, geo->second);
    post.user_json = RowJson(users, user->second);
    posts.push_back(std::move(post));
  }
  if (posts.empty()) {
    return FailedPrecondition("the source tables hold no joinable rows; run `pinpipe seed`");
  }
  return posts;
}

std::vector<SourcePost> PostsFromDataSet(const SyntheticDataSet& data) {
  std::vector<SourcePost> posts;
  const size_t n = std::min({data.pins.size(), data.geos.size(), data.users.size()});
  posts.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    posts.push_back(SourcePost{data.pins[i].index, PinJson(data.pins[i]), GeoJson(data.geos[i]),
                               UserJson(data.users[i])});
  }
  return posts;
}

}  // namespace pinpipe::emulate
