#include "dashboard/post_facts.h"

#include <algorithm>
#include <array>
#include <functional>
#include <string>

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
                         " is outside the days the analytics engine holds (" +
                         core::DateOfDay(0) + ".." + core::DateOfDay(kMaxDay) + ")");
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

void PostFacts::ApplyGeo(PostChunk* chunk, size_t at, const GeoFields& geo) {
  chunk->country[at] = Intern(countries_, geo.country);
  chunk->codes[at] = static_cast<uint16_t>(
      (chunk->codes[at] & ~(0x7u << kPostYearShift)) |
      (unsigned{PostYearCode(geo.timestamp_us)} << kPostYearShift) | kHasGeo);
}

void PostFacts::ApplyUser(PostChunk* chunk, size_t at, const UserFields& user) {
  chunk->codes[at] = static_cast<uint16_t>(
      (chunk->codes[at] & ~(kAgeGroupMask | (0x7u << kJoinYearShift))) |
      AgeGroupCode(user.age) | (unsigned{JoinYearCode(user.date_joined_us)} << kJoinYearShift) |
      kHasUser);
}

Status PostFacts::AddPin(const PinFields& pin) {
  RETURN_IF_ERROR(DayInRange(pin.day, "pin"));
  PINPIPE_CHECK(posts_.size() < kNullId) << "too many posts";
  const auto index = static_cast<uint32_t>(posts_.size());
  auto [chunk, at] = posts_.Append();
  chunk->day[at] = static_cast<uint16_t>(pin.day);
  chunk->category[at] = Intern(categories_, pin.category);
  chunk->poster[at] = Intern(posters_, pin.poster_name);
  chunk->follower[at] = pin.follower_count.value_or(0);
  chunk->ind[at] = pin.ind.value_or(0);
  chunk->country[at] = kNullId;
  uint16_t codes = 0;
  if (!pin.follower_count) codes |= kFollowerNull;
  if (pin.batch) codes |= kBatchLayer;
  if (!pin.ind) codes |= kIndNull;
  chunk->codes[at] = codes;
  if (pin.geo) {
    ApplyGeo(chunk, at, *pin.geo);
  } else if (pin.ind) {
    waiting_geo_.emplace(*pin.ind, index);
  }
  if (pin.user) {
    ApplyUser(chunk, at, *pin.user);
  } else if (pin.ind) {
    waiting_user_.emplace(*pin.ind, index);
  }
  if (!min_day_ || pin.day < *min_day_) min_day_ = pin.day;
  if (!max_day_ || pin.day > *max_day_) max_day_ = pin.day;
  return Status::Ok();
}

void PostFacts::AddGeo(int32_t ind, const GeoFields& geo) {
  auto [begin, end] = waiting_geo_.equal_range(ind);
  for (auto it = begin; it != end; ++it) {
    auto [chunk, at] = posts_.Mutable(it->second);
    ApplyGeo(chunk, at, geo);
  }
  waiting_geo_.erase(begin, end);
}

uint64_t PostFacts::HashPerson(const PersonKey& key) {
  uint64_t h = key.first;
  h = h * 0x9e3779b97f4a7c15ULL + key.last;
  h = h * 0x9e3779b97f4a7c15ULL + static_cast<uint32_t>(key.age) + (key.age_null ? 1ULL << 40 : 0);
  h = h * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(key.joined);
  return std::hash<uint64_t>{}(h ^ (h >> 29));
}

uint32_t PostFacts::PersonId(const UserRecord& user) {
  PersonKey key;
  key.first = Intern(names_, user.first_name);
  key.last = Intern(names_, user.last_name);
  key.age = user.fields.age.value_or(0);
  key.age_null = !user.fields.age;
  key.joined = user.fields.date_joined_us.value_or(0);  // in Q6's years: never NULL here
  const uint64_t hash = HashPerson(key);
  if (auto found = person_index_.Find(hash, [&](uint32_t id) { return persons_[id] == key; })) {
    return *found;
  }
  const auto id = static_cast<uint32_t>(persons_.size());
  persons_.push_back(key);
  person_index_.Insert(hash, id, [&](uint32_t other) { return HashPerson(persons_[other]); });
  return id;
}

Status PostFacts::AddUser(const UserRecord& user) {
  RETURN_IF_ERROR(DayInRange(user.day, "user"));
  if (!user.ind) return Status::Ok();
  auto [begin, end] = waiting_user_.equal_range(*user.ind);
  for (auto it = begin; it != end; ++it) {
    auto [chunk, at] = posts_.Mutable(it->second);
    ApplyUser(chunk, at, user.fields);
  }
  waiting_user_.erase(begin, end);
  const uint8_t join = JoinYearCode(user.fields.date_joined_us);
  if (join == 0) return Status::Ok();  // Q6 counts join years 2015-2020 only
  const uint32_t person = PersonId(user);
  auto [chunk, at] = users_.Append();
  chunk->ind[at] = *user.ind;
  chunk->person[at] = person;
  chunk->day[at] = static_cast<uint16_t>(user.day);
  chunk->codes[at] =
      static_cast<uint8_t>(AgeGroupCode(user.fields.age) | (unsigned{join} << kJoinYearShift));
  return Status::Ok();
}

FactsView PostFacts::View() {
  FactsView view;
  view.posts = posts_.View();
  view.users = users_.View();
  view.persons = static_cast<uint32_t>(persons_.size());
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
  users_.Clear();
  categories_.Clear();
  countries_.Clear();
  posters_.Clear();
  names_.Clear();
  persons_.clear();
  persons_.shrink_to_fit();
  person_index_.Clear();
  waiting_geo_ = {};
  waiting_user_ = {};
  min_day_.reset();
  max_day_.reset();
}

size_t PostFacts::bytes() const {
  // An unordered_multimap entry: the node (key, value, next pointer, cached hash) and a bucket.
  constexpr size_t kWaitingEntry = 40;
  return posts_.bytes() + users_.bytes() + categories_.bytes() + countries_.bytes() +
         posters_.bytes() + names_.bytes() + persons_.capacity() * sizeof(PersonKey) +
         person_index_.bytes() + (waiting_geo_.size() + waiting_user_.size()) * kWaitingEntry;
}

}  // namespace pinpipe::dashboard
