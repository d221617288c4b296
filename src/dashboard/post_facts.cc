#include "dashboard/post_facts.h"

#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <type_traits>

#include "core/civil_day.h"

namespace pinpipe::dashboard {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
constexpr int32_t kMaxDay = 0xffff;  // days fit in uint16

constexpr std::array<std::string_view, kAgeGroups> kAgeGroupLabels = {"18-24", "25-35", "36-50",
                                                                      "50+"};

// Microseconds since the epoch at 1 January of `year`.
int64_t YearStart(int year) {
  return *core::ParseDate(std::to_string(year) + "-01-01") * kMicrosPerDay;
}

// 1.. for a timestamp in [first, last] (years), else 0: `year >= first AND year < last + 1`
// written on the timestamp, as the SQL compares (posted_at >= '2018-01-01' AND < '2023-01-01').
template <int kFirst, int kLast>
uint8_t YearCode(std::optional<int64_t> micros) {
  static const std::array<int64_t, kLast - kFirst + 2> starts = [] {
    std::array<int64_t, kLast - kFirst + 2> out{};
    for (int y = kFirst; y <= kLast + 1; ++y) out[static_cast<size_t>(y - kFirst)] = YearStart(y);
    return out;
  }();
  if (!micros || *micros < starts.front() || *micros >= starts.back()) return 0;
  const auto next = std::upper_bound(starts.begin(), starts.end(), *micros);
  return static_cast<uint8_t>(next - starts.begin());
}

Status DayInRange(int32_t day, std::string_view what) {
  if (day >= 0 && day <= kMaxDay) return Status::Ok();
  return InvalidArgument(std::string(what) + " dt " + core::DateOfDay(day) +
                         " is outside the days the analytics engine holds (" + core::DateOfDay(0) +
                         ".." + core::DateOfDay(kMaxDay) + ")");
}

std::vector<uint32_t> SortedIds(const DictView& dict) {
  std::vector<uint32_t> ids(dict.size());
  for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return dict[a] < dict[b]; });
  return ids;
}

std::optional<uint32_t> FindSorted(const DictView& dict, const std::vector<uint32_t>& sorted,
                                   std::string_view name) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [&](uint32_t id, std::string_view n) { return dict[id] < n; });
  if (it == sorted.end() || dict[*it] != name) return std::nullopt;
  return *it;
}

}  // namespace

uint8_t AgeGroupCode(std::optional<int32_t> age) {
  if (!age || *age < 18) return 0;
  if (*age <= 24) return 1;
  if (*age <= 35) return 2;
  if (*age <= 50) return 3;
  return 4;
}

std::string_view AgeGroupLabel(uint8_t code) {
  PINPIPE_CHECK(code >= 1 && code <= kAgeGroups) << int{code};
  return kAgeGroupLabels[code - 1];
}

std::optional<uint8_t> AgeGroupFromLabel(std::string_view label) {
  for (size_t i = 0; i < kAgeGroupLabels.size(); ++i) {
    if (kAgeGroupLabels[i] == label) return static_cast<uint8_t>(i + 1);
  }
  return std::nullopt;
}

uint8_t PostYearCode(std::optional<int64_t> micros) {
  return YearCode<kPostYearFirst, kPostYearLast>(micros);
}

uint8_t JoinYearCode(std::optional<int64_t> micros) {
  return YearCode<kJoinYearFirst, kJoinYearLast>(micros);
}

std::optional<uint32_t> FactsView::FindCategory(std::string_view name) const {
  return FindSorted(categories, categories_sorted, name);
}

std::optional<uint32_t> FactsView::FindCountry(std::string_view name) const {
  return FindSorted(countries, countries_sorted, name);
}

uint32_t PostFacts::Intern(Dictionary& dict, const std::optional<std::string_view>& text) {
  return text ? dict.Intern(*text) : kNullId;
}

