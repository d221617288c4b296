// The synthetic source data set: pin posts, geolocations and users with the shape of the real
// Pinterest records described in /work/shared/DATA_FACTS.md (placeholders, number formats,
// truncated descriptions ending in "…"+NBSP, non-ASCII and emoji titles, broken rows, ...).
//
// Generation is deterministic: the same (rows, seed) gives byte-identical output on every
// platform (see prng.h). Row i of each table has index/ind i+1, so the three tables join on
// index = ind. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::emulate {

// Placeholders exactly as they occur in the real data.
inline constexpr std::string_view kUserInfoError = "User Info Error";
inline constexpr std::string_view kNoTitle = "No Title Data Available";
inline constexpr std::string_view kNoDescriptionStory = "No description available Story format";
inline constexpr std::string_view kNoDescription = "No description available";
inline constexpr std::string_view kUntitled = "Untitled";
inline constexpr std::string_view kNoTags = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e";
inline constexpr std::string_view kImageSrcError = "Image src error.";
inline constexpr std::string_view kMultiVideo = "multi-video(story page format)";
// "…" followed by U+00A0 NO-BREAK SPACE: how truncated descriptions end.
inline constexpr std::string_view kTruncationSuffix = "\xE2\x80\xA6\xC2\xA0";

// The 13 category slugs.
const std::vector<std::string_view>& Categories();
// About 240 ASCII country names.
const std::vector<std::string_view>& Countries();

// Columns of pinterest_data, in database column order.
struct PinRow {
  int32_t index = 0;
  std::string unique_id;
  std::string title;
  std::string description;
  std::string poster_name;
  std::string follower_count;
  std::string tag_list;
  std::string is_image_or_video;
  std::string image_src;
  int32_t downloaded = 0;
  std::string save_location;
  std::string category;
};

struct GeoRow {
  int32_t ind = 0;
  std::string timestamp;  // "YYYY-MM-DD HH:MM:SS"
  std::string latitude;   // decimal text, 1..6 decimals, exact as PostgreSQL prints it back
  std::string longitude;
  std::string country;
};

struct UserRow {
  int32_t ind = 0;
  std::string first_name;
  std::string last_name;
  int32_t age = 0;
  std::string date_joined;  // "YYYY-MM-DD HH:MM:SS"
};

struct SyntheticDataSet {
  std::vector<PinRow> pins;
  std::vector<GeoRow> geos;
  std::vector<UserRow> users;
};

// Generates `rows` rows of each table from `seed`.
SyntheticDataSet GenerateDataSet(int32_t rows, uint64_t seed);

// "YYYY-MM-DD HH:MM:SS" for seconds since 1970-01-01 00:00:00 (proleptic Gregorian, no zone).
std::string FormatTimestamp(int64_t unix_seconds);
// Seconds since 1970-01-01 for a civil date at midnight.
int64_t UnixSecondsFromCivil(int year, unsigned month, unsigned day);

}  // namespace pinpipe::emulate
