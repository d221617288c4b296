// PostFacts: the analytics engine's in-memory copy of the merged posts (docs/design.md,
// "Dashboard analytics engine"): one compact entry per merged pin (serving.pins: one per
// unique_id) with what the 8 questions need from the pin and from its geolocation and user
// record (serving.geo / serving.users, LEFT JOINed on ind as serving.posts does), and one entry
// per merged user record whose join date is in Q6's years (Q6 counts people among the user
// records, with a post or not).
//
// A post is 16 bytes (PostChunk, a struct of arrays): dt (uint16 days since 1970-01-01, so
// 1970-01-01..2149-06-06), its (category, country) pair and its poster name as 16-bit
// dictionary ids, follower_count, ind, and 16 bits of codes: age group, join year and post year
// (the question's ranges only), NULL flags, which records it has, its layer. The 16-bit ids hold
// while there are at most 65,535 distinct (category, country) pairs and as many poster names;
// the first id past that converts the posts to 20-byte entries with 32-bit ids (WidePostChunk)
// for good, so an answer is never wrong, only the memory grows. A Q6 user record is 10 bytes:
// ind, person (a distinct (first_name, last_name, age, date_joined), the SQL's DISTINCT) and dt;
// a person is 19 bytes (its key, and its age group and join year, which readers take from
// there) plus its slot in an index kept at most 7/8 full. Strings live once in dictionaries. A
// post whose geolocation or user record has not arrived yet is listed by ind in a small map and
// gets the fields when the record comes (AddGeo/AddUser); nothing else is kept per row.
//
// The rules (age groups, year ranges, NULL handling) are those of src/batch/analytics_sql.cc,
// the reference definition; tests/integration/dashboard proves the two equal.
//
// Thread-safety: one writer thread calls the mutating functions; View() returns an immutable
// FactsView that any number of threads may read while the writer goes on (chunked.h).
#pragma once

#include <cstdint>
#include <limits>
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

// Post codes (PostChunkOf::codes).
inline constexpr uint16_t kAgeGroupMask = 0x7;      // bits 0-2: AgeGroupCode
inline constexpr int kJoinYearShift = 3;            // bits 3-5: JoinYearCode
inline constexpr int kPostYearShift = 6;            // bits 6-8: PostYearCode
inline constexpr uint16_t kFollowerNull = 1u << 9;  // follower_count IS NULL
inline constexpr uint16_t kHasGeo = 1u << 10;       // has its geolocation record
inline constexpr uint16_t kHasUser = 1u << 11;      // has its user record
inline constexpr uint16_t kBatchLayer = 1u << 12;   // layer = 'batch' (else 'speed')
inline constexpr uint16_t kIndNull = 1u << 13;      // ind IS NULL (joins nothing)
inline uint8_t AgeGroupOf(uint16_t codes) { return codes & kAgeGroupMask; }
inline uint8_t JoinYearOf(uint16_t codes) { return (codes >> kJoinYearShift) & 0x7; }
inline uint8_t PostYearOf(uint16_t codes) { return (codes >> kPostYearShift) & 0x7; }

// A post (see above). Id is uint16_t (PostChunk) or uint32_t (WidePostChunk).
template <typename Id>
struct PostChunkOf {
  static constexpr size_t kCapacity = size_t{1} << 13;
  static constexpr Id kNullPoster = std::numeric_limits<Id>::max();
  uint16_t day[kCapacity];
  uint16_t codes[kCapacity];
  Id pair[kCapacity];           // (category, country) pair id: FactsView::pairs
  Id poster[kCapacity];         // kNullPoster: NULL
  int32_t follower[kCapacity];  // valid unless kFollowerNull
  int32_t ind[kCapacity];       // valid unless kIndNull
};
using PostChunk = PostChunkOf<uint16_t>;
using WidePostChunk = PostChunkOf<uint32_t>;

// The distinct (category, country) pairs of the posts, by pair id.
struct PairChunk {
  static constexpr size_t kCapacity = size_t{1} << 12;
  uint32_t category[kCapacity];  // kNullId: NULL
  uint32_t country[kCapacity];   // kNullId: NULL or no geolocation
};

// Person codes (PersonChunk::codes): bits 0-2 AgeGroupCode, 3-5 JoinYearCode (never 0), and
inline constexpr uint8_t kPersonAgeNull = 1u << 6;  // age IS NULL

