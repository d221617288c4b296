// The batch job against the real PostgreSQL (PINPIPE_TEST_PG_DSN, a scratch database per test)
// and the local object store in a temporary directory: a day loaded and re-loaded
// (idempotent), a range backfilled, a failed day that leaves the old one, concurrent runs of a
// day, a unique_id sent in several cases (one row), and the analytics views on a hand-checked
// data set.
#include <thread>

#include "batch/analytics_sql.h"
#include "batch_pg_fixture.h"
#include "testing/status_matchers.h"

namespace pinpipe::batch {
namespace {

TEST_F(BatchJobPgTest, LoadsADayAndARerunIsIdempotent) {
  PutSyntheticDay("2024-02-01", 400, 3, 7);
  BatchRunResult first = Run("2024-02-01", "2024-02-01");
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  const DayReport& day = first.days[0];
  EXPECT_TRUE(day.sealed());
  EXPECT_EQ(day.records(), 3 * 400 * 3);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.experimental_data"), day.kinds[0].rows);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.geolocation_data_clean"), 400);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.user_data_clean"), 400);
  EXPECT_EQ(Q("SELECT count(DISTINCT unique_id) FROM batch.experimental_data"), day.kinds[0].rows);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.experimental_data WHERE dt <> '2024-02-01'"), 0);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.quality WHERE dt = '2024-02-01'"), 3);
  EXPECT_EQ(Q("SELECT rows FROM batch.quality WHERE dt = '2024-02-01' AND kind = 'pin'"),
            day.kinds[0].rows);
  EXPECT_EQ(Q("SELECT (quality->>'rows')::bigint FROM batch.quality WHERE kind = 'geo'"), 1200);
  // The partitioned parents have planner statistics (autovacuum never makes them; without
  // them the views' joins were nested loops taking minutes on 100,000 rows).
  for (const char* table : {"experimental_data", "geolocation_data_clean", "user_data_clean"}) {
    EXPECT_GT(Q(fmt::format("SELECT count(*) FROM pg_stats WHERE schemaname = 'batch' AND "
                            "tablename = '{}' AND inherited",
                            table)),
              0)
        << table;
  }
  const std::string pins = Digest("experimental_data");
  const std::string geo = Digest("geolocation_data_clean");

  BatchRunResult again = Run("2024-02-01", "2024-02-01");
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(again.days[0].rows(), day.rows());
  EXPECT_EQ(Digest("experimental_data"), pins);
  EXPECT_EQ(Digest("geolocation_data_clean"), geo);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.quality"), 3);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_inherits WHERE inhparent = "
              "'batch.experimental_data'::regclass"),
            1);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE schemaname = 'batch' AND tablename LIKE "
              "'%\\_load\\_%'"),
            0);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_constraint WHERE conname LIKE '%\\_load\\_%'"), 0);
}

TEST_F(BatchJobPgTest, BackfillsARangeAndReplacesOnlyTheDayThatIsRerun) {
  PutSyntheticDay("2024-02-01", 100, 2, 1);
  PutSyntheticDay("2024-02-02", 150, 2, 2);
  PutSyntheticDay("2024-02-03", 200, 2, 3);
  BatchRunResult r = Run("2024-02-01", "2024-02-03");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.days.size(), 3u);
  EXPECT_EQ(Rows("SELECT dt, count(*) FROM batch.geolocation_data_clean GROUP BY dt ORDER BY dt"),
            (std::vector<std::string>{"2024-02-01|100", "2024-02-02|150", "2024-02-03|200"}));
  EXPECT_EQ(Q("SELECT count(*) FROM pg_inherits WHERE inhparent = "
              "'batch.user_data_clean'::regclass"),
            3);
  const std::string before = Digest("experimental_data");

  // The archive of 02 changes (say, late records were added): re-running 02 replaces 02 only.
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[1], "2024-02-02", 23, 0, 999,
                         {testing::GeoJson(100000, "2020-01-01 00:00:00", "Peru")})
                  .ok());
  ASSERT_TRUE(Run("2024-02-02", "2024-02-02").status.ok());
  EXPECT_EQ(Rows("SELECT dt, count(*) FROM batch.geolocation_data_clean GROUP BY dt ORDER BY dt"),
            (std::vector<std::string>{"2024-02-01|100", "2024-02-02|151", "2024-02-03|200"}));
  EXPECT_EQ(Digest("experimental_data"), before);

  // A second backfill of the whole range is a no-op on the contents.
  const std::string geo = Digest("geolocation_data_clean");
  ASSERT_TRUE(Run("2024-02-01", "2024-02-03").status.ok());
  EXPECT_EQ(Digest("geolocation_data_clean"), geo);
  EXPECT_EQ(Digest("experimental_data"), before);
}

