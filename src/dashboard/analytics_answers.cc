#include "dashboard/analytics_answers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/civil_day.h"
#include "core/record_validator.h"

namespace pinpipe::dashboard {
namespace {

// Dense counters up to this many cells (4 bytes each); a hash map beyond (only with thousands
// of distinct countries and categories, which real data does not have).
constexpr size_t kDenseCells = size_t{1} << 20;

// The post filters resolved against one view's dictionaries.
struct PostFilter {
  bool none = false;  // a filter names a value no post has: nothing matches
  int32_t from = std::numeric_limits<int32_t>::min();
  int32_t to = std::numeric_limits<int32_t>::max();
  bool by_category = false;
  uint32_t category = 0;
  bool by_country = false;
  uint32_t country = 0;
  uint8_t age_group = 0;  // 0: any

  bool InDays(int32_t day) const { return day >= from && day <= to; }
  // The filters of the post questions (the SQL's kPostFilter).
  bool Keeps(const PostChunk& c, size_t i) const {
    if (!InDays(c.day[i])) return false;
    if (by_category && c.category[i] != category) return false;
    if (by_country && c.country[i] != country) return false;
    if (age_group != 0 && AgeGroupOf(c.codes[i]) != age_group) return false;
    return true;
  }
};

int32_t DayNumber(std::chrono::sys_days day) {
  return static_cast<int32_t>(day.time_since_epoch().count());
}

PostFilter Resolve(const FactsView& facts, const AnalyticsFilters& filters) {
  PostFilter f;
  if (filters.from) f.from = DayNumber(*filters.from);
  if (filters.to) f.to = DayNumber(*filters.to);
  if (filters.category) {
    auto id = facts.FindCategory(*filters.category);
    f.none |= !id;
    f.by_category = true;
    f.category = id.value_or(kNullId);
  }
  if (filters.country) {
    auto id = facts.FindCountry(*filters.country);
    f.none |= !id;
    f.by_country = true;
    f.country = id.value_or(kNullId);
  }
  if (filters.age_group) {
    auto code = AgeGroupFromLabel(*filters.age_group);
    f.none |= !code;
    f.age_group = code.value_or(0);
  }
  return f;
}

// Calls fn(chunk, i) for every post the filter keeps.
template <typename Fn>
void ForEachPost(const FactsView& facts, const PostFilter& filter, const Fn& fn) {
  if (filter.none) return;
  for (size_t c = 0; c < facts.posts.chunks.size(); ++c) {
    const PostChunk& chunk = facts.posts.chunk(c);
    const size_t n = facts.posts.CountIn(c);
    for (size_t i = 0; i < n; ++i) {
      if (filter.Keeps(chunk, i)) fn(chunk, i);
    }
  }
}

// Counts per (a, b) for a < na, b < nb.
class PairCounts {
 public:
  PairCounts(size_t na, size_t nb) : nb_(nb) {
    if (na * nb <= kDenseCells) dense_.assign(na * nb, 0);
    sparse_mode_ = na * nb > kDenseCells;
  }
  void Add(uint32_t a, uint32_t b) {
    if (!sparse_mode_) {
      ++dense_[size_t{a} * nb_ + b];
    } else {
      ++sparse_[(uint64_t{a} << 32) | b];
    }
  }
  // fn(a, b, count) for every pair counted, in no particular order.
  template <typename Fn>
  void ForEach(const Fn& fn) const {
    if (!sparse_mode_) {
      for (size_t i = 0; i < dense_.size(); ++i) {
        if (dense_[i] != 0) {
          fn(static_cast<uint32_t>(i / nb_), static_cast<uint32_t>(i % nb_), int64_t{dense_[i]});
        }
      }
    } else {
      for (const auto& [key, count] : sparse_) {
        fn(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu), count);
      }
    }
  }

 private:
  size_t nb_;
  bool sparse_mode_ = false;
  std::vector<uint32_t> dense_;
  std::unordered_map<uint64_t, int64_t> sparse_;
};

// percentile_cont(0.5) of `v` (reordered), with PostgreSQL's arithmetic
// (orderedsetaggs.c: first = v[floor(f)], second = v[ceil(f)], first + (f - floor(f)) *
// (second - first), f = 0.5 * (n - 1), in float8).
double Median(std::vector<int32_t>& v) {
  const double f = 0.5 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(f));
  const auto hi = static_cast<size_t>(std::ceil(f));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(lo), v.end());
  const double first = v[lo];
  if (hi == lo) return first;
  // After nth_element every element past lo is >= v[lo]: the next value is their minimum.
  const double second = *std::min_element(v.begin() + static_cast<ptrdiff_t>(lo) + 1, v.end());
  return first + (f - static_cast<double>(lo)) * (second - first);
}

