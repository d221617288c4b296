// Differential test of the analytics engine against the serving schema's SQL functions (the
// reference definition), on random data: posts missing their geolocation or user record, user
// records and geolocations without a post, several posts under one ind, posts replayed on later
// days (across the boundary too), NULLs, timestamps on the questions' year edges, batch days
// served (sealed) and not (an unsealed load), speed rows of a batch-served day that the batch
// load lacks, and posts the speed layer first sees after the batch layer has them. After a full
// load, after each of several incremental polls, after a batch day is loaded (a full reload), and
// after polls running while a writer commits rows concurrently, every table under random filter
// combinations (well over 200 in all) equals the SQL function's rows, and the pins per day and
// layer equal serving.posts counted by day and layer. The engine reads as the SELECT-only reader
// role.
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "analytics_engine_fixture.h"

namespace pinpipe::dashboard {
namespace {

const std::vector<std::string> kDays = {"2024-04-01", "2024-04-02", "2024-04-03",
                                        "2024-04-04", "2024-04-05", "2024-04-06"};
const std::vector<std::string> kCategories = {"art",     "travel", "beauty", "diy-and-crafts",
                                              "finance", "quotes", "Zebra",  "\xc3\xa9t\xc3\xa9"};
const std::vector<std::string> kCountries = {
    "Peru", "Chile", "Angola", "Cote d'Ivoire", "peru", "\xc3\x85land Islands", "Zambia"};
const std::vector<std::string> kAgeGroups = {"18-24", "25-35", "36-50", "50+"};

// One record as it reaches the layers: its kind, its cleaned row, and where it goes.
struct Record {
  RecordKind kind;
  std::vector<Value> row;  // the kind's columns (Generator::Columns), dt last
  std::string day;
  bool to_speed = true;  // the speed layer gets it
  bool to_batch = true;  // the archive (and so a batch load of its day) has it
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  static const std::vector<std::string>& Columns(RecordKind kind) {
    static const std::array<std::vector<std::string>, 3> columns = {
        std::vector<std::string>{"ind", "unique_id", "poster_name", "follower_count", "category",
                                 "dt"},
        std::vector<std::string>{"ind", "timestamp", "country", "dt"},
        std::vector<std::string>{"ind", "first_name", "last_name", "age", "date_joined", "dt"}};
    return columns[static_cast<size_t>(kind)];
  }

  // Posts with ind in [first, first + count), on days [day_from, day_to] of kDays.
  std::vector<Record> Posts(int first, int count, size_t day_from, size_t day_to) {
    std::vector<Record> out;
    for (int ind = first; ind < first + count; ++ind) {
      const size_t d = Pick(day_from, day_to);
      const int pins = Chance(0.08) ? 2 : Chance(0.05) ? 0 : 1;  // two posts under one ind
      for (int p = 0; p < pins; ++p) {
        Record pin = Pin(ind, fmt::format("u{}-{}", ind, p), kDays[d]);
        if (d <= 1 && Chance(0.03)) pin.to_speed = false;  // the speed layer missed it
        out.push_back(pin);
        if (Chance(0.06)) {  // replayed later, in another category; the first copy counts
          const size_t later = std::min(kDays.size() - 1, d + 1 + Pick(0, 2));
          Record replay = pin;
          replay.day = kDays[later];
          replay.row[4] = Maybe(kCategories[Pick(0, kCategories.size() - 1)], 0.05);
          replay.row[5] = replay.day;
          replay.to_speed = true;
          out.push_back(replay);
        }
      }
      if (pins == 0 || Chance(0.85))
        out.push_back(Geo(ind, kDays[std::min(d + (Chance(0.1) ? 1 : 0), day_to)]));
      if (pins == 0 || Chance(0.85)) out.push_back(User(ind, kDays[d]));
    }
    return out;
  }

