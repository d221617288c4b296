#include "emulate/history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/civil_day.h"
#include "core/record_validator.h"
#include "emulate/distinct_ids.h"
#include "emulate/emulator.h"
#include "emulate/synthetic.h"
#include "testing/fake_producer.h"
#include "testing/status_matchers.h"

namespace pinpipe::emulate {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr int64_t kHour = core::kMillisPerHour;
constexpr int64_t kDay = core::kMillisPerDay;
// 2026-12-06T08:30:00Z
constexpr int64_t kNow = 20'793LL * kDay + 8 * kHour + 30 * 60'000;

TEST(HistoryPeriodTest, Cases) {
  struct Case {
    const char* name;
    seconds span;
    int64_t start;  // expected; 0: an error
  };
  const Case cases[] = {
      {"whole days: N days before today plus today until now", hours(72),
       kNow - kNow % kDay - 3 * kDay},
      {"one day", hours(24), kNow - kNow % kDay - kDay},
      {"hours: the last span", hours(6), kNow - 6 * kHour},
      {"a day and a half is not whole days", hours(36), kNow - 36 * kHour},
      {"seconds", seconds(90), kNow - 90'000},
      {"zero", seconds(0), 0},
      {"negative", seconds(-5), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto period = HistoryPeriodOf(kNow, c.span);
    if (c.start == 0) {
      EXPECT_FALSE(period.ok());
      continue;
    }
    ASSERT_TRUE(period.ok()) << period.status().ToString();
    EXPECT_EQ(core::IsoTime(period->start_ms), core::IsoTime(c.start));
    EXPECT_EQ(period->end_ms, kNow);
  }
  EXPECT_EQ(core::DateOfDay(core::DayOf(HistoryPeriodOf(kNow, hours(72))->start_ms)), "2026-12-03");
}

HistoryOptions Options(HistoryPeriod period, double rate, double swing, uint64_t seed = 7) {
  HistoryOptions o;
  o.period = period;
  o.posts_per_hour = rate;
  o.daily_swing = swing;
  o.seed = seed;
  return o;
}

std::vector<HistoryPost> All(HistorySchedule schedule) {
  std::vector<HistoryPost> out;
  HistoryPost post;
  while (schedule.Next(&post)) out.push_back(post);
  return out;
}

TEST(HistoryScheduleTest, WholeDaysGetTheRateTimes24AndTodayItsPart) {
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(72));
  for (double swing : {0.0, 0.5, 1.0}) {
    SCOPED_TRACE(swing);
    auto schedule = HistorySchedule::Create(Options(period, 100, swing), 50);
    ASSERT_TRUE(schedule.ok()) << schedule.status().ToString();
    const auto& per_day = schedule->posts_per_day();
    ASSERT_EQ(per_day.size(), 4u);
    for (const char* day : {"2026-12-03", "2026-12-04", "2026-12-05"}) {
      // Fractions carried across days: at most one post moves over a day's end.
      EXPECT_NEAR(static_cast<double>(per_day.at(day)), 2400.0, 1.0) << day;
    }
    // Today until 08:30: 8.5 hours.
    EXPECT_GT(per_day.at("2026-12-06"), 0);
    if (swing == 0.0) {
      EXPECT_NEAR(static_cast<double>(per_day.at("2026-12-06")), 850.0, 1.0);
    }

    const std::vector<HistoryPost> posts = All(*schedule);
    ASSERT_EQ(static_cast<int64_t>(posts.size()), schedule->total_posts());
    std::map<std::string, int64_t> counted;
    for (size_t i = 0; i < posts.size(); ++i) {
      const HistoryPost& p = posts[i];
      ASSERT_EQ(p.n, static_cast<int64_t>(i));
      ASSERT_EQ(p.index, kHistoryFirstIndex + p.n);
      ASSERT_GE(p.timestamp_ms, period.start_ms);
      ASSERT_LT(p.timestamp_ms, period.end_ms);
      if (i > 0) {
        ASSERT_GE(p.timestamp_ms, posts[i - 1].timestamp_ms) << "time order";
      }
      ASSERT_LT(p.source, 50u);
      ASSERT_EQ(p.source, PickPost(7, static_cast<uint64_t>(p.n), 50));
      ++counted[core::DateOfDay(core::DayOf(p.timestamp_ms))];
    }
    EXPECT_EQ(counted, per_day) << "each post falls on the day the schedule counted it for";
  }
}

TEST(HistoryScheduleTest, DailyCyclePeaksAt20AndIsLowAt8) {
  HistoryOptions o = Options({0, 1}, 1000, 0.5);
  double carry = 0;
  const int64_t day = 20'000 * kDay;
  const int64_t at20 = HistorySchedule::SlotPosts(o, day + 20 * kHour, day + 21 * kHour, &carry);
  carry = 0;
  const int64_t at8 = HistorySchedule::SlotPosts(o, day + 8 * kHour, day + 9 * kHour, &carry);
  carry = 0;
  const int64_t at14 = HistorySchedule::SlotPosts(o, day + 14 * kHour, day + 15 * kHour, &carry);
  // 1000 * (1 + 0.5 * sin(...)): the 20:00 slot's middle is 15 minutes short of the peak.
  EXPECT_NEAR(static_cast<double>(at20), 1500, 5);
  EXPECT_NEAR(static_cast<double>(at8), 500, 5);
  EXPECT_NEAR(static_cast<double>(at14), 1000, 70);
  // A half slot gets half, and the fraction is carried.
  carry = 0;
  o.daily_swing = 0;
  o.posts_per_hour = 3;
  EXPECT_EQ(HistorySchedule::SlotPosts(o, day, day + kHour / 2, &carry), 1);
  EXPECT_DOUBLE_EQ(carry, 0.5);
  EXPECT_EQ(HistorySchedule::SlotPosts(o, day, day + kHour / 2, &carry), 2);
  EXPECT_NEAR(carry, 0.0, 1e-9);
}

TEST(HistoryScheduleTest, DeterministicForASeed) {
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(24));
  const auto a = All(*HistorySchedule::Create(Options(period, 50, 0.5, 1), 1000));
  const auto b = All(*HistorySchedule::Create(Options(period, 50, 0.5, 1), 1000));
  const auto c = All(*HistorySchedule::Create(Options(period, 50, 0.5, 2), 1000));
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), c.size()) << "the counts do not depend on the seed";
  size_t same_time = 0;
  size_t same_source = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].timestamp_ms, b[i].timestamp_ms);
    ASSERT_EQ(a[i].source, b[i].source);
    same_time += a[i].timestamp_ms == c[i].timestamp_ms ? 1 : 0;
    same_source += a[i].source == c[i].source ? 1 : 0;
  }
  EXPECT_LT(same_time, a.size() / 10);
  EXPECT_LT(same_source, a.size() / 10);
  // A later `now` keeps the earlier posts (an interrupted first run loads the same again).
  HistoryPeriod later = period;
  later.end_ms += 2 * kHour;
  const auto d = All(*HistorySchedule::Create(Options(later, 50, 0.5, 1), 1000));
  ASSERT_GT(d.size(), a.size());
  size_t whole_slots = 0;
  for (const HistoryPost& p : a) {
    if (p.timestamp_ms >= period.end_ms - period.end_ms % kHour) break;
    ++whole_slots;
  }
  for (size_t i = 0; i < whole_slots; ++i) {
    ASSERT_EQ(a[i].timestamp_ms, d[i].timestamp_ms);
    ASSERT_EQ(a[i].index, d[i].index);
  }
}