const TableSpec& Spec(size_t index) { return AnalyticsTables()[index]; }

std::vector<Cell> Row(std::initializer_list<Cell> cells) { return std::vector<Cell>(cells); }

// Q1: most popular category per country.
void Q1(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(0);
  const size_t countries = facts.countries.size();
  PairCounts counts(countries, facts.categories.size());
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    if (c.country[i] != kNullId && c.category[i] != kNullId) counts.Add(c.country[i], c.category[i]);
  });
  std::vector<int64_t> best(countries, 0);
  counts.ForEach([&](uint32_t country, uint32_t, int64_t n) {
    best[country] = std::max(best[country], n);
  });
  std::vector<std::array<uint32_t, 2>> winners;
  counts.ForEach([&](uint32_t country, uint32_t category, int64_t n) {
    if (n == best[country]) winners.push_back({country, category});
  });
  std::sort(winners.begin(), winners.end(), [&](const auto& a, const auto& b) {
    const std::string_view ca = facts.countries[a[0]], cb = facts.countries[b[0]];
    if (ca != cb) return ca < cb;
    return facts.categories[a[1]] < facts.categories[b[1]];
  });
  for (const auto& [country, category] : winners) {
    table.rows.push_back(Row({facts.countries[country], facts.categories[category],
                              best[country]}));
  }
}

// Q2: posts per category and post year, and the top category per year.
void Q2(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  constexpr size_t kYears = kPostYearLast - kPostYearFirst + 1;
  const size_t categories = facts.categories.size();
  std::vector<uint32_t> counts(kYears * categories, 0);
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    const uint8_t year = PostYearOf(c.codes[i]);
    if (year != 0 && c.category[i] != kNullId) ++counts[(year - 1u) * categories + c.category[i]];
  });
  // Both tables first: a reference taken before the second emplace_back would dangle.
  out->resize(out->size() + 2);
  AnswerTable& all = (*out)[out->size() - 2];
  all.spec = &Spec(1);
  AnswerTable& top = out->back();
  top.spec = &Spec(2);
  for (size_t y = 0; y < kYears; ++y) {
    const int64_t year = kPostYearFirst + static_cast<int64_t>(y);
    const uint32_t* row = counts.data() + y * categories;
    const uint32_t best = categories == 0 ? 0 : *std::max_element(row, row + categories);
    for (uint32_t category : facts.categories_sorted) {
      const int64_t n = row[category];
      if (n == 0) continue;
      all.rows.push_back(Row({year, facts.categories[category], n}));
      if (n == best) top.rows.push_back(Row({year, facts.categories[category], n}));
    }
  }
}

// Q3: the posters with the most followers per country, and the country (or countries) of the
// overall top.
void Q3(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  const size_t countries = facts.countries.size();
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> best(countries, kNone);
  auto counted = [](const PostChunk& c, size_t i) {
    return c.country[i] != kNullId && c.poster[i] != kNullId && (c.codes[i] & kFollowerNull) == 0;
  };
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    if (counted(c, i)) best[c.country[i]] = std::max<int64_t>(best[c.country[i]], c.follower[i]);
  });
  std::vector<std::array<uint32_t, 2>> winners;  // (country, poster), one per post at the top
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    if (counted(c, i) && c.follower[i] == best[c.country[i]]) {
      winners.push_back({c.country[i], c.poster[i]});
    }
  });
  std::sort(winners.begin(), winners.end(), [&](const auto& a, const auto& b) {
    const std::string_view ca = facts.countries[a[0]], cb = facts.countries[b[0]];
    if (ca != cb) return ca < cb;
    return facts.posters[a[1]] < facts.posters[b[1]];
  });
  winners.erase(std::unique(winners.begin(), winners.end()), winners.end());
  out->resize(out->size() + 2);
  AnswerTable& per_country = (*out)[out->size() - 2];
  per_country.spec = &Spec(3);
  AnswerTable& top = out->back();
  top.spec = &Spec(4);
  int64_t overall = kNone;
  for (const auto& [country, poster] : winners) overall = std::max(overall, best[country]);
  for (const auto& [country, poster] : winners) {
    per_country.rows.push_back(Row({facts.countries[country], facts.posters[poster], best[country]}));
    if (best[country] == overall) {
      top.rows.push_back(Row({facts.countries[country], facts.posters[poster], best[country]}));
    }
  }
}

