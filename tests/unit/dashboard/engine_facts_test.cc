// The analytics engine's storage (src/dashboard/chunked.h, post_facts.h) and the pieces of its
// answers that need no data set: the promised sizes, the copy-on-write views readers rely on,
// the dictionaries, the age groups and year ranges at their edges, PostgreSQL's median
// arithmetic, the JSON shapes, and the poll arithmetic (backlog, offset ranges).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "core/civil_day.h"
#include "dashboard/analytics_answers.h"
#include "dashboard/chunked.h"
#include "dashboard/fact_loader.h"
#include "dashboard/post_facts.h"
#include "testing/status_matchers.h"

namespace pinpipe::dashboard {
namespace {

int64_t Micros(const std::string& date, int64_t seconds_of_day = 0, int64_t micros = 0) {
  return (*core::ParseDate(date) * 86400 + seconds_of_day) * 1000000 + micros;
}

int32_t Day(const std::string& date) { return static_cast<int32_t>(*core::ParseDate(date)); }

TEST(EngineFactsTest, EntriesStayWithinTheirByteBudgets) {
  // docs/design.md "Dashboard analytics engine": 16 bytes per post (20 with 32-bit ids), 10 per
  // Q6 user record, 19 per person.
  EXPECT_EQ(kPostBytes, 16u);
  EXPECT_EQ(kWidePostBytes, 20u);
  EXPECT_EQ(kUserBytes, 10u);
  EXPECT_EQ(kPersonBytes, 19u);
  PostFacts facts;
  for (int i = 0; i < 100000; ++i) {
    PinFields p;
    p.ind = i;
    p.day = Day("2024-01-01") + i % 3;
    p.category = "art";
    p.poster_name = "Ann";
    p.follower_count = i;
    p.geo = GeoFields{"Peru", Micros("2019-01-01")};
    p.user = UserFields{30, Micros("2016-01-01")};
    ASSERT_TRUE(facts.AddPin(p).ok());
    UserRecord u;
    u.ind = i;
    u.day = p.day;
    u.first_name = "Ann";
    u.last_name = "A";
    u.fields = *p.user;
    ASSERT_TRUE(facts.AddUser(u).ok());
  }
  // 100,000 posts and user records: whole chunks of each, plus under 1 MiB for the rest
  // (dictionaries, the person index), whatever the number of posts.
  const size_t chunks = (100000 + PostChunk::kCapacity - 1) / PostChunk::kCapacity;
  EXPECT_LT(facts.bytes(), chunks * (sizeof(PostChunk) + sizeof(UserChunk)) + (size_t{1} << 20));
  EXPECT_EQ(facts.persons(), 1u);
}

TEST(EngineFactsTest, ViewsNeverSeeLaterAppendsOrResolutions) {
  PostFacts facts;
  PinFields p;
  p.ind = 7;
  p.day = Day("2024-01-01");
  p.category = "art";
  p.follower_count = 5;
  ASSERT_TRUE(facts.AddPin(p).ok());  // no geo, no user: waits for both
  const FactsView before = facts.View();
  EXPECT_EQ(facts.waiting_for_geo(), 1u);
  EXPECT_EQ(facts.waiting_for_user(), 1u);

  facts.AddGeo(7, GeoFields{"Peru", Micros("2019-06-01")});
  UserRecord u;
  u.ind = 7;
  u.day = p.day;
  u.first_name = "Ann";
  u.fields = UserFields{20, Micros("2015-02-01")};
  ASSERT_TRUE(facts.AddUser(u).ok());
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(facts.AddPin(p).ok());  // past one chunk
  const FactsView after = facts.View();

  EXPECT_EQ(facts.waiting_for_geo(), 20000u);  // the new posts of ind 7 came after its records
  EXPECT_EQ(before.posts.size, 1u);
  EXPECT_EQ(after.posts.size, 20001u);
  auto country_of = [](const FactsView& view, uint32_t pair) {
    auto [chunk, at] = view.pairs.At(pair);
    return chunk->country[at];
  };
  auto [old_chunk, at] = before.posts.At(0);
  EXPECT_EQ(country_of(before, old_chunk->pair[at]), kNullId);
  EXPECT_EQ(AgeGroupOf(old_chunk->codes[at]), 0);
  auto [new_chunk, at2] = after.posts.At(0);
  EXPECT_EQ(after.countries[country_of(after, new_chunk->pair[at2])], "Peru");
  EXPECT_EQ(AgeGroupOf(new_chunk->codes[at2]), 1);
  EXPECT_EQ(JoinYearOf(new_chunk->codes[at2]), 1);
  EXPECT_EQ(PostYearOf(new_chunk->codes[at2]), 2);
  EXPECT_NE(new_chunk->codes[at2] & kHasGeo, 0);
  EXPECT_NE(new_chunk->codes[at2] & kHasUser, 0);
  // The answers of the old view are those of the time it was taken.
  AnalyticsFilters none;
  EXPECT_TRUE(ComputeQuestion(before, none, Question::kQ1)[0].rows.empty());
  EXPECT_EQ(ComputeQuestion(after, none, Question::kQ1)[0].rows.size(), 1u);
  EXPECT_TRUE(ComputeQuestion(before, none, Question::kQ6)[0].rows.empty());
}

TEST(EngineFactsTest, ReadersComputeWhileTheWriterAppendsAndResolves) {
  // The writer appends and resolves while readers compute over views taken earlier; each view
  // must keep giving the same answers (a data race here would show under TSan, a torn read as a
  // changed answer).
  PostFacts facts;
  auto add = [&](int i) {
    PinFields p;
    p.ind = i;
    p.day = Day("2024-01-01") + i % 5;
    p.category = i % 2 == 0 ? "art" : "travel";
    p.poster_name = "P" + std::to_string(i % 97);
    p.follower_count = i;
    ASSERT_TRUE(facts.AddPin(p).ok());
  };
  for (int i = 0; i < 30000; ++i) add(i);
  std::vector<std::pair<FactsView, std::string>> published;
  auto answer = [](const FactsView& v) {
    std::string out;
    AppendTablesJson(ComputeAnalytics(v, AnalyticsFilters{}), &out);
    AppendPinDaysJson(ComputePinDays(v, AnalyticsFilters{}), &out);
    return out;
  };
  FactsView first = facts.View();
  const std::string first_answer = answer(first);
  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0};
  std::thread reader([&] {
    while (!done) {
      if (answer(first) != first_answer) ++mismatches;
    }
  });
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 1000; ++i) add(30000 + round * 1000 + i);
    for (int i = round * 1500; i < (round + 1) * 1500; ++i) {
      facts.AddGeo(i, GeoFields{"C" + std::to_string(i % 7), Micros("2020-01-01")});
    }
    facts.View();
  }
  done = true;
  reader.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(answer(first), first_answer);
}

