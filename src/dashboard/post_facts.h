// PostFacts: the analytics engine's in-memory copy of the merged posts (docs/design.md,
// "Dashboard analytics engine"): one compact entry per merged pin (serving.pins: one per
// unique_id) with what the 8 questions need from the pin and from its geolocation and user
// record (serving.geo / serving.users, LEFT JOINed on ind as serving.posts does), and one entry
// per merged user record whose join date is in Q6's years (Q6 counts people among the user
// records, with a post or not).
//
// A post is 24 bytes (PostChunk, a struct of arrays): dt (uint16 days since 1970-01-01, so
// 1970-01-01..2149-06-06), category, country and poster name as dictionary ids, follower_count,
// ind, and 16 bits of codes: age group, join year and post year (the question's ranges only),
// NULL flags, which records it has, its layer. A Q6 user record is 11 bytes: ind, person (a
// distinct (first_name, last_name, age, date_joined), the SQL's DISTINCT), dt, age group and
// join year. Strings live once in dictionaries. A post whose geolocation or user record has not
// arrived yet is listed by ind in a small map and gets the fields when the record comes
// (AddGeo/AddUser); nothing else is kept per row.
//
// The rules (age groups, year ranges, NULL handling) are those of src/batch/analytics_sql.cc,
// the reference definition; tests/integration/dashboard proves the two equal.
//
// Thread-safety: one writer thread calls the mutating functions; View() returns an immutable
// FactsView that any number of threads may read while the writer goes on (chunked.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "dashboard/chunked.h"

namespace pinpipe::dashboard {

inline constexpr uint32_t kNullId = 0xffffffffu;  // a NULL text among dictionary ids

// The questions' year ranges (analytics_sql.cc): post years 2018-2022 (Q2), join years
// 2015-2020 (Q6-Q8).
inline constexpr int kPostYearFirst = 2018;
inline constexpr int kPostYearLast = 2022;
inline constexpr int kJoinYearFirst = 2015;
inline constexpr int kJoinYearLast = 2020;
inline constexpr int kAgeGroups = 4;

// 1..4 for 18-24, 25-35, 36-50, 50+ (51 and older; 50 is in 36-50); 0 for none (under 18 or
// NULL).
uint8_t AgeGroupCode(std::optional<int32_t> age);
// "18-24" ... "50+" for 1..4.
std::string_view AgeGroupLabel(uint8_t code);
// The code of a label; nullopt for anything else.
std::optional<uint8_t> AgeGroupFromLabel(std::string_view label);
// 1..5 for a timestamp (microseconds since the epoch, UTC) in 2018..2022, else 0.
uint8_t PostYearCode(std::optional<int64_t> micros);
// 1..6 for a timestamp in 2015..2020, else 0.
uint8_t JoinYearCode(std::optional<int64_t> micros);

// Post codes (PostChunk::codes).
inline constexpr uint16_t kAgeGroupMask = 0x7;         // bits 0-2: AgeGroupCode
inline constexpr int kJoinYearShift = 3;               // bits 3-5: JoinYearCode
inline constexpr int kPostYearShift = 6;               // bits 6-8: PostYearCode
inline constexpr uint16_t kFollowerNull = 1u << 9;     // follower_count IS NULL
inline constexpr uint16_t kHasGeo = 1u << 10;          // has its geolocation record
inline constexpr uint16_t kHasUser = 1u << 11;         // has its user record
inline constexpr uint16_t kBatchLayer = 1u << 12;      // layer = 'batch' (else 'speed')
inline constexpr uint16_t kIndNull = 1u << 13;         // ind IS NULL (joins nothing)
inline uint8_t AgeGroupOf(uint16_t codes) { return codes & kAgeGroupMask; }
inline uint8_t JoinYearOf(uint16_t codes) { return (codes >> kJoinYearShift) & 0x7; }
inline uint8_t PostYearOf(uint16_t codes) { return (codes >> kPostYearShift) & 0x7; }

struct PostChunk {
  static constexpr size_t kCapacity = size_t{1} << 14;
  uint16_t day[kCapacity];
  uint16_t codes[kCapacity];
  uint32_t category[kCapacity];  // kNullId: NULL
  uint32_t country[kCapacity];   // kNullId: NULL or no geolocation
  uint32_t poster[kCapacity];    // kNullId: NULL
  int32_t follower[kCapacity];   // valid unless kFollowerNull
  int32_t ind[kCapacity];        // valid unless kIndNull
};

struct UserChunk {
  static constexpr size_t kCapacity = size_t{1} << 14;
  int32_t ind[kCapacity];
  uint32_t person[kCapacity];
  uint16_t day[kCapacity];
  uint8_t codes[kCapacity];  // bits 0-2 AgeGroupCode, 3-5 JoinYearCode (never 0)
};

inline constexpr size_t kPostBytes = sizeof(PostChunk) / PostChunk::kCapacity;
inline constexpr size_t kUserBytes = sizeof(UserChunk) / UserChunk::kCapacity;

// What readers see: immutable.
struct FactsView {
  ChunkedView<PostChunk> posts;
  ChunkedView<UserChunk> users;  // the Q6 user records
  uint32_t persons = 0;          // person ids are 0..persons-1
  DictView categories, countries, posters;
  std::vector<uint32_t> categories_sorted, countries_sorted;  // ids by byte order of the names
  std::optional<int32_t> min_day, max_day;                    // over the posts