// Issue 11, item 5: the same post with its unique_id in upper, lower and mixed case, in one
// object and across objects, is ONE row (the transform reads uuid fields in lower case), the
// first occurrence in key order; and across days the posts view counts it once.
TEST_F(BatchJobPgTest, UniqueIdInAnyCaseIsOneRow) {
  const std::string lower = "fbe53c66-3442-4773-b19e-d3ec6f54dddf";
  const std::string upper = "FBE53C66-3442-4773-B19E-D3EC6F54DDDF";
  const std::string mixed = "FbE53c66-3442-4773-b19E-d3eC6F54dddf";
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-04-01", 0, 0, 0,
                         {testing::PinJson(1, upper, "Ann", "10k", "art"),
                          testing::PinJson(1, lower, "Ann", "10k", "beauty"),
                          testing::PinJson(2, Uuid(2), "Bob", "500", "art")})
                  .ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-04-01", 1, 1, 0,
                         {testing::PinJson(1, mixed, "Ann", "10k", "travel")})
                  .ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-04-02", 0, 0, 10,
                         {testing::PinJson(1, lower, "Ann", "10k", "finance")})
                  .ok());
  for (const char* date : {"2024-04-01", "2024-04-02"}) {
    ASSERT_TRUE(PutSegment(store_.get(), kTopics[1], date, 0, 0, 0,
                           {testing::GeoJson(1, "2020-01-01 00:00:00", "Peru"),
                            testing::GeoJson(2, "2020-01-01 00:00:00", "Peru")})
                    .ok());
    ASSERT_TRUE(PutSegment(store_.get(), kTopics[2], date, 0, 0, 0,
                           {testing::UserJson(1, "Ann", "Lee", 30, "2015-01-01 00:00:00"),
                            testing::UserJson(2, "Bob", "Lee", 30, "2015-01-01 00:00:00")})
                    .ok());
    for (const char* topic : kTopics) ASSERT_TRUE(PutSuccess(store_.get(), topic, date).ok());
  }
  BatchRunResult r = Run("2024-04-01", "2024-04-02");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(Rows("SELECT dt, unique_id, category FROM batch.experimental_data WHERE ind = 1 "
                 "ORDER BY dt"),
            (std::vector<std::string>{"2024-04-01|" + lower + "|art",
                                      "2024-04-02|" + lower + "|finance"}));
  EXPECT_EQ(Q("SELECT count(*) FROM batch.experimental_data WHERE dt = '2024-04-01'"), 2);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.posts WHERE ind = 1"), 1);
}

TEST_F(BatchJobPgTest, AFailedDayKeepsThePreviousLoadAndLeavesNothingBehind) {
  PutSyntheticDay("2024-02-01", 100, 2, 1);
  ASSERT_TRUE(Run("2024-02-01", "2024-02-01").status.ok());
  const std::string pins = Digest("experimental_data");
  // A corrupt object in the last kind: pins and geo are already COPYed when it fails.
  const std::string bad = testing::SegmentKey(kTopics[2], "2024-02-01", 2, 1, 5000);
  ASSERT_TRUE(store_->Put(bad, "definitely not zstd").ok());
  BatchRunResult r = Run("2024-02-01", "2024-02-01");
  EXPECT_THAT(r.status, StatusIs(StatusCode::kDataLoss)) << r.status.ToString();
  EXPECT_NE(r.status.message().find(bad), std::string::npos) << r.status.ToString();
  EXPECT_EQ(Digest("experimental_data"), pins);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.user_data_clean"), 100);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_tables WHERE schemaname = 'batch' AND tablename LIKE "
              "'%\\_load\\_%'"),
            0);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.quality"), 3);
}