TEST(EngineFactsTest, DaysOutsideTheStoredRangeAreRefused) {
  PostFacts facts;
  PinFields p;
  p.day = -1;
  Status s = facts.AddPin(p);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(s.message().find("1969-12-31"), std::string::npos) << s.message();
  p.day = 0x10000;
  EXPECT_THAT(facts.AddPin(p), StatusIs(StatusCode::kInvalidArgument));
  p.day = 0xffff;
  EXPECT_TRUE(facts.AddPin(p).ok());
  p.day = 0;
  EXPECT_TRUE(facts.AddPin(p).ok());
  EXPECT_EQ(facts.posts(), 2u);
}

TEST(EngineFactsTest, UserRecordsWithoutIndOrOutsideTheJoinYearsAreNotQ6Facts) {
  PostFacts facts;
  UserRecord u;
  u.day = Day("2024-01-01");
  u.fields = UserFields{30, Micros("2016-01-01")};
  ASSERT_TRUE(facts.AddUser(u).ok());  // NULL ind
  u.ind = 1;
  u.fields.date_joined_us = Micros("2014-12-31", 86399, 999999);
  ASSERT_TRUE(facts.AddUser(u).ok());
  u.ind = 2;
  u.fields.date_joined_us = std::nullopt;
  ASSERT_TRUE(facts.AddUser(u).ok());
  EXPECT_EQ(facts.users(), 0u);
  u.ind = 3;
  u.fields.date_joined_us = Micros("2020-12-31", 86399, 999999);
  ASSERT_TRUE(facts.AddUser(u).ok());
  EXPECT_EQ(facts.users(), 1u);
}

TEST(EngineFactsTest, PostsWithoutIndWaitForNothing) {
  PostFacts facts;
  PinFields p;
  p.day = Day("2024-01-01");
  ASSERT_TRUE(facts.AddPin(p).ok());
  EXPECT_EQ(facts.waiting_for_geo(), 0u);
  EXPECT_EQ(facts.waiting_for_user(), 0u);
}

struct AgeCase {
  std::optional<int32_t> age;
  uint8_t code;
};

TEST(EngineFactsTest, AgeGroupsAtTheirEdges) {
  // analytics_sql.cc's age_group(): 50 is in 36-50, 50+ means 51 and older.
  const AgeCase cases[] = {{std::nullopt, 0}, {0, 0},  {17, 0}, {18, 1}, {24, 1}, {25, 2},
                           {35, 2},           {36, 3}, {50, 3}, {51, 4}, {150, 4}};
  for (const AgeCase& c : cases) {
    EXPECT_EQ(AgeGroupCode(c.age), c.code) << c.age.value_or(-1);
  }
  EXPECT_EQ(AgeGroupLabel(1), "18-24");
  EXPECT_EQ(AgeGroupLabel(4), "50+");
  EXPECT_EQ(AgeGroupFromLabel("36-50"), 3);
  EXPECT_EQ(AgeGroupFromLabel("50"), std::nullopt);
  EXPECT_EQ(AgeGroupFromLabel(""), std::nullopt);
}