  std::optional<uint32_t> FindCategory(std::string_view name) const;
  std::optional<uint32_t> FindCountry(std::string_view name) const;
};

// Inputs. Text fields point to the caller's bytes for the duration of the call.
struct GeoFields {
  std::optional<std::string_view> country;
  std::optional<int64_t> timestamp_us;  // microseconds since the epoch (timestamp, UTC)
};
struct UserFields {
  std::optional<int32_t> age;
  std::optional<int64_t> date_joined_us;
};
struct PinFields {
  std::optional<int32_t> ind;
  int32_t day = 0;     // dt, days since 1970-01-01
  bool batch = false;  // layer
  std::optional<std::string_view> category, poster_name;
  std::optional<int32_t> follower_count;
  std::optional<GeoFields> geo;    // nullopt: no geolocation record (yet)
  std::optional<UserFields> user;  // nullopt: no user record (yet)
};
struct UserRecord {
  std::optional<int32_t> ind;
  int32_t day = 0;
  std::optional<std::string_view> first_name, last_name;
  UserFields fields;
};

class PostFacts {
 public:
  PostFacts() = default;
  PostFacts(const PostFacts&) = delete;
  PostFacts& operator=(const PostFacts&) = delete;

  // Adds a merged pin. Errors: InvalidArgument when its day is outside 1970-01-01..2149-06-06.
  Status AddPin(const PinFields& pin);
  // A new merged geolocation of `ind`: the posts of `ind` waiting for one get its fields.
  void AddGeo(int32_t ind, const GeoFields& geo);
  // A new merged user record: the posts of its ind waiting for one get its fields, and it
  // counts in Q6 when its join date is in Q6's years. A record with a NULL ind (which the
  // record schema never lets through) is ignored. Errors: as AddPin for its day.
  Status AddUser(const UserRecord& user);

  FactsView View();
  // Frees everything (views keep what they hold until they go).
  void Clear();

  size_t posts() const { return posts_.size(); }
  size_t users() const { return users_.size(); }
  size_t persons() const { return persons_.size(); }
  size_t waiting_for_geo() const { return waiting_geo_.size(); }
  size_t waiting_for_user() const { return waiting_user_.size(); }
  // Bytes held by the facts, dictionaries and maps (allocated capacity, approximately).
  size_t bytes() const;

 private:
  struct PersonKey {
    uint32_t first = kNullId;
    uint32_t last = kNullId;
    int32_t age = 0;
    bool age_null = true;
    int64_t joined = 0;
    friend bool operator==(const PersonKey&, const PersonKey&) = default;
  };
  static uint64_t HashPerson(const PersonKey& key);
  uint32_t PersonId(const UserRecord& user);
  uint32_t Intern(Dictionary& dict, const std::optional<std::string_view>& text);
  void ApplyGeo(PostChunk* chunk, size_t at, const GeoFields& geo);
  static void ApplyUser(PostChunk* chunk, size_t at, const UserFields& user);

  ChunkedTable<PostChunk> posts_;
  ChunkedTable<UserChunk> users_;
  Dictionary categories_, countries_, posters_;
  Dictionary names_;  // first and last names, for person keys (writer only)
  std::vector<PersonKey> persons_;
  FlatIndex person_index_;
  // Posts (indexes into posts_) waiting for the record of their ind.
  std::unordered_multimap<int32_t, uint32_t> waiting_geo_, waiting_user_;
  std::optional<int32_t> min_day_, max_day_;
};

}  // namespace pinpipe::dashboard