// Q4: most popular category per age group.
void Q4(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  const size_t categories = facts.categories.size();
  std::vector<uint32_t> counts(kAgeGroups * categories, 0);
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    const uint8_t group = AgeGroupOf(c.codes[i]);
    if (group != 0 && c.category[i] != kNullId) ++counts[(group - 1u) * categories + c.category[i]];
  });
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(5);
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    const uint32_t* row = counts.data() + (g - 1u) * categories;
    const uint32_t best = categories == 0 ? 0 : *std::max_element(row, row + categories);
    if (best == 0) continue;
    for (uint32_t category : facts.categories_sorted) {
      if (row[category] == best) {
        table.rows.push_back(Row({AgeGroupLabel(g), facts.categories[category], int64_t{best}}));
      }
    }
  }
}

// Q5: median follower_count per age group.
void Q5(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  std::array<std::vector<int32_t>, kAgeGroups> values;
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    const uint8_t group = AgeGroupOf(c.codes[i]);
    if (group != 0 && (c.codes[i] & kFollowerNull) == 0) values[group - 1u].push_back(c.follower[i]);
  });
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(6);
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    std::vector<int32_t>& v = values[g - 1u];
    if (v.empty()) continue;
    table.rows.push_back(Row({AgeGroupLabel(g), Median(v), static_cast<int64_t>(v.size())}));
  }
}

// The inds of a set of posts, for "the user has a post there" (Q6): a bitmap over the inds'
// range when that is small, else a sorted list.
class IndSet {
 public:
  explicit IndSet(std::vector<int32_t> inds) {
    if (inds.empty()) return;
    const auto [lo, hi] = std::minmax_element(inds.begin(), inds.end());
    min_ = *lo;
    const uint64_t range = static_cast<uint64_t>(int64_t{*hi} - int64_t{*lo}) + 1;
    if (range <= std::max<uint64_t>(uint64_t{1} << 23, 64 * uint64_t{inds.size()})) {
      bits_.assign((range + 63) / 64, 0);
      for (int32_t ind : inds) {
        const auto at = static_cast<uint64_t>(int64_t{ind} - min_);
        bits_[at / 64] |= uint64_t{1} << (at % 64);
      }
      range_ = range;
    } else {
      std::sort(inds.begin(), inds.end());
      inds.erase(std::unique(inds.begin(), inds.end()), inds.end());
      sorted_ = std::move(inds);
    }
  }
  bool Contains(int32_t ind) const {
    if (range_ != 0) {
      const int64_t at = int64_t{ind} - min_;
      if (at < 0 || static_cast<uint64_t>(at) >= range_) return false;
      return (bits_[static_cast<uint64_t>(at) / 64] >> (static_cast<uint64_t>(at) % 64)) & 1;
    }
    return std::binary_search(sorted_.begin(), sorted_.end(), ind);
  }

 private:
  int64_t min_ = 0;
  uint64_t range_ = 0;  // 0: sorted_ (or empty)
  std::vector<uint64_t> bits_;
  std::vector<int32_t> sorted_;
};

// Q6: people (distinct first_name, last_name, age, date_joined) among the user records, per
// join year. Filters: dt and age group on the user record; category and country keep the users
// with a post (any day) in that category and country.
void Q6(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(7);
  if (filter.none) return;
  std::optional<IndSet> with_post;
  if (filter.by_category || filter.by_country) {
    std::vector<int32_t> inds;
    for (size_t c = 0; c < facts.posts.chunks.size(); ++c) {
      const PostChunk& chunk = facts.posts.chunk(c);
      const size_t n = facts.posts.CountIn(c);
      for (size_t i = 0; i < n; ++i) {
        if ((chunk.codes[i] & kIndNull) != 0) continue;
        if (filter.by_category && chunk.category[i] != filter.category) continue;
        if (filter.by_country && chunk.country[i] != filter.country) continue;
        inds.push_back(chunk.ind[i]);
      }
    }
    with_post.emplace(std::move(inds));
  }
  constexpr size_t kYears = kJoinYearLast - kJoinYearFirst + 1;
  std::array<int64_t, kYears> people{};
  std::vector<uint64_t> seen((facts.persons + 63) / 64, 0);
  for (size_t c = 0; c < facts.users.chunks.size(); ++c) {
    const UserChunk& chunk = facts.users.chunk(c);
    const size_t n = facts.users.CountIn(c);
    for (size_t i = 0; i < n; ++i) {
      if (!filter.InDays(chunk.day[i])) continue;
      if (filter.age_group != 0 && AgeGroupOf(chunk.codes[i]) != filter.age_group) continue;
      if (with_post && !with_post->Contains(chunk.ind[i])) continue;
      const uint32_t person = chunk.person[i];
      uint64_t& word = seen[person / 64];
      const uint64_t bit = uint64_t{1} << (person % 64);
      if ((word & bit) != 0) continue;
      word |= bit;
      ++people[JoinYearOf(chunk.codes[i]) - 1u];
    }
  }
  for (size_t y = 0; y < kYears; ++y) {
    if (people[y] == 0) continue;
    table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y), people[y]}));
  }
}