struct YearCase {
  std::optional<int64_t> micros;
  uint8_t post;
  uint8_t join;
};

TEST(EngineFactsTest, YearRangesAtTheirEdges) {
  const int64_t last_of_2017 = Micros("2017-12-31", 86399, 999999);
  const YearCase cases[] = {
      {std::nullopt, 0, 0},
      {Micros("2014-12-31", 86399, 999999), 0, 0},
      {Micros("2015-01-01"), 0, 1},
      {last_of_2017, 0, 3},
      {Micros("2018-01-01"), 1, 4},
      {Micros("2020-12-31", 86399, 999999), 3, 6},
      {Micros("2021-01-01"), 4, 0},
      {Micros("2022-12-31", 86399, 999999), 5, 0},
      {Micros("2023-01-01"), 0, 0},
      {std::numeric_limits<int64_t>::max(), 0, 0},  // infinity
      {std::numeric_limits<int64_t>::min(), 0, 0},  // -infinity
  };
  for (const YearCase& c : cases) {
    EXPECT_EQ(PostYearCode(c.micros), c.post) << c.micros.value_or(-1);
    EXPECT_EQ(JoinYearCode(c.micros), c.join) << c.micros.value_or(-1);
  }
}

TEST(EngineFactsTest, DictionaryKeepsIdsAndBytesStableAcrossGrowth) {
  Dictionary dict;
  const std::string long_name(Dictionary::kArenaBlock + 10, 'x');
  EXPECT_EQ(dict.Intern("art"), 0u);
  EXPECT_EQ(dict.Intern(""), 1u);
  const DictView early = dict.View();
  for (int i = 0; i < 50000; ++i) dict.Intern("name" + std::to_string(i));
  const uint32_t long_id = dict.Intern(long_name);
  EXPECT_EQ(dict.Intern("art"), 0u);
  EXPECT_EQ(dict.Find("name49999"), 50001u);
  EXPECT_EQ(dict.Find("nobody"), std::nullopt);
  const DictView late = dict.View();
  EXPECT_EQ(early.size(), 2u);
  EXPECT_EQ(early[0], "art");
  EXPECT_EQ(early[1], "");
  EXPECT_EQ(late[long_id], long_name);
  EXPECT_EQ(late[2], "name0");
  dict.Clear();
  EXPECT_EQ(dict.size(), 0u);
  EXPECT_EQ(late[2], "name0");  // the view keeps its bytes
}

TEST(EngineFactsTest, ChunkedTableCopiesOnlyPublishedChunksOnWrite) {
  ChunkedTable<PostChunk> table;
  for (size_t i = 0; i < PostChunk::kCapacity + 1; ++i) table.Append().first->day[0] = 1;
  const ChunkedView<PostChunk> view = table.View();
  auto [chunk, at] = table.Mutable(3);
  EXPECT_NE(chunk, view.chunks[0].get());  // copied
  chunk->follower[at] = 42;
  auto [again, at2] = table.Mutable(4);
  EXPECT_EQ(again, chunk);  // copied once per publication
  EXPECT_EQ(view.chunk(0).follower[3], 0);
  EXPECT_EQ(view.CountIn(0), PostChunk::kCapacity);
  EXPECT_EQ(view.CountIn(1), 1u);
  auto [tail, at3] = table.Append();
  EXPECT_EQ(tail, view.chunks[1].get());  // appends go in place, past the view's size
  EXPECT_EQ(at3, 1u);
}

// percentile_cont(0.5) as PostgreSQL computes it, on small sets (through Q5 over one group).
TEST(EngineFactsTest, MedianIsPercentileContWithPostgresArithmetic) {
  struct MedianCase {
    std::vector<int32_t> values;
    double median;
  };
  const MedianCase cases[] = {
      {{7}, 7},
      {{1, 2}, 1.5},
      {{3, 1, 2}, 2},
      {{4, 1, 3, 2}, 2.5},
      {{-5, 5}, 0},
      {{2147483647, 2147483646}, 2147483646.5},
      {{-2147483647 - 1, 2147483647}, -0.5},
      {{10, 10, 10, 11}, 10},
      // The engine's histogram buckets: exact below 64, 32 per power of two above.
      {{63, 64}, 63.5},
      {{127, 128, 128, 128}, 128},
      {{-1, 0}, -0.5},
      {{-2147483647 - 1, -2147483647 - 1, 0}, -2147483648.0},
      {{1, 1000000000}, 500000000.5},
  };
  for (const MedianCase& c : cases) {
    PostFacts facts;
    for (size_t i = 0; i < c.values.size(); ++i) {
      PinFields p;
      p.ind = static_cast<int32_t>(i);
      p.day = Day("2024-01-01");
      p.follower_count = c.values[i];
      p.user = UserFields{20, Micros("2016-01-01")};
      ASSERT_TRUE(facts.AddPin(p).ok());
    }
    const auto tables = ComputeQuestion(facts.View(), AnalyticsFilters{}, Question::kQ5);
    ASSERT_EQ(tables[0].rows.size(), 1u);
    EXPECT_EQ(std::get<double>(tables[0].rows[0][1]), c.median)
        << ::testing::PrintToString(c.values);
    EXPECT_EQ(std::get<int64_t>(tables[0].rows[0][2]), static_cast<int64_t>(c.values.size()));
  }
}