  // Speed rows of a batch-served day that no batch load has (they came after the seal).
  std::vector<Record> Late(int first, int count, const std::string& day) {
    std::vector<Record> out;
    for (int ind = first; ind < first + count; ++ind) {
      Record pin = Pin(ind, fmt::format("late{}", ind), day);
      pin.to_batch = false;
      out.push_back(pin);
      Record geo = Geo(ind, day);
      geo.to_batch = false;
      out.push_back(geo);
    }
    return out;
  }

  // `count` new posts on `day` under random inds of [first, first + span): people whose
  // geolocation and user record an earlier day (in the batch layer or the speed layer) holds,
  // so a poll's lookups find them inside the batch rows' key range, or miss them there.
  std::vector<Record> Again(int first, int span, int count, const std::string& day) {
    std::vector<Record> out;
    for (int n = 0; n < count; ++n) {
      const int ind = first + static_cast<int>(Pick(0, static_cast<size_t>(span) - 1));
      out.push_back(Pin(ind, fmt::format("again{}-{}", ind, n), day));
    }
    return out;
  }

  std::mt19937& rng() { return rng_; }

 private:
  size_t Pick(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  Value Maybe(const std::string& v, double null_p) { return Chance(null_p) ? Value() : Value(v); }

  std::string Timestamp(int from_year, int to_year) {
    if (Chance(0.1)) {  // on a year edge
      const int year =
          static_cast<int>(Pick(static_cast<size_t>(from_year), static_cast<size_t>(to_year)));
      return Chance(0.5) ? fmt::format("{}-01-01 00:00:00", year)
                         : fmt::format("{}-12-31 23:59:59.999999", year);
    }
    return fmt::format("{}-{:02}-{:02} {:02}:{:02}:{:02}",
                       Pick(static_cast<size_t>(from_year), static_cast<size_t>(to_year)),
                       Pick(1, 12), Pick(1, 28), Pick(0, 23), Pick(0, 59), Pick(0, 59));
  }

  Record Pin(int ind, const std::string& unique_id, const std::string& day) {
    static const int kFollowers[] = {0, 7, 100, 500, 500, 1000, 2000, 2147483647};
    const Value followers =
        Chance(0.05)  ? Value()
        : Chance(0.3) ? Value(std::to_string(kFollowers[Pick(0, std::size(kFollowers) - 1)]))
                      : Value(std::to_string(Pick(0, 5000)));
    return Record{
        RecordKind::kPin,
        {std::to_string(ind), unique_id, Maybe(fmt::format("Poster{}", Pick(0, 40)), 0.03),
         followers, Maybe(kCategories[Pick(0, kCategories.size() - 1)], 0.03), day},
        day};
  }

  Record Geo(int ind, const std::string& day) {
    return Record{RecordKind::kGeo,
                  {std::to_string(ind), Maybe(Timestamp(2016, 2024), 0.03),
                   Maybe(kCountries[Pick(0, kCountries.size() - 1)], 0.04), day},
                  day};
  }

  Record User(int ind, const std::string& day) {
    static const char* kFirst[] = {"Ann", "Bob", "Cid", "Dee", "Eve", "Fay"};
    static const char* kLast[] = {"A", "B", "C"};
    return Record{
        RecordKind::kUser,
        {std::to_string(ind), Maybe(kFirst[Pick(0, std::size(kFirst) - 1)], 0.02),
         Maybe(kLast[Pick(0, std::size(kLast) - 1)], 0.02),
         Maybe(std::to_string(Pick(12, 70)), 0.04), Maybe(Timestamp(2013, 2022), 0.03), day},
        day};
  }

  std::mt19937 rng_;
};

class AnalyticsEngineDiffTest : public AnalyticsEngineTest {
 protected:
  RowSet Rows(RecordKind kind, const std::vector<const Record*>& records) {
    RowSet rows{Generator::Columns(kind), {}};
    for (const Record* r : records) {
      if (r->kind == kind) rows.rows.push_back(r->row);
    }
    return rows;
  }