namespace {

uint64_t HashPair(uint32_t category, uint32_t country) {
  return std::hash<uint64_t>{}((uint64_t{category} << 32 | country) * 0x9e3779b97f4a7c15ULL);
}

template <typename Id>
Id Narrowed(uint32_t id) {
  return id == kNullId ? std::numeric_limits<Id>::max() : static_cast<Id>(id);
}

// Chunk and offset of post i for writing, in whichever table holds the posts.
template <typename Chunk, typename Fn>
void Write(ChunkedTable<Chunk>& table, size_t i, const Fn& fn) {
  auto [chunk, at] = table.Mutable(i);
  fn(*chunk, at);
}

}  // namespace

uint32_t PostFacts::PairId(uint32_t category, uint32_t country) {
  const uint64_t hash = HashPair(category, country);
  auto same = [&](uint32_t id) {
    auto [chunk, at] = pairs_.At(id);
    return chunk->category[at] == category && chunk->country[at] == country;
  };
  if (auto found = pair_index_.Find(hash, same)) return *found;
  const auto id = static_cast<uint32_t>(pairs_.size());
  auto [chunk, at] = pairs_.Append();
  chunk->category[at] = category;
  chunk->country[at] = country;
  pair_index_.Insert(hash, id, [&](uint32_t other) {
    auto [c, a] = pairs_.At(other);
    return HashPair(c->category[a], c->country[a]);
  });
  return id;
}

void PostFacts::WidenFor(uint32_t id) {
  if (wide_ || (id == kNullId || id < narrow_ids_)) return;
  // Every post to the 32-bit table (views keep the 16-bit chunks they hold); for good.
  for (size_t i = 0; i < posts_.size(); ++i) {
    auto [from, at] = posts_.At(i);
    auto [to, to_at] = wide_posts_.Append();
    to->day[to_at] = from->day[at];
    to->codes[to_at] = from->codes[at];
    to->pair[to_at] = from->pair[at];
    to->poster[to_at] =
        from->poster[at] == PostChunk::kNullPoster ? WidePostChunk::kNullPoster : from->poster[at];
    to->follower[to_at] = from->follower[at];
    to->ind[to_at] = from->ind[at];
  }
  posts_.Clear();
  wide_ = true;
}

uint32_t PostFacts::PairOf(uint32_t post) const {
  if (wide_) {
    auto [chunk, at] = wide_posts_.At(post);
    return chunk->pair[at];
  }
  auto [chunk, at] = posts_.At(post);
  return chunk->pair[at];
}

void PostFacts::ApplyGeo(uint32_t post, uint32_t country, uint8_t post_year) {
  auto [pairs, pair_at] = pairs_.At(PairOf(post));
  const uint32_t pair = PairId(pairs->category[pair_at], country);
  WidenFor(pair);
  auto apply = [&](auto& chunk, size_t at) {
    using Id = std::remove_reference_t<decltype(chunk.pair[0])>;
    chunk.pair[at] = static_cast<Id>(pair);
    chunk.codes[at] = static_cast<uint16_t>((chunk.codes[at] & ~(0x7u << kPostYearShift)) |
                                            (unsigned{post_year} << kPostYearShift) | kHasGeo);
  };
  if (wide_) {
    Write(wide_posts_, post, apply);
  } else {
    Write(posts_, post, apply);
  }
}

void PostFacts::ApplyUser(uint32_t post, const UserFields& user) {
  const auto codes = static_cast<uint16_t>(
      AgeGroupCode(user.age) | (unsigned{JoinYearCode(user.date_joined_us)} << kJoinYearShift) |
      kHasUser);
  auto apply = [&](auto& chunk, size_t at) {
    chunk.codes[at] = static_cast<uint16_t>(
        (chunk.codes[at] & ~(kAgeGroupMask | (0x7u << kJoinYearShift))) | codes);
  };
  if (wide_) {
    Write(wide_posts_, post, apply);
  } else {
    Write(posts_, post, apply);
  }
}