// The medians (histogram, then selection in the middle buckets) against sorting every group, on
// random data of several shapes: few distinct values (ties across and within buckets), the
// whole int4 range, and values clustered around one bucket boundary; under filters.
TEST(EngineFactsTest, MediansEqualSortingOnRandomData) {
  struct Shape {
    const char* name;
    std::function<int32_t(std::mt19937&)> value;
  };
  const Shape shapes[] = {
      {"few values", [](std::mt19937& rng) { return static_cast<int32_t>(rng() % 7) * 40; }},
      {"int4 range", [](std::mt19937& rng) { return static_cast<int32_t>(rng()); }},
      {"around 2^20",
       [](std::mt19937& rng) { return (1 << 20) + static_cast<int32_t>(rng() % 65) - 32; }},
      {"small", [](std::mt19937& rng) { return static_cast<int32_t>(rng() % 200) - 100; }},
  };
  for (const Shape& shape : shapes) {
    for (int n : {1, 2, 3, 10, 101, 5000}) {
      SCOPED_TRACE(std::string(shape.name) + ", " + std::to_string(n) + " posts");
      std::mt19937 rng(static_cast<uint32_t>(n));
      PostFacts facts;
      // (age group, join year) -> values, as the SQL would see them.
      std::map<std::pair<int, int>, std::vector<int32_t>> cells;
      for (int i = 0; i < n; ++i) {
        PinFields p;
        p.ind = i;
        p.day = Day("2024-01-01") + static_cast<int32_t>(rng() % 2);
        p.category = "art";
        const int32_t value = shape.value(rng);
        p.follower_count = value;
        const int age = 15 + static_cast<int>(rng() % 50);    // some under 18
        const int join = 2014 + static_cast<int>(rng() % 8);  // some outside
        p.user = UserFields{age, Micros(std::to_string(join) + "-06-01")};
        ASSERT_TRUE(facts.AddPin(p).ok());
        if (p.day == Day("2024-01-01")) {
          cells[{AgeGroupCode(age), JoinYearCode(p.user->date_joined_us)}].push_back(value);
        }
      }
      auto median = [](std::vector<int32_t> v) {
        std::sort(v.begin(), v.end());
        const double f = 0.5 * static_cast<double>(v.size() - 1);
        const double lo = v[static_cast<size_t>(std::floor(f))];
        const double hi = v[static_cast<size_t>(std::ceil(f))];
        return lo + (f - std::floor(f)) * (hi - lo);
      };
      AnalyticsFilters first_day;
      first_day.from = first_day.to = std::chrono::sys_days(std::chrono::days(Day("2024-01-01")));
      const auto tables = ComputeAnalytics(facts.View(), first_day);
      std::vector<std::string> want5, want7, want8, got5, got7, got8;
      auto text = [](double m, size_t count) { return fmt::format("{}|{}", m, count); };
      for (int g = 1; g <= kAgeGroups; ++g) {
        std::vector<int32_t> v;
        for (const auto& [key, values] : cells) {
          if (key.first == g) v.insert(v.end(), values.begin(), values.end());
        }
        if (!v.empty()) want5.push_back(text(median(v), v.size()));
      }
      for (int y = 1; y <= 6; ++y) {
        std::vector<int32_t> v;
        for (const auto& [key, values] : cells) {
          if (key.second == y) v.insert(v.end(), values.begin(), values.end());
        }
        if (!v.empty()) want7.push_back(text(median(v), v.size()));
        for (int g = 1; g <= kAgeGroups; ++g) {
          auto it = cells.find({g, y});
          if (it != cells.end()) want8.push_back(text(median(it->second), it->second.size()));
        }
      }
      for (const auto& row : tables[6].rows) {
        got5.push_back(
            text(std::get<double>(row[1]), static_cast<size_t>(std::get<int64_t>(row[2]))));
      }
      for (const auto& row : tables[8].rows) {
        got7.push_back(
            text(std::get<double>(row[1]), static_cast<size_t>(std::get<int64_t>(row[2]))));
      }
      for (const auto& row : tables[9].rows) {
        got8.push_back(
            text(std::get<double>(row[2]), static_cast<size_t>(std::get<int64_t>(row[3]))));
      }
      EXPECT_EQ(got5, want5);
      EXPECT_EQ(got7, want7);
      EXPECT_EQ(got8, want8);
    }
  }
}