  // The speed layer gets `records` (those it receives) in `commits` chunks, in order.
  void Stream(const std::vector<Record>& records, int commits, pg::Connection* conn = nullptr) {
    std::vector<const Record*> sent;
    for (const Record& r : records) {
      if (r.to_speed) sent.push_back(&r);
    }
    const size_t per =
        (sent.size() + static_cast<size_t>(commits) - 1) / static_cast<size_t>(commits);
    for (size_t at = 0; at < sent.size(); at += per) {
      std::vector<const Record*> batch(
          sent.begin() + static_cast<ptrdiff_t>(at),
          sent.begin() + static_cast<ptrdiff_t>(std::min(sent.size(), at + per)));
      for (RecordKind kind : core::kAllRecordKinds) CommitSpeed(kind, Rows(kind, batch), conn);
    }
  }

  // A batch load of `day`: every archived record of that day.
  void Load(const std::string& day, bool sealed = true) {
    Layers layers;
    for (RecordKind kind : core::kAllRecordKinds) {
      std::vector<const Record*> of_day;
      for (const Record& r : all_) {
        if (r.to_batch && r.day == day) of_day.push_back(&r);
      }
      layers[static_cast<size_t>(kind)] = Rows(kind, of_day);
    }
    LoadBatchDay(day, layers, sealed);
  }

  AnalyticsFilters RandomFilters(std::mt19937& rng) {
    auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    AnalyticsFilters f;
    if (chance(0.5)) {
      const size_t from = pick(kDays.size());
      f.from = std::chrono::sys_days(std::chrono::days(*core::ParseDate(kDays[from])));
      if (chance(0.6)) f.to = *f.from + std::chrono::days(static_cast<int>(pick(3)));
    } else if (chance(0.3)) {
      f.to = std::chrono::sys_days(std::chrono::days(*core::ParseDate(kDays[pick(kDays.size())])));
    }
    if (chance(0.4)) f.category = chance(0.05) ? "nope" : kCategories[pick(kCategories.size())];
    if (chance(0.3)) f.country = chance(0.05) ? "Nowhere" : kCountries[pick(kCountries.size())];
    if (chance(0.35)) f.age_group = kAgeGroups[pick(kAgeGroups.size())];
    return f;
  }

  // `n` random filter combinations (the first without any filter).
  void CompareRandom(int n, const std::string& context) {
    ExpectEngineEqualsSql(AnalyticsFilters{}, context);
    for (int i = 1; i < n; ++i) {
      ExpectEngineEqualsSql(RandomFilters(filter_rng_), context);
      ++compared_;
      if (HasFailure()) return;  // one divergence is enough to read
    }
  }

  void ExpectFiltersEqualSql() {
    const auto snapshot = engine_->snapshot();
    std::string want = "{\"categories\":[";
    auto list = [&](const std::string& sql) {
      std::string out;
      for (const auto& row : SqlRows(sql, {})) {
        if (!out.empty()) out += ',';
        core::AppendJsonString(row[0], &out);
      }
      return out;
    };
    want += list(
        "SELECT DISTINCT category COLLATE \"C\" FROM serving.pins WHERE category IS NOT NULL ORDER "
        "BY 1");
    want += "],\"countries\":[";
    want += list(
        "SELECT DISTINCT country COLLATE \"C\" FROM serving.posts WHERE country IS NOT NULL ORDER "
        "BY 1");
    want += "],\"age_groups\":[\"18-24\",\"25-35\",\"36-50\",\"50+\"],\"days\":{\"min\":\"";
    auto days = SqlRows("SELECT min(dt)::text, max(dt)::text FROM serving.pins", {});
    want += days[0][0] + "\",\"max\":\"" + days[0][1] + "\"}}";
    EXPECT_EQ(engine_->FiltersJson(), want);
  }