Status PostFacts::AddPin(const PinFields& pin) {
  RETURN_IF_ERROR(DayInRange(pin.day, "pin"));
  PINPIPE_CHECK(posts() < kNullId) << "too many posts";
  const auto index = static_cast<uint32_t>(posts());
  const uint32_t category = Intern(categories_, pin.category);
  const uint32_t country = pin.geo ? Intern(countries_, pin.geo->country) : kNullId;
  const uint32_t pair = PairId(category, country);
  const uint32_t poster = Intern(posters_, pin.poster_name);
  WidenFor(pair);
  WidenFor(poster);
  uint16_t codes = 0;
  if (!pin.follower_count) codes |= kFollowerNull;
  if (pin.batch) codes |= kBatchLayer;
  if (!pin.ind) codes |= kIndNull;
  if (pin.geo) {
    codes |= static_cast<uint16_t>(
        (unsigned{PostYearCode(pin.geo->timestamp_us)} << kPostYearShift) | kHasGeo);
  }
  if (pin.user) {
    codes |= static_cast<uint16_t>(
        AgeGroupCode(pin.user->age) |
        (unsigned{JoinYearCode(pin.user->date_joined_us)} << kJoinYearShift) | kHasUser);
  }
  auto fill = [&](auto& table) {
    auto [chunk, at] = table.Append();
    using Id = std::remove_reference_t<decltype(chunk->pair[0])>;
    chunk->day[at] = static_cast<uint16_t>(pin.day);
    chunk->codes[at] = codes;
    chunk->pair[at] = static_cast<Id>(pair);
    chunk->poster[at] = Narrowed<Id>(poster);
    chunk->follower[at] = pin.follower_count.value_or(0);
    chunk->ind[at] = pin.ind.value_or(0);
  };
  if (wide_) {
    fill(wide_posts_);
  } else {
    fill(posts_);
  }
  if (index % PostChunk::kCapacity == 0) chunk_days_.emplace_back();
  DayRange& days = chunk_days_.back();
  days.min = std::min(days.min, static_cast<uint16_t>(pin.day));
  days.max = std::max(days.max, static_cast<uint16_t>(pin.day));
  if (!pin.geo && pin.ind) waiting_geo_.emplace(*pin.ind, index);
  if (!pin.user && pin.ind) waiting_user_.emplace(*pin.ind, index);
  if (!min_day_ || pin.day < *min_day_) min_day_ = pin.day;
  if (!max_day_ || pin.day > *max_day_) max_day_ = pin.day;
  return Status::Ok();
}

void PostFacts::AddGeo(int32_t ind, const GeoFields& geo) {
  auto [begin, end] = waiting_geo_.equal_range(ind);
  if (begin == end) return;
  const uint32_t country = Intern(countries_, geo.country);
  const uint8_t post_year = PostYearCode(geo.timestamp_us);
  for (auto it = begin; it != end; ++it) ApplyGeo(it->second, country, post_year);
  waiting_geo_.erase(begin, end);
}

namespace {

// A person's key as PersonChunk stores it.
struct PersonKey {
  uint32_t first = 0, last = 0;
  int32_t age = 0;
  uint32_t joined_low = 0;
  uint16_t joined_high = 0;
  uint8_t codes = 0;

  static PersonKey At(const PersonChunk& c, size_t at) {
    return {c.first[at], c.last[at], c.age[at], c.joined_low[at], c.joined_high[at], c.codes[at]};
  }
  void Store(PersonChunk* c, size_t at) const {
    c->first[at] = first;
    c->last[at] = last;
    c->age[at] = age;
    c->joined_low[at] = joined_low;
    c->joined_high[at] = joined_high;
    c->codes[at] = codes;
  }
  uint64_t Hash() const {
    uint64_t h = first;
    h = h * 0x9e3779b97f4a7c15ULL + last;
    h = h * 0x9e3779b97f4a7c15ULL + static_cast<uint32_t>(age) + (uint64_t{codes} << 40);
    h = h * 0x9e3779b97f4a7c15ULL + (uint64_t{joined_high} << 32 | joined_low);
    return std::hash<uint64_t>{}(h ^ (h >> 29));
  }
};

}  // namespace