// A miss's passes over the posts are split into runs of chunks on threads of their own; the
// answers are those of one pass, whatever the number of parts (more parts than chunks leaves
// some empty), for every filter, on random data with ties, NULLs and missing records.
TEST(EngineFactsTest, AnswersDoNotDependOnTheNumberOfParts) {
  const std::vector<std::string> categories = {"art", "travel", "diy", "quotes", "beauty"};
  const std::vector<std::string> countries = {"Peru", "Chile", "Togo", "Fiji", "Oman", "Laos"};
  std::mt19937 rng(7);
  PostFacts facts;
  const int posts = 5 * static_cast<int>(PostChunk::kCapacity) + 123;
  for (int i = 0; i < posts; ++i) {
    PinFields p;
    p.ind = i;
    p.day = Day("2024-01-01") + static_cast<int32_t>(rng() % 4);
    if (rng() % 17 != 0) p.category = categories[rng() % categories.size()];
    if (rng() % 13 != 0) p.poster_name = "P" + std::to_string(rng() % 300);
    if (rng() % 11 != 0) p.follower_count = static_cast<int32_t>(rng() % 2000) * 50;  // ties
    if (rng() % 9 != 0) {
      p.geo = GeoFields{countries[rng() % countries.size()],
                        Micros("2017-06-01") + static_cast<int64_t>(rng() % 2000) * 86400000000};
    }
    if (rng() % 7 != 0) {
      p.user = UserFields{15 + static_cast<int>(rng() % 60),
                          Micros("2014-06-01") + static_cast<int64_t>(rng() % 2500) * 86400000000};
      UserRecord u;
      u.ind = i;
      u.day = p.day;
      u.first_name = "F" + std::to_string(rng() % 50);
      u.last_name = "L" + std::to_string(rng() % 20);
      u.fields = *p.user;
      ASSERT_TRUE(facts.AddUser(u).ok());
    }
    ASSERT_TRUE(facts.AddPin(p).ok());
  }
  const FactsView view = facts.View();
  ASSERT_GE(view.posts.chunks.size(), 6u);
  std::vector<AnalyticsFilters> filter_sets(6);
  const auto day = [](const char* d) { return std::chrono::sys_days(std::chrono::days(Day(d))); };
  filter_sets[1].category = "art";
  filter_sets[2].country = "Peru";
  filter_sets[3].age_group = "25-35";
  filter_sets[4].from = day("2024-01-02");
  filter_sets[4].to = day("2024-01-02");
  filter_sets[5].from = day("2024-01-02");
  filter_sets[5].category = "travel";
  filter_sets[5].country = "Chile";
  filter_sets[5].age_group = "36-50";
  for (size_t f = 0; f < filter_sets.size(); ++f) {
    std::string one;
    AppendTablesJson(ComputeAnalytics(view, filter_sets[f], Parallelism{1}), &one);
    ASSERT_GT(one.size(), 600u) << "filter set " << f;
    // Runs of 1 chunk: the threads interleave over the 6 chunks; of 4: two runs, so most
    // threads get no chunk at all.
    for (size_t parts : {2, 3, 5, 9}) {
      for (size_t run : {1, 4}) {
        const Parallelism split_by{parts, 1, run};
        std::string split;
        AppendTablesJson(ComputeAnalytics(view, filter_sets[f], split_by), &split);
        EXPECT_EQ(split, one) << "filter set " << f << ", " << parts << " parts, runs of " << run;
        for (Question q : kAllQuestions) {
          std::string alone, alone_split;
          AppendTablesJson(ComputeQuestion(view, filter_sets[f], q, Parallelism{1}), &alone);
          AppendTablesJson(ComputeQuestion(view, filter_sets[f], q, split_by), &alone_split);
          EXPECT_EQ(alone_split, alone)
              << "filter set " << f << ", Q" << static_cast<int>(q) + 1 << ", runs of " << run;
        }
      }
    }
  }
}

// Q6's "has a post there" set of inds is a bitmap over a small range of inds and a hash set
// over a wide one (real inds, negative ones and INT32_MIN among them): the same records under
// inds spread over the whole int32 range give the same answers as under small inds.
TEST(EngineFactsTest, UsersWithAPostThereDoNotDependOnTheRangeOfInds) {
  const std::vector<std::string> categories = {"art", "travel", "diy"};
  const std::vector<std::string> countries = {"Peru", "Chile", "Togo"};
  PostFacts small, wide;
  auto spread = [](int i) {  // injective, over the whole int32 range
    if (i == 0) return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(int64_t{i} * 104729 - 2000000000);
  };
  std::mt19937 rng(11);
  for (int i = 0; i < 30000; ++i) {
    const std::string category = categories[rng() % categories.size()];
    const std::string country = countries[rng() % countries.size()];
    const int32_t day = Day("2024-01-01") + static_cast<int32_t>(rng() % 3);
    const UserFields user{18 + static_cast<int>(rng() % 50),
                          Micros("2015-03-01") + static_cast<int64_t>(rng() % 2000) * 86400000000};
    const std::string first = "F" + std::to_string(rng() % 400);
    const bool has_post = rng() % 4 != 0;  // some users have no post
    for (PostFacts* facts : {&small, &wide}) {
      const int32_t ind = facts == &small ? i : spread(i);
      UserRecord u;
      u.ind = ind;
      u.day = day;
      u.first_name = first;
      u.last_name = "L";
      u.fields = user;
      ASSERT_TRUE(facts->AddUser(u).ok());
      if (!has_post) continue;
      PinFields p;
      p.ind = ind;
      p.day = day;
      p.category = category;
      p.follower_count = i % 100;
      p.geo = GeoFields{country, Micros("2019-01-01")};
      p.user = user;
      ASSERT_TRUE(facts->AddPin(p).ok());
    }
  }
  const FactsView a = small.View(), b = wide.View();
  for (const auto& [category, country] : std::vector<std::pair<std::string, std::string>>{
           {"art", ""}, {"", "Togo"}, {"diy", "Peru"}}) {
    AnalyticsFilters f;
    if (!category.empty()) f.category = category;
    if (!country.empty()) f.country = country;
    std::string x, y;
    AppendTablesJson(ComputeQuestion(a, f, Question::kQ6), &x);
    AppendTablesJson(ComputeQuestion(b, f, Question::kQ6), &y);
    EXPECT_EQ(x, y) << category << " / " << country;
    EXPECT_NE(x.find("2015"), std::string::npos) << x;
  }
}