  std::vector<Record> all_;
  std::mt19937 filter_rng_{12};
  int compared_ = 0;
};

TEST_F(AnalyticsEngineDiffTest, EqualsTheSqlFunctionsAfterLoadPollsReloadAndConcurrentPolls) {
  Generator gen(20241206);
  // Days 1-3 (posts 1..600), then 4-5 (601..1000), then 6 (1001..1300) while polling.
  std::vector<Record> first = gen.Posts(1, 600, 0, 2);
  std::vector<Record> second = gen.Posts(601, 400, 3, 4);
  std::vector<Record> late = gen.Late(5001, 15, kDays[0]);  // speed rows of a served day
  std::vector<Record> third = gen.Posts(1001, 300, 5, 5);
  // New posts of day 5 by people of days 1-3 (their records in the batch layer, or for day 3
  // in the speed layer; some inds have none): lookups inside the batch key range.
  std::vector<Record> again = gen.Again(1, 620, 40, kDays[4]);
  for (const auto* part : {&first, &second, &late, &third, &again}) {
    all_.insert(all_.end(), part->begin(), part->end());
  }

  // 1. Full load: days 1 and 2 served by the batch layer, day 3 loaded unsealed (speed serves it).
  Stream(first, 5);
  Load(kDays[0]);
  Load(kDays[1]);
  Load(kDays[2], /*sealed=*/false);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  CompareRandom(70, "after the full load");
  ExpectFiltersEqualSql();

  // 2. Incremental polls: days 4-5 in six chunks, the late rows of served day 1, and
  // new posts of earlier people.
  Stream(late, 1);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  Stream(again, 1);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  CompareRandom(20, "after new posts of earlier people");
  std::vector<const Record*> sent;
  for (const Record& r : second) sent.push_back(&r);
  const size_t per = second.size() / 6 + 1;
  for (size_t at = 0; at < second.size(); at += per) {
    std::vector<Record> batch(
        second.begin() + static_cast<ptrdiff_t>(at),
        second.begin() + static_cast<ptrdiff_t>(std::min(second.size(), at + per)));
    Stream(batch, 1);
    ASSERT_TRUE(Refresh().ok());
    EXPECT_EQ(engine_->stats().posts, MergedPins());
    CompareRandom(20, fmt::format("after the poll at record {}", at));
  }
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_GE(engine_->stats().polls, 7);
  EXPECT_GT(engine_->stats().waiting_for_geo, 0);  // some posts never get one
  ExpectFiltersEqualSql();

  // 3. A batch day loaded (day 3 now sealed, day 4 too): a full reload.
  Load(kDays[2]);
  Load(kDays[3]);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, 2);
  EXPECT_EQ(engine_->snapshot()->boundary, *core::ParseDate(kDays[3]));
  CompareRandom(50, "after the reload");

  // 4. Polls while a writer commits: each row is taken exactly once.
  auto writer_conn = pg::Connection::Open(db_->dsn());
  ASSERT_TRUE(writer_conn.ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937 pause(3);
    const size_t step = 40;
    for (size_t at = 0; at < third.size(); at += step) {
      std::vector<Record> batch(
          third.begin() + static_cast<ptrdiff_t>(at),
          third.begin() + static_cast<ptrdiff_t>(std::min(third.size(), at + step)));
      Stream(batch, 1, &*writer_conn);
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(pause)));
    }
    done = true;
  });
  int64_t last = 0;
  int polls = 0;
  while (!done) {
    ASSERT_TRUE(Refresh().ok());
    const int64_t posts = engine_->stats().posts;
    EXPECT_GE(posts, last);
    EXPECT_LE(posts, MergedPins());  // the writer only adds
    last = posts;
    ++polls;
  }
  writer.join();
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  EXPECT_EQ(engine_->stats().full_loads, 2);
  EXPECT_GT(polls, 2);
  CompareRandom(70, "after concurrent polls");
  ExpectFiltersEqualSql();
  EXPECT_GE(compared_, 200);
  RecordProperty("filter_combinations", compared_);
}