TEST(HistoryScheduleTest, RefusesBadOptions) {
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(24));
  struct Case {
    const char* name;
    HistoryOptions options;
    size_t sources;
  };
  HistoryOptions overflow = Options(period, 1e7, 0);
  overflow.first_index = kMaxDistinctIndex - 10;
  const Case cases[] = {
      {"negative rate", Options(period, -1, 0), 10},
      {"swing above 1", Options(period, 10, 1.5), 10},
      {"empty period", Options({kNow, kNow}, 10, 0), 10},
      {"no source posts", Options(period, 10, 0), 0},
      {"beyond the index range", overflow, 10},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto s = HistorySchedule::Create(c.options, c.sources);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  }
  // Rate 0 is a valid, empty history.
  auto empty = HistorySchedule::Create(Options(period, 0, 0), 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total_posts(), 0);
  HistoryPost post;
  EXPECT_FALSE(empty->Next(&post));
}

TEST(LoadHistoryTest, ProducesEachPostsThreeRecordsWithItsTimestamp) {
  const std::vector<SourcePost> posts = PostsFromDataSet(GenerateDataSet(200, 11));
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(24));
  HistoryOptions options = Options(period, 20, 0.5);
  auto schedule = HistorySchedule::Create(options, posts.size());
  ASSERT_TRUE(schedule.ok());
  const std::vector<HistoryPost> expected = All(*schedule);
  testing::FakeProducer producer;
  std::stop_source stop;
  auto stats = LoadHistory(posts, *schedule, HistoryTopics{"p", "g", "u"}, producer,
                           stop.get_token(), std::chrono::seconds(1), nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->posts, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(stats->records_rejected(), 0) << stats->first_rejection;
  EXPECT_EQ(stats->records_failed(), 0);
  EXPECT_EQ(stats->records_produced(), 3 * stats->posts);

  const std::vector<testing::ProducedMessage> messages = producer.messages();
  ASSERT_EQ(messages.size(), 3 * expected.size());
  core::RecordValidator validator;
  core::ValidatedRecord record;
  std::vector<core::FieldError> errors;
  const core::RecordKind kinds[] = {core::RecordKind::kPin, core::RecordKind::kGeo,
                                    core::RecordKind::kUser};
  const char* topics[] = {"p", "g", "u"};
  std::set<std::string> keys;
  for (size_t i = 0; i < messages.size(); ++i) {
    const HistoryPost& post = expected[i / 3];
    const testing::ProducedMessage& m = messages[i];
    ASSERT_EQ(m.topic, topics[i % 3]);
    ASSERT_EQ(m.timestamp_ms, post.timestamp_ms) << "the three records share the post's time";
    ASSERT_EQ(m.key, std::to_string(post.index));
    errors.clear();
    ASSERT_TRUE(validator.Validate(kinds[i % 3], m.value, &record, &errors)) << m.value;
    if (i % 3 == 0) keys.insert(m.key);
  }
  EXPECT_EQ(keys.size(), expected.size()) << "every history post is a new post";
  const std::string summary = FormatHistorySummary(options, *schedule, *stats);
  EXPECT_EQ(summary.rfind("history " + core::IsoTime(period.start_ms) + " .. ", 0), 0u) << summary;
  EXPECT_NE(summary.find("posts per day: 2026-12-05 "), std::string::npos) << summary;
}