uint32_t PostFacts::PersonId(const UserRecord& user) {
  static const int64_t kJoinedBase = YearStart(kJoinYearFirst);
  // In Q6's years (the caller checked): under 2^48 microseconds since the base.
  const auto joined = static_cast<uint64_t>(*user.fields.date_joined_us - kJoinedBase);
  PINPIPE_CHECK(joined < (uint64_t{1} << 48)) << joined;
  PersonKey key;
  key.first = Intern(names_, user.first_name);
  key.last = Intern(names_, user.last_name);
  key.age = user.fields.age.value_or(0);
  key.joined_low = static_cast<uint32_t>(joined);
  key.joined_high = static_cast<uint16_t>(joined >> 32);
  key.codes =
      static_cast<uint8_t>(AgeGroupCode(user.fields.age) |
                           (unsigned{JoinYearCode(user.fields.date_joined_us)} << kJoinYearShift) |
                           (user.fields.age ? 0 : kPersonAgeNull));
  const uint64_t hash = key.Hash();
  // Field by field: a probe mostly stops at the first name (one cache line, not six).
  auto equal = [&](uint32_t id) {
    auto [c, at] = persons_.At(id);
    return c->first[at] == key.first && c->last[at] == key.last && c->age[at] == key.age &&
           c->joined_low[at] == key.joined_low && c->joined_high[at] == key.joined_high &&
           c->codes[at] == key.codes;
  };
  if (auto found = person_index_.Find(hash, equal)) return *found;
  const auto id = static_cast<uint32_t>(persons_.size());
  auto [chunk, at] = persons_.Append();
  key.Store(chunk, at);
  person_index_.Insert(hash, id, [&](uint32_t other) {
    auto [c, a] = persons_.At(other);
    return PersonKey::At(*c, a).Hash();
  });
  return id;
}

Status PostFacts::AddUser(const UserRecord& user) {
  RETURN_IF_ERROR(DayInRange(user.day, "user"));
  if (!user.ind) return Status::Ok();
  auto [begin, end] = waiting_user_.equal_range(*user.ind);
  for (auto it = begin; it != end; ++it) ApplyUser(it->second, user.fields);
  waiting_user_.erase(begin, end);
  if (JoinYearCode(user.fields.date_joined_us) == 0) return Status::Ok();  // Q6: 2015-2020 only
  const uint32_t person = PersonId(user);
  auto [chunk, at] = users_.Append();
  chunk->ind[at] = *user.ind;
  chunk->person[at] = person;
  chunk->day[at] = static_cast<uint16_t>(user.day);
  return Status::Ok();
}

FactsView PostFacts::View() {
  FactsView view;
  view.posts = posts_.View();
  view.wide_posts = wide_posts_.View();
  view.chunk_days = chunk_days_;
  view.pairs = pairs_.View();
  view.users = users_.View();
  view.persons = persons_.View();
  view.categories = categories_.View();
  view.countries = countries_.View();
  view.posters = posters_.View();
  view.categories_sorted = SortedIds(view.categories);
  view.countries_sorted = SortedIds(view.countries);
  view.min_day = min_day_;
  view.max_day = max_day_;
  return view;
}

void PostFacts::Clear() {
  posts_.Clear();
  wide_posts_.Clear();
  wide_ = false;
  chunk_days_.clear();
  chunk_days_.shrink_to_fit();
  pairs_.Clear();
  pair_index_.Clear();
  users_.Clear();
  persons_.Clear();
  person_index_.Clear();
  categories_.Clear();
  countries_.Clear();
  posters_.Clear();
  names_.Clear();
  waiting_geo_ = {};
  waiting_user_ = {};
  min_day_.reset();
  max_day_.reset();
}

size_t PostFacts::bytes() const {
  // An unordered_multimap entry: the node (key, value, next pointer, cached hash) and a bucket.
  constexpr size_t kWaitingEntry = 40;
  return posts_.bytes() + wide_posts_.bytes() + chunk_days_.capacity() * sizeof(DayRange) +
         pairs_.bytes() + pair_index_.bytes() + users_.bytes() + persons_.bytes() +
         person_index_.bytes() + categories_.bytes() + countries_.bytes() + posters_.bytes() +
         names_.bytes() + (waiting_geo_.size() + waiting_user_.size()) * kWaitingEntry;
}

}  // namespace pinpipe::dashboard