// A backlog far above max_poll_records (a burst, or a dashboard that was away) is read in slices,
// here one per refresh (no catch-up budget), with no full reload; once caught up the engine
// equals the SQL again. Then, with the budget, a second burst is read in slices one after the
// other within a single refresh; a third is not read while yielding, then caught up.
TEST_F(AnalyticsEngineDiffTest, ABacklogAboveTheLimitIsReadInSlicesWithoutReloading) {
  NewEngine(/*max_poll_records=*/90, /*catch_up_budget=*/std::chrono::milliseconds(0));
  Generator gen(20261206);
  std::vector<Record> first = gen.Posts(1, 300, 0, 1);
  std::vector<Record> burst = gen.Posts(301, 400, 2, 4);
  std::vector<Record> again = gen.Again(1, 320, 30, kDays[4]);
  for (const auto* part : {&first, &burst, &again})
    all_.insert(all_.end(), part->begin(), part->end());
  Stream(first, 3);
  Load(kDays[0]);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, 1);
  CompareRandom(10, "after the full load");

  Stream(burst, 4);
  Stream(again, 1);
  int refreshes = 0;
  int64_t last_posts = engine_->stats().posts;
  do {
    ASSERT_TRUE(Refresh().ok());
    ++refreshes;
    EXPECT_LE(engine_->stats().posts, MergedPins());
    EXPECT_GE(engine_->stats().posts, last_posts);  // only ever adds
    last_posts = engine_->stats().posts;
  } while (engine_->stats().backlog > 0 && refreshes < 1000);
  // ~1,290 records in slices of ~90: many polls, never a reload.
  EXPECT_GE(refreshes, 10);
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  CompareRandom(40, "after catching up in slices");
  ExpectFiltersEqualSql();

  // The default budget (2 s): the next burst's ~12 slices in one refresh.
  NewEngine(/*max_poll_records=*/90);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, 1);
  std::vector<Record> second = gen.Posts(701, 400, 2, 4);
  all_.insert(all_.end(), second.begin(), second.end());
  Stream(second, 4);
  const int64_t polls = engine_->stats().polls;
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().backlog, 0);
  EXPECT_GE(engine_->stats().polls - polls, 5) << "slices read within the one refresh";
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  CompareRandom(20, "after a burst caught up within one refresh");

  // Yielding to a draining speed layer (Pace::kYield): no poll, the answers stay as they were;
  // then caught up at the normal pace.
  std::vector<Record> third = gen.Posts(1101, 400, 2, 4);
  all_.insert(all_.end(), third.begin(), third.end());
  Stream(third, 4);
  const int64_t before_yield = engine_->stats().polls;
  const int64_t posts_before = engine_->stats().posts;
  const uint64_t generation_before = engine_->generation();
  ASSERT_TRUE(Refresh(Analytics::Pace::kYield).ok());
  EXPECT_EQ(engine_->stats().polls, before_yield);
  EXPECT_EQ(engine_->stats().posts, posts_before);
  EXPECT_EQ(engine_->generation(), generation_before);
  EXPECT_GE(engine_->stats().backlog, 400) << "the backlog shown stays true while yielding";
  ASSERT_TRUE(Refresh(Analytics::Pace::kCatchUp).ok());
  EXPECT_EQ(engine_->stats().backlog, 0);
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().posts, MergedPins());
  // A first load runs even while yielding: a dashboard started during a drain has answers.
  NewEngine(/*max_poll_records=*/90);
  ASSERT_TRUE(Refresh(Analytics::Pace::kYield).ok());
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().posts, MergedPins());
}

TEST_F(AnalyticsEngineDiffTest, SqlResultColumnsAreTheTablesColumns) {
  for (const TableSpec& spec : AnalyticsTables()) {
    auto r = conn_->Exec(fmt::format("SELECT * FROM serving.{} LIMIT 0", spec.id));
    ASSERT_TRUE(r.ok()) << spec.id << ": " << r.status().ToString();
    std::vector<std::string> columns;
    for (int c = 0; c < r->columns(); ++c) columns.emplace_back(r->ColumnName(c));
    EXPECT_EQ(columns, std::vector<std::string>(spec.columns.begin(), spec.columns.end()))
        << spec.id;
  }
}

}  // namespace
}  // namespace pinpipe::dashboard