// Past the 16-bit ids (here lowered to 3), the posts move to 32-bit entries: views taken before
// keep their 16-bit chunks and answers, and every answer equals that of facts that were wide
// from the start.
TEST(EngineFactsTest, PostsOutgrowingSixteenBitIdsGiveTheSameAnswers) {
  PostFacts narrow(3), wide(0);
  auto add = [&](int i) {
    const std::string poster = "P" + std::to_string(i % 4);
    for (PostFacts* facts : {&narrow, &wide}) {
      PinFields p;
      p.ind = i;
      p.day = Day("2024-01-01") + i % 3;
      p.category = i % 2 == 0 ? "art" : "travel";
      if (i % 5 != 0) p.poster_name = poster;
      p.follower_count = i * 7 % 11;
      if (i % 3 != 0) p.geo = GeoFields{i % 4 == 0 ? "Peru" : "Chile", Micros("2019-01-01")};
      p.user = UserFields{20 + i % 40, Micros("2016-01-01")};
      ASSERT_TRUE(facts->AddPin(p).ok());
    }
  };
  auto answer = [](const FactsView& view) {
    std::string out;
    AppendTablesJson(ComputeAnalytics(view, AnalyticsFilters{}), &out);
    AnalyticsFilters f;
    f.category = "art";
    f.country = "Peru";
    AppendTablesJson(ComputeAnalytics(view, f), &out);
    AppendPinDaysJson(ComputePinDays(view, f), &out);
    return out;
  };
  add(0);
  add(1);
  const FactsView before = narrow.View();
  EXPECT_FALSE(narrow.wide());
  const std::string before_answer = answer(before);
  EXPECT_EQ(before_answer, answer(wide.View()));
  for (int i = 2; i < 40; ++i) add(i);
  EXPECT_TRUE(narrow.wide());
  EXPECT_TRUE(wide.wide());
  const FactsView after = narrow.View();
  EXPECT_EQ(after.posts.size, 0u);
  EXPECT_EQ(after.wide_posts.size, 40u);
  EXPECT_EQ(answer(after), answer(wide.View()));
  EXPECT_EQ(answer(before), before_answer);  // the old view is untouched
  EXPECT_EQ(before.posts.size, 2u);
  // Posts still waiting for their geolocation get it after the conversion too.
  for (PostFacts* facts : {&narrow, &wide})
    facts->AddGeo(3, GeoFields{"Peru", Micros("2020-01-01")});
  EXPECT_EQ(answer(narrow.View()), answer(wide.View()));
}

TEST(EngineFactsTest, TablesMatchTheSqlFunctionsInOrder) {
  // batch::AnalyticsFunctionNames() in analytics_sql.cc; the integration test also compares the
  // columns with the functions' result columns in PostgreSQL.
  const char* ids[] = {"q1_popular_category_by_country",
                       "q2_posts_by_category_and_year",
                       "q2_top_category_by_year",
                       "q3_top_poster_by_country",
                       "q3_top_country",
                       "q4_popular_category_by_age_group",
                       "q5_median_follower_count_by_age_group",
                       "q6_users_joined_by_year",
                       "q7_median_follower_count_by_join_year",
                       "q8_median_follower_count_by_join_year_and_age_group"};
  ASSERT_EQ(AnalyticsTables().size(), std::size(ids));
  for (size_t i = 0; i < std::size(ids); ++i) EXPECT_EQ(AnalyticsTables()[i].id, ids[i]);
  PostFacts facts;
  const auto all = ComputeAnalytics(facts.View(), AnalyticsFilters{});
  ASSERT_EQ(all.size(), std::size(ids));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].spec->id, ids[i]);
}