TEST_F(BatchJobPgTest, ConcurrentRunsOfOneDayWaitForEachOther) {
  PutSyntheticDay("2024-02-01", 300, 2, 9);
  std::vector<Status> results(3);
  {
    std::vector<std::jthread> runs;
    for (size_t i = 0; i < results.size(); ++i) {
      runs.emplace_back([&, i] { results[i] = Run("2024-02-01", "2024-02-01").status; });
    }
  }
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Q("SELECT count(*) FROM batch.geolocation_data_clean"), 300);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_inherits WHERE inhparent = "
              "'batch.geolocation_data_clean'::regclass"),
            1);
}

// The hand-checked data set of the analytics views: see the expected answers below.
struct Post {
  int ind;
  std::string poster;
  std::string followers;
  std::string category;
  std::string country;  // "" = no geolocation record
  std::string posted_at;
  int age;
  std::string joined;
  std::string first;
  std::string last;
};

TEST_F(BatchJobPgTest, ViewsAnswerTheEightQuestions) {
  const std::vector<Post> posts = {
      {1, "Ann", "10k", "art", "Albania", "2018-03-01 10:00:00", 20, "2015-05-01 00:00:00", "Ada",
       "Lovelace"},
      {2, "Bob", "500", "art", "Albania", "2019-07-01 00:00:00", 24, "2015-06-01 00:00:00", "Ben",
       "Hur"},
      {3, "Cat", "2M", "beauty", "Albania", "2020-01-15 00:00:00", 25, "2016-01-01 00:00:00",
       "Cleo", "Patra"},
      {4, "Dan", "300", "travel", "Brazil", "2021-04-04 00:00:00", 35, "2016-02-02 00:00:00", "Dan",
       "Brown"},
      {5, "Eve", "1.5k", "finance", "Brazil", "2022-12-31 23:59:59", 36, "2017-03-03 00:00:00",
       "Eve", "Adams"},
      {6, "Fay", "7k", "education", "Chile", "2018-06-06 00:00:00", 50, "2017-04-04 00:00:00",
       "Fay", "Wray"},
      {7, "Gus", "7k", "education", "Chile", "2018-07-07 00:00:00", 51, "2018-05-05 00:00:00",
       "Gus", "Grissom"},
      {8, "Hal", "100", "education", "Chile", "2017-12-31 23:00:00", 60, "2019-06-06 00:00:00",
       "Hal", "Jordan"},
      {9, "Ivy", "2M", "art", "Denmark", "2023-01-01 00:00:00", 17, "2014-12-31 00:00:00", "Ivy",
       "Lee"},
      {10, "Jon", "40", "travel", "Denmark", "2020-02-02 00:00:00", 30, "2020-12-31 23:59:59",
       "Jon", "Snow"},
      // No geolocation: not in the country and post-year questions (1-3), but in the age and
      // join-year ones (4, 5, 7, 8); its user is Ada again (same person).
      {11, "Kay", "9M", "art", "", "", 20, "2015-05-01 00:00:00", "Ada", "Lovelace"},
      // Dropped by the transform (follower_count NULL); its user still joined in 2016.
      {12, "User Info Error", "User Info Error", "art", "Albania", "2019-01-01 00:00:00", 28,
       "2016-07-07 00:00:00", "Kim", "Possible"},
  };
  std::vector<std::string> pins_a, pins_b, geos, users;
  for (const Post& p : posts) {
    (p.ind <= 5 ? pins_a : pins_b)
        .push_back(testing::PinJson(p.ind, Uuid(p.ind), p.poster, p.followers, p.category));
    if (!p.country.empty()) geos.push_back(testing::GeoJson(p.ind, p.posted_at, p.country));
    users.push_back(testing::UserJson(p.ind, p.first, p.last, p.age, p.joined));
  }
  pins_a.push_back("{broken");
  // A later duplicate of post 1 in another category: first occurrence wins.
  pins_b.push_back(testing::PinJson(1, Uuid(1), "Ann", "10k", "beauty"));
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-03-01", 0, 0, 0, pins_a).ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-03-01", 1, 0, 6, pins_b).ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[1], "2024-03-01", 0, 0, 0, geos).ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[2], "2024-03-01", 0, 0, 0, users).ok());
  // The next day replays post 2 in another category: the earliest day wins in the views.
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[0], "2024-03-02", 0, 0, 20,
                         {testing::PinJson(2, Uuid(2), "Bob", "500", "travel")})
                  .ok());
  ASSERT_TRUE(PutSegment(store_.get(), kTopics[2], "2024-03-02", 0, 0, 20,
                         {testing::UserJson(2, "Ben", "Hur", 24, "2015-06-01 00:00:00")})
                  .ok());
  BatchRunResult r = Run("2024-03-01", "2024-03-02");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();

  EXPECT_EQ(Q("SELECT count(*) FROM batch.posts"), 11);
  EXPECT_EQ(Q("SELECT count(*) FROM batch.posts WHERE country IS NULL"), 1);
  EXPECT_EQ(Rows("SELECT * FROM batch.q1_popular_category_by_country"),
            (std::vector<std::string>{"Albania|art|2", "Brazil|finance|1", "Brazil|travel|1",
                                      "Chile|education|3", "Denmark|art|1", "Denmark|travel|1"}));
  EXPECT_EQ(
      Rows("SELECT * FROM batch.q2_posts_by_category_and_year"),
      (std::vector<std::string>{"2018|art|1", "2018|education|2", "2019|art|1", "2020|beauty|1",
                                "2020|travel|1", "2021|travel|1", "2022|finance|1"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q2_top_category_by_year"),
            (std::vector<std::string>{"2018|education|2", "2019|art|1", "2020|beauty|1",
                                      "2020|travel|1", "2021|travel|1", "2022|finance|1"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q3_top_poster_by_country"),
            (std::vector<std::string>{"Albania|Cat|2000000", "Brazil|Eve|1500", "Chile|Fay|7000",
                                      "Chile|Gus|7000", "Denmark|Ivy|2000000"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q3_top_country"),
            (std::vector<std::string>{"Albania|Cat|2000000", "Denmark|Ivy|2000000"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q4_popular_category_by_age_group"),
            (std::vector<std::string>{"18-24|art|3", "25-35|travel|2", "36-50|education|1",
                                      "36-50|finance|1", "50+|education|2"}));
  EXPECT_EQ(
      Rows("SELECT * FROM batch.q5_median_follower_count_by_age_group"),
      (std::vector<std::string>{"18-24|10000|3", "25-35|300|3", "36-50|4250|2", "50+|3550|2"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q6_users_joined_by_year"),
            (std::vector<std::string>{"2015|2", "2016|3", "2017|2", "2018|1", "2019|1", "2020|1"}));
  EXPECT_EQ(Rows("SELECT * FROM batch.q7_median_follower_count_by_join_year"),
            (std::vector<std::string>{"2015|10000|3", "2016|1000150|2", "2017|4250|2",
                                      "2018|7000|1", "2019|100|1", "2020|40|1"}));
  EXPECT_EQ(
      Rows("SELECT * FROM batch.q8_median_follower_count_by_join_year_and_age_group"),
      (std::vector<std::string>{"2015|18-24|10000|3", "2016|25-35|1000150|2", "2017|36-50|4250|2",
                                "2018|50+|7000|1", "2019|50+|100|1", "2020|25-35|40|1"}));
  // The rules are in the views' and functions' comments too.
  EXPECT_EQ(Q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'batch' AND c.relkind = 'v' AND obj_description(c.oid) IS NULL"),
            0);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'batch' AND c.relkind = 'v'"),
            static_cast<int64_t>(AnalyticsViewNames().size()) + 3);  // + pins, geo, users
  EXPECT_EQ(Q("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
              "WHERE n.nspname = 'batch' AND obj_description(p.oid) IS NOT NULL"),
            static_cast<int64_t>(AnalyticsFunctionNames().size()) + 1);  // + age_group
}

}  // namespace
}  // namespace pinpipe::batch