// The distinct people of the Q6 user records, by person id. Readers use `codes`; the rest is
// the key (writer side): the name ids, age (0 when NULL) and date_joined as microseconds since
// 2015-01-01 (in Q6's years: under 2^48) in 32 + 16 bits.
struct PersonChunk {
  static constexpr size_t kCapacity = size_t{1} << 12;
  uint32_t first[kCapacity];
  uint32_t last[kCapacity];
  int32_t age[kCapacity];
  uint32_t joined_low[kCapacity];
  uint16_t joined_high[kCapacity];
  uint8_t codes[kCapacity];
};

struct UserChunk {
  static constexpr size_t kCapacity = size_t{1} << 13;
  int32_t ind[kCapacity];
  uint32_t person[kCapacity];
  uint16_t day[kCapacity];
};

inline constexpr size_t kPostBytes = sizeof(PostChunk) / PostChunk::kCapacity;
inline constexpr size_t kWidePostBytes = sizeof(WidePostChunk) / WidePostChunk::kCapacity;
inline constexpr size_t kUserBytes = sizeof(UserChunk) / UserChunk::kCapacity;
inline constexpr size_t kPersonBytes = sizeof(PersonChunk) / PersonChunk::kCapacity;
// The 16-bit ids' limit: pair and poster ids 0..65534 (a poster id 65535 is NULL).
inline constexpr size_t kNarrowIds = 0xffff;

// The days of the posts of one chunk, for skipping chunks outside a date filter.
struct DayRange {
  uint16_t min = 0xffff;
  uint16_t max = 0;
};

// What readers see: immutable. The posts are in `posts` (16-bit ids) or, once a dictionary
// outgrew those, in `wide_posts`; the other one is empty.
struct FactsView {
  ChunkedView<PostChunk> posts;
  ChunkedView<WidePostChunk> wide_posts;
  std::vector<DayRange> chunk_days;  // per chunk of the posts
  ChunkedView<PairChunk> pairs;
  ChunkedView<UserChunk> users;      // the Q6 user records
  ChunkedView<PersonChunk> persons;  // person ids are 0..persons.size-1
  DictView categories, countries, posters;
  std::vector<uint32_t> categories_sorted, countries_sorted;  // ids by byte order of the names
  std::optional<int32_t> min_day, max_day;                    // over the posts

  size_t post_count() const { return posts.size + wide_posts.size; }
  bool wide() const { return wide_posts.size > 0; }
  uint8_t PersonCodes(uint32_t person) const {
    auto [chunk, at] = persons.At(person);
    return chunk->codes[at];
  }
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
  // narrow_ids: how many ids the 16-bit entries take (kNarrowIds; tests lower it to cover the
  // conversion to 32-bit ids, 0 starts wide).
  explicit PostFacts(size_t narrow_ids = kNarrowIds) : narrow_ids_(narrow_ids) {}
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

  size_t posts() const { return posts_.size() + wide_posts_.size(); }
  bool wide() const { return wide_; }
  size_t users() const { return users_.size(); }
  size_t persons() const { return persons_.size(); }
  size_t waiting_for_geo() const { return waiting_geo_.size(); }
  size_t waiting_for_user() const { return waiting_user_.size(); }
  // Bytes held by the facts, dictionaries and maps (allocated capacity, approximately).
  size_t bytes() const;

 private:
  uint32_t PersonId(const UserRecord& user);
  uint32_t PairId(uint32_t category, uint32_t country);
  uint32_t Intern(Dictionary& dict, const std::optional<std::string_view>& text);
  // The posts to 32-bit ids when `id` (a new pair or poster id) does not fit the 16-bit ones.
  void WidenFor(uint32_t id);
  uint32_t PairOf(uint32_t post) const;
  // Writes the geolocation's / user record's fields into post `post` (its chunk copied first
  // when a view holds it).
  void ApplyGeo(uint32_t post, uint32_t country, uint8_t post_year);
  void ApplyUser(uint32_t post, const UserFields& user);

  const size_t narrow_ids_;
  bool wide_ = false;
  ChunkedTable<PostChunk> posts_;           // while !wide_
  ChunkedTable<WidePostChunk> wide_posts_;  // once wide_
  std::vector<DayRange> chunk_days_;
  ChunkedTable<PairChunk> pairs_;
  FlatIndex pair_index_;
  ChunkedTable<UserChunk> users_;
  ChunkedTable<PersonChunk> persons_;
  FlatIndex person_index_{7};  // 4 bytes per slot, at most 7/8 full: ~5 bytes per person
  Dictionary categories_, countries_, posters_;
  Dictionary names_;  // first and last names, for person keys (writer only)
  // Posts (indexes into the posts) waiting for the record of their ind.
  std::unordered_multimap<int32_t, uint32_t> waiting_geo_, waiting_user_;
  std::optional<int32_t> min_day_, max_day_;
};

}  // namespace pinpipe::dashboard