// Q7: median follower_count per join year.
void Q7(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  constexpr size_t kYears = kJoinYearLast - kJoinYearFirst + 1;
  std::array<std::vector<int32_t>, kYears> values;
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    const uint8_t year = JoinYearOf(c.codes[i]);
    if (year != 0 && (c.codes[i] & kFollowerNull) == 0) values[year - 1u].push_back(c.follower[i]);
  });
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(8);
  for (size_t y = 0; y < kYears; ++y) {
    std::vector<int32_t>& v = values[y];
    if (v.empty()) continue;
    table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y), Median(v),
                              static_cast<int64_t>(v.size())}));
  }
}

// Q8: median follower_count per join year and age group.
void Q8(const FactsView& facts, const PostFilter& filter, std::vector<AnswerTable>* out) {
  constexpr size_t kYears = kJoinYearLast - kJoinYearFirst + 1;
  std::array<std::vector<int32_t>, kYears * kAgeGroups> values;
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    const uint8_t year = JoinYearOf(c.codes[i]);
    const uint8_t group = AgeGroupOf(c.codes[i]);
    if (year != 0 && group != 0 && (c.codes[i] & kFollowerNull) == 0) {
      values[(year - 1u) * kAgeGroups + (group - 1u)].push_back(c.follower[i]);
    }
  });
  AnswerTable& table = out->emplace_back();
  table.spec = &Spec(9);
  for (size_t y = 0; y < kYears; ++y) {
    for (uint8_t g = 1; g <= kAgeGroups; ++g) {
      std::vector<int32_t>& v = values[y * kAgeGroups + (g - 1u)];
      if (v.empty()) continue;
      table.rows.push_back(Row({int64_t{kJoinYearFirst} + static_cast<int64_t>(y),
                                AgeGroupLabel(g), Median(v), static_cast<int64_t>(v.size())}));
    }
  }
}

void AppendCell(const Cell& cell, std::string* out) {
  char digits[32];
  if (std::holds_alternative<std::monostate>(cell)) {
    *out += "null";
  } else if (const auto* i = std::get_if<int64_t>(&cell)) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), *i);
    out->append(digits, end);
  } else if (const auto* d = std::get_if<double>(&cell)) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), *d);
    out->append(digits, end);
  } else {
    core::AppendJsonString(std::get<std::string_view>(cell), out);
  }
}

void AppendDay(std::optional<int32_t> day, std::string* out) {
  if (day) {
    core::AppendJsonString(core::DateOfDay(*day), out);
  } else {
    *out += "null";
  }
}

}  // namespace

const std::vector<TableSpec>& AnalyticsTables() {
  static const std::vector<TableSpec> tables = {
      {"q1_popular_category_by_country", "Most popular category per country",
       {"country", "category", "category_count"}},
      {"q2_posts_by_category_and_year", "Posts per category and year (2018-2022)",
       {"post_year", "category", "category_count"}},
      {"q2_top_category_by_year", "Top category per year (2018-2022)",
       {"post_year", "category", "category_count"}},
      {"q3_top_poster_by_country", "Poster with the most followers per country",
       {"country", "poster_name", "follower_count"}},
      {"q3_top_country", "Country of the poster with the most followers",
       {"country", "poster_name", "follower_count"}},
      {"q4_popular_category_by_age_group", "Most popular category per age group",
       {"age_group", "category", "category_count"}},
      {"q5_median_follower_count_by_age_group", "Median follower count per age group",
       {"age_group", "median_follower_count", "posts"}},
      {"q6_users_joined_by_year", "Users joined per year (2015-2020)",
       {"join_year", "number_users_joined"}},
      {"q7_median_follower_count_by_join_year", "Median follower count by joining year",
       {"join_year", "median_follower_count", "posts"}},
      {"q8_median_follower_count_by_join_year_and_age_group",
       "Median follower count by joining year and age group",
       {"join_year", "age_group", "median_follower_count", "posts"}},
  };
  return tables;
}