TEST(EngineFactsTest, JsonShapes) {
  PostFacts facts;
  PinFields p;
  p.ind = 1;
  p.day = Day("2024-03-01");
  p.batch = true;
  p.category = "a\"rt";
  p.poster_name = "Ann\n";
  p.follower_count = 1000000;
  p.geo = GeoFields{"Cote d'Ivoire", Micros("2019-01-01")};
  p.user = UserFields{20, Micros("2016-01-01")};
  ASSERT_TRUE(facts.AddPin(p).ok());
  p.follower_count = 1000001;
  ASSERT_TRUE(facts.AddPin(p).ok());
  const FactsView view = facts.View();
  std::string json;
  AppendTablesJson(ComputeQuestion(view, AnalyticsFilters{}, Question::kQ5), &json);
  EXPECT_EQ(json,
            "[{\"id\":\"q5_median_follower_count_by_age_group\",\"title\":\"Median follower "
            "count per age group\",\"columns\":[\"age_group\",\"median_follower_count\","
            "\"posts\"],\"rows\":[[\"18-24\",1000000.5,2]]}]");
  json.clear();
  AppendTablesJson(ComputeQuestion(view, AnalyticsFilters{}, Question::kQ3), &json);
  EXPECT_NE(json.find("[\"Cote d'Ivoire\",\"Ann\\n\",1000001]"), std::string::npos) << json;
  json.clear();
  AppendFiltersJson(view, &json);
  EXPECT_EQ(json,
            "{\"categories\":[\"a\\\"rt\"],\"countries\":[\"Cote d'Ivoire\"],\"age_groups\":"
            "[\"18-24\",\"25-35\",\"36-50\",\"50+\"],\"days\":{\"min\":\"2024-03-01\",\"max\":"
            "\"2024-03-01\"}}");
  json.clear();
  AppendPinDaysJson(ComputePinDays(view, AnalyticsFilters{}), &json);
  EXPECT_EQ(json, "[{\"dt\":\"2024-03-01\",\"batch\":2,\"speed\":0}]");
  json.clear();
  PostFacts empty;
  AppendFiltersJson(empty.View(), &json);
  EXPECT_EQ(json,
            "{\"categories\":[],\"countries\":[],\"age_groups\":[\"18-24\",\"25-35\",\"36-50\","
            "\"50+\"],\"days\":{\"min\":null,\"max\":null}}");
}

TEST(EngineFactsTest, TextSortsByItsBytes) {
  // COLLATE "C" / C.UTF-8: upper case before lower case, and UTF-8 by code point.
  PostFacts facts;
  for (const char* country : {"peru", "Peru", "\xc3\x85land", "Zambia", "Albania"}) {
    PinFields p;
    p.ind = 1;
    p.day = Day("2024-03-01");
    p.category = "art";
    p.geo = GeoFields{std::string_view(country), std::nullopt};
    ASSERT_TRUE(facts.AddPin(p).ok());
  }
  const auto q1 = ComputeQuestion(facts.View(), AnalyticsFilters{}, Question::kQ1);
  std::vector<std::string> countries;
  for (const auto& row : q1[0].rows) countries.push_back(CellText(row[0]));
  EXPECT_EQ(countries,
            (std::vector<std::string>{"Albania", "Peru", "Zambia", "peru", "\xc3\x85land"}));
}

TEST(EngineFactsTest, BacklogCountsNewOffsetsAndDetectsResets) {
  SpeedCursor cursor;
  cursor[0] = {{0, 10}, {1, 20}};
  SpeedCursor offsets;
  offsets[0] = {{0, 15}, {1, 20}, {2, 3}};  // partition 2 is new: from 0
  offsets[2] = {{0, 1}};
  EXPECT_EQ(FactLoader::Backlog(cursor, offsets), 5 + 3 + 1);
  EXPECT_EQ(FactLoader::Backlog(cursor, cursor), 0);
  SpeedCursor reset = offsets;
  reset[0][1] = 19;
  EXPECT_EQ(FactLoader::Backlog(cursor, reset), std::nullopt);
  SpeedCursor gone = offsets;
  gone[0].erase(1);
  EXPECT_EQ(FactLoader::Backlog(cursor, gone), std::nullopt);
}

TEST(EngineFactsTest, ASliceMovesEveryPartitionByItsShareOfTheLimit) {
  SpeedCursor cursor;
  cursor[0] = {{0, 100}, {1, 0}};
  SpeedCursor offsets;
  offsets[0] = {{0, 1100}, {1, 3000}, {2, 1}};  // backlogs 1000, 3000 and 1 (new partition)
  offsets[1] = {{0, 0}};                        // none
  // Within the limit: everything.
  EXPECT_EQ(FactLoader::Slice(cursor, offsets, 4001), offsets);
  // 400 of 4001: shares 99, 299 and at least 1 for the partition with one record.
  const SpeedCursor slice = FactLoader::Slice(cursor, offsets, 400);
  EXPECT_EQ(slice[0].at(0), 100 + 99);
  EXPECT_EQ(slice[0].at(1), 0 + 299);
  EXPECT_EQ(slice[0].at(2), 1);
  EXPECT_EQ(slice[1].at(0), 0);
  EXPECT_EQ(FactLoader::Backlog(cursor, slice), 99 + 299 + 1);
  // Repeated slices reach the offsets, never pass them.
  SpeedCursor at = cursor;
  int polls = 0;
  while (FactLoader::Backlog(at, offsets).value_or(-1) > 0 && polls < 100) {
    at = FactLoader::Slice(at, offsets, 400);
    ++polls;
  }
  EXPECT_EQ(at, offsets);
  EXPECT_GE(polls, 10);
}