TEST(LoadHistoryTest, InvalidRecordsAreCountedNotProduced) {
  std::vector<SourcePost> posts = PostsFromDataSet(GenerateDataSet(3, 5));
  // A geo record whose latitude is out of range: the API would refuse it.
  const size_t at = posts[1].geo_json.find("\"latitude\":");
  ASSERT_NE(at, std::string::npos) << posts[1].geo_json;
  const size_t end = posts[1].geo_json.find(',', at);
  posts[1].geo_json.replace(at, end - at, "\"latitude\":123.5");
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(6));
  auto schedule = HistorySchedule::Create(Options(period, 30, 0), posts.size());
  ASSERT_TRUE(schedule.ok());
  int64_t bad_posts = 0;
  for (const HistoryPost& p : All(*schedule)) bad_posts += p.source == 1 ? 1 : 0;
  ASSERT_GT(bad_posts, 0);
  testing::FakeProducer producer;
  std::stop_source stop;
  auto stats = LoadHistory(posts, *schedule, HistoryTopics{}, producer, stop.get_token(),
                           std::chrono::seconds(1), nullptr);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->rejected[1], bad_posts);
  EXPECT_EQ(stats->rejected[0] + stats->rejected[2], 0);
  EXPECT_EQ(stats->records_produced(), 3 * stats->posts - bad_posts);
  EXPECT_EQ(static_cast<int64_t>(producer.messages().size()), stats->records_produced());
  EXPECT_NE(stats->first_rejection.find("latitude"), std::string::npos) << stats->first_rejection;
}

TEST(LoadHistoryTest, FailedDeliveriesAreCountedAndAStopEndsEarly) {
  const std::vector<SourcePost> posts = PostsFromDataSet(GenerateDataSet(20, 5));
  const HistoryPeriod period = *HistoryPeriodOf(kNow, hours(6));
  {
    auto schedule = HistorySchedule::Create(Options(period, 10, 0), posts.size());
    testing::FakeProducer producer;
    producer.FailDeliveries(Unavailable("broker gone"));
    std::stop_source stop;
    auto stats = LoadHistory(posts, *schedule, HistoryTopics{}, producer, stop.get_token(),
                             std::chrono::seconds(1), nullptr);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->records_failed(), 3 * stats->posts);
    EXPECT_EQ(stats->records_produced(), 0);
    EXPECT_NE(stats->first_failure.find("broker gone"), std::string::npos);
  }
  {
    auto schedule = HistorySchedule::Create(Options(period, 10, 0), posts.size());
    testing::FakeProducer producer;
    std::stop_source stop;
    stop.request_stop();
    auto stats = LoadHistory(posts, *schedule, HistoryTopics{}, producer, stop.get_token(),
                             std::chrono::seconds(1), nullptr);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->posts, 0);
    EXPECT_TRUE(producer.messages().empty());
  }
  {
    auto schedule = HistorySchedule::Create(Options(period, 10, 0), posts.size());
    testing::FakeProducer producer;
    producer.FailProduceCalls(FailedPrecondition("producer closed"));
    std::stop_source stop;
    auto stats = LoadHistory(posts, *schedule, HistoryTopics{}, producer, stop.get_token(),
                             std::chrono::seconds(1), nullptr);
    EXPECT_THAT(stats, StatusIs(StatusCode::kFailedPrecondition));
  }
}

}  // namespace
}  // namespace pinpipe::emulate