std::vector<AnswerTable> ComputeQuestion(const FactsView& facts, const AnalyticsFilters& filters,
                                         Question question) {
  const PostFilter filter = Resolve(facts, filters);
  std::vector<AnswerTable> out;
  switch (question) {
    case Question::kQ1: Q1(facts, filter, &out); break;
    case Question::kQ2: Q2(facts, filter, &out); break;
    case Question::kQ3: Q3(facts, filter, &out); break;
    case Question::kQ4: Q4(facts, filter, &out); break;
    case Question::kQ5: Q5(facts, filter, &out); break;
    case Question::kQ6: Q6(facts, filter, &out); break;
    case Question::kQ7: Q7(facts, filter, &out); break;
    case Question::kQ8: Q8(facts, filter, &out); break;
  }
  return out;
}

std::vector<AnswerTable> ComputeAnalytics(const FactsView& facts, const AnalyticsFilters& filters) {
  std::vector<AnswerTable> out;
  out.reserve(AnalyticsTables().size());
  for (Question q : kAllQuestions) {
    for (AnswerTable& t : ComputeQuestion(facts, filters, q)) out.push_back(std::move(t));
  }
  return out;
}

std::vector<PinDay> ComputePinDays(const FactsView& facts, const AnalyticsFilters& filters) {
  std::vector<PinDay> out;
  const PostFilter filter = Resolve(facts, filters);
  if (filter.none || !facts.min_day) return out;
  const int32_t first = *facts.min_day;
  std::vector<std::array<int64_t, 2>> counts(static_cast<size_t>(*facts.max_day - first) + 1,
                                             {0, 0});
  ForEachPost(facts, filter, [&](const PostChunk& c, size_t i) {
    ++counts[static_cast<size_t>(c.day[i] - first)][(c.codes[i] & kBatchLayer) != 0 ? 0 : 1];
  });
  for (size_t d = 0; d < counts.size(); ++d) {
    if (counts[d][0] == 0 && counts[d][1] == 0) continue;
    out.push_back(PinDay{first + static_cast<int32_t>(d), counts[d][0], counts[d][1]});
  }
  return out;
}

void AppendTablesJson(const std::vector<AnswerTable>& tables, std::string* out) {
  *out += '[';
  for (size_t t = 0; t < tables.size(); ++t) {
    const AnswerTable& table = tables[t];
    if (t > 0) *out += ',';
    *out += "{\"id\":";
    core::AppendJsonString(table.spec->id, out);
    *out += ",\"title\":";
    core::AppendJsonString(table.spec->title, out);
    *out += ",\"columns\":[";
    for (size_t c = 0; c < table.spec->columns.size(); ++c) {
      if (c > 0) *out += ',';
      core::AppendJsonString(table.spec->columns[c], out);
    }
    *out += "],\"rows\":[";
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (r > 0) *out += ',';
      *out += '[';
      for (size_t c = 0; c < table.rows[r].size(); ++c) {
        if (c > 0) *out += ',';
        AppendCell(table.rows[r][c], out);
      }
      *out += ']';
    }
    *out += "]}";
  }
  *out += ']';
}

void AppendPinDaysJson(const std::vector<PinDay>& days, std::string* out) {
  *out += '[';
  for (size_t i = 0; i < days.size(); ++i) {
    if (i > 0) *out += ',';
    *out += "{\"dt\":";
    AppendDay(days[i].day, out);
    *out += ",\"batch\":" + std::to_string(days[i].batch);
    *out += ",\"speed\":" + std::to_string(days[i].speed) + "}";
  }
  *out += ']';
}

void AppendFiltersJson(const FactsView& facts, std::string* out) {
  auto names = [&](const DictView& dict, const std::vector<uint32_t>& sorted) {
    *out += '[';
    for (size_t i = 0; i < sorted.size(); ++i) {
      if (i > 0) *out += ',';
      core::AppendJsonString(dict[sorted[i]], out);
    }
    *out += ']';
  };
  *out += "{\"categories\":";
  names(facts.categories, facts.categories_sorted);
  *out += ",\"countries\":";
  names(facts.countries, facts.countries_sorted);
  *out += ",\"age_groups\":[";
  for (uint8_t g = 1; g <= kAgeGroups; ++g) {
    if (g > 1) *out += ',';
    core::AppendJsonString(AgeGroupLabel(g), out);
  }
  *out += "],\"days\":{\"min\":";
  AppendDay(facts.min_day, out);
  *out += ",\"max\":";
  AppendDay(facts.max_day, out);
  *out += "}}";
}

std::string CellText(const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return "NULL";
  if (const auto* s = std::get_if<std::string_view>(&cell)) return std::string(*s);
  std::string out;
  AppendCell(cell, &out);
  return out;
}

}  // namespace pinpipe::dashboard