TEST(EngineFactsTest, PollSqlReadsExactlyTheNewOffsetRanges) {
  auto transform = transform::Transform::Default();
  FactLoader loader(*transform, {"pin", "geo", "user"}, "g");
  RefreshHeader header;
  header.served_days = {Day("2024-03-01"), Day("2024-03-02")};
  header.offsets[0] = {{0, 15}, {1, 20}};
  header.offsets[1] = {{0, 4}};
  SpeedCursor cursor;
  cursor[0] = {{0, 10}, {1, 20}};
  cursor[1] = {{0, 4}};
  BatchKeyBounds bounds;
  bounds[0] = KeyRange{"a1", "f9"};
  const std::string pins = loader.NewPinsSql(header, cursor, bounds);
  EXPECT_NE(pins.find("(s.kafka_partition = 0 AND s.kafka_offset >= 10 AND s.kafka_offset < 15)"),
            std::string::npos)
      << pins;
  EXPECT_EQ(pins.find("s.kafka_partition = 1"), std::string::npos) << pins;
  EXPECT_NE(pins.find("s.dt <> ALL ('{2024-03-01,2024-03-02}'::date[])"), std::string::npos);
  EXPECT_NE(pins.find("NOT (s.\"unique_id\" BETWEEN 'a1' AND 'f9') OR NOT EXISTS (SELECT 1 FROM "
                      "\"batch\".\"experimental_data\" b WHERE b.dt = ANY"),
            std::string::npos)
      << pins;
  EXPECT_EQ(loader.NewGeoSql(header, cursor, bounds), "");    // nothing new
  EXPECT_EQ(loader.NewUsersSql(header, cursor, bounds), "");  // no offsets at all
}

// Keys outside the served batch rows' key range cannot be among them: no anti-join and no batch
// lookup for a kind without batch rows; with rows, both gated by the range.
struct GateCase {
  const char* name;
  std::optional<KeyRange> geo_bounds;
  std::vector<std::string> present, absent;
};

TEST(EngineFactsTest, PollSqlProbesTheBatchOnlyWithinItsKeyRange) {
  const std::vector<GateCase> cases = {
      {"no geo batch rows",
       std::nullopt,
       {"gs.ind IS NOT NULL", "FROM \"public\".\"geolocation_data_clean\" x WHERE x.ind = p.ind"},
       {"gb.", "\"batch\".\"geolocation_data_clean\"", "NOT EXISTS"}},
      {"geo batch rows 10..20",
       KeyRange{"10", "20"},
       {"(gb.ind IS NOT NULL OR gs.ind IS NOT NULL)",
        "CASE WHEN gb.ind IS NOT NULL THEN gb.country ELSE gs.country END",
        "FROM \"batch\".\"geolocation_data_clean\" x WHERE p.ind BETWEEN '10' AND '20' AND "
        "x.ind = p.ind AND x.dt = ANY",
        "WHERE gb.ind IS NULL AND x.ind = p.ind"},
       {"NOT EXISTS"}},
  };
  auto transform = transform::Transform::Default();
  FactLoader loader(*transform, {"pin", "geo", "user"}, "g");
  RefreshHeader header;
  header.served_days = {Day("2024-03-01")};
  header.offsets[0] = {{0, 15}};
  header.offsets[1] = {{0, 7}};
  SpeedCursor cursor;
  for (const GateCase& c : cases) {
    BatchKeyBounds bounds;
    bounds[1] = c.geo_bounds;
    const std::string pins = loader.NewPinsSql(header, cursor, bounds);
    for (const std::string& s : c.present)
      EXPECT_NE(pins.find(s), std::string::npos) << c.name << ": " << s << "\n" << pins;
    for (const std::string& s : c.absent)
      EXPECT_EQ(pins.find(s), std::string::npos) << c.name << ": " << s << "\n" << pins;
    const std::string geo = loader.NewGeoSql(header, cursor, bounds);
    EXPECT_EQ(geo.find("NOT EXISTS") != std::string::npos, c.geo_bounds.has_value())
        << c.name << "\n"
        << geo;
  }
  // No served day: nothing to bound.
  EXPECT_EQ(loader.BatchKeyBoundsSql(RefreshHeader{}), "");
  EXPECT_NE(loader.BatchKeyBoundsSql(header).find("WHERE b.dt = s.dt"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::dashboard
