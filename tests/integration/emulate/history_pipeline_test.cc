// `pinpipe emulate --history` end to end, every part real: the topics' retention (`pinpipe topics
// ensure --retention`, and emulate refusing topics that would delete the history), the history
// produced into Kafka with back-dated timestamps, `pinpipe archive` sealing the history's whole
// days by themselves, and `pinpipe batch` loading them.
//
// Needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and PINPIPE_TEST_PINPIPE_BIN
// (scripts/test sets them).
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "core/civil_day.h"
#include "kafka/admin.h"
#include "lake/local_store.h"
#include "testing/archive_env.h"
#include "testing/kafka_env.h"
#include "testing/pg_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {
namespace {

using std::chrono::seconds;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "posts per day: 2026-12-04 480 2026-12-05 480 2026-12-06 170" -> {day: posts}.
std::map<std::string, int64_t> PostsPerDay(const std::string& output) {
  std::map<std::string, int64_t> out;
  const size_t at = output.find("posts per day:");
  if (at == std::string::npos) return out;
  std::istringstream line(output.substr(at + 14, output.find('\n', at) - at - 14));
  std::string day;
  int64_t n = 0;
  while (line >> day >> n) out[day] = n;
  return out;
}

class HistoryPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = KafkaBrokers();
    bin_ = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
    const std::optional<std::string> admin = TestPgDsn();
    if (brokers_.empty() || !admin || bin_.empty()) {
      GTEST_SKIP() << "needs PINPIPE_TEST_KAFKA_BROKERS, PINPIPE_TEST_PG_DSN and "
                      "PINPIPE_TEST_PINPIPE_BIN (scripts/test sets them)";
    }
    name_ = UniqueName("history");
    for (int k = 0; k < 3; ++k) {
      topics_[k] = name_ + std::array<const char*, 3>{"-pin", "-geo", "-user"}[k];
    }
    source_db_ = std::make_unique<ScratchDatabase>(*admin);
    ASSERT_TRUE(source_db_->ok()) << source_db_->error();
    batch_db_ = std::make_unique<ScratchDatabase>(*admin);
    ASSERT_TRUE(batch_db_->ok()) << batch_db_->error();
    dir_ = ::testing::TempDir() + name_;
    std::filesystem::create_directories(dir_);
    lake_ = dir_ + "/lake";
  }

  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::string TopicFlags() const {
    return fmt::format("--topic-pin {} --topic-geo {} --topic-user {}", topics_[0], topics_[1],
                       topics_[2]);
  }

  CommandResult Pinpipe(const std::string& args) {
    return RunCommand(ShellQuote(bin_) + " " + args + " 2>&1");
  }

  std::map<std::string, kafka::TopicConfigEntry> Configs(const std::string& topic) {
    auto configs = kafka::DescribeTopicConfigs(brokers_, topic, seconds(15));
    EXPECT_TRUE(configs.ok()) << configs.status().ToString();
    return configs.ok() ? *configs : std::map<std::string, kafka::TopicConfigEntry>{};
  }

  std::string brokers_, bin_, name_, dir_, lake_;
  std::array<std::string, 3> topics_;
  std::unique_ptr<ScratchDatabase> source_db_, batch_db_;
};

TEST_F(HistoryPipelineTest, BackDatedDaysAreKeptSealedAndLoaded) {
  // Topics as an older pinpipe (or Kafka's tools) made them: the pin topic keeps records for one
  // hour and has a setting of its own that raising its retention must not reset.
  std::vector<kafka::TopicSpec> specs;
  specs.push_back({topics_[0], 3, 1, {{"retention.ms", "3600000"}, {"segment.ms", "7200000"}}});
  specs.push_back({topics_[1], 3, 1, {}});
  specs.push_back({topics_[2], 3, 1, {}});
  Status created = kafka::EnsureTopics(brokers_, specs, seconds(30));
  ASSERT_TRUE(created.ok()) << created.ToString();
  CommandResult seed =
      Pinpipe(fmt::format("seed --rows 300 --pg-dsn {}", ShellQuote(source_db_->dsn())));
  ASSERT_EQ(seed.exit_code, 0) << seed.output;

  const std::string history = fmt::format(
      "emulate --history 2d --history-posts-per-hour 20 --seed 9 --kafka-brokers {} {} --pg-dsn {}",
      brokers_, TopicFlags(), ShellQuote(source_db_->dsn()));
  // 1. Kafka would delete the history by its timestamps within the hour: refused, nothing sent.
  CommandResult refused = Pinpipe(history);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find(fmt::format("topic {} keeps records for 3600000 ms", topics_[0])),
            std::string::npos)
      << refused.output;
  auto sent = HighWatermarkSum(brokers_, {topics_[0], topics_[1], topics_[2]});
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 0);

  // 2. topics ensure raises every topic that keeps records for less than 14 days (the pin
  // topic's hour, the others' broker default of 7 days).
  CommandResult ensure = Pinpipe(
      fmt::format("topics ensure --retention 14d --kafka-brokers {} {}", brokers_, TopicFlags()));
  ASSERT_EQ(ensure.exit_code, 0) << ensure.output;
  EXPECT_NE(ensure.output.find(fmt::format("topic {} ok (3 partitions, replication factor 1, "
                                           "retention.ms raised from 3600000 to 1209600000)",
                                           topics_[0])),
            std::string::npos)
      << ensure.output;
  for (const std::string& topic : topics_) {
    auto configs = Configs(topic);
    EXPECT_EQ(configs["retention.ms"].value, "1209600000") << topic;
    EXPECT_EQ(configs["message.timestamp.type"].value, "CreateTime") << topic;
  }
  EXPECT_EQ(Configs(topics_[0])["segment.ms"].value, "7200000") << "kept by the raise";
  // Again: nothing to raise.
  ensure = Pinpipe(
      fmt::format("topics ensure --retention 14d --kafka-brokers {} {}", brokers_, TopicFlags()));
  ASSERT_EQ(ensure.exit_code, 0) << ensure.output;
  EXPECT_NE(ensure.output.find("retention at least 14d"), std::string::npos) << ensure.output;

  // 3. The history: two whole UTC days before today and today until now.
  const int64_t before = NowMs();
  CommandResult produced = Pinpipe(history);
  const int64_t after = NowMs();
  ASSERT_EQ(produced.exit_code, 0) << produced.output;
  const std::map<std::string, int64_t> per_day = PostsPerDay(produced.output);
  const int64_t today = core::DayOf(before);
  const std::string day1 = core::DateOfDay(today - 2);
  const std::string day2 = core::DateOfDay(today - 1);
  ASSERT_TRUE(per_day.contains(day1) && per_day.contains(day2)) << produced.output;
  EXPECT_NEAR(static_cast<double>(per_day.at(day1)), 480, 1) << produced.output;
  EXPECT_NEAR(static_cast<double>(per_day.at(day2)), 480, 1) << produced.output;
  int64_t posts = 0;
  for (const auto& [day, n] : per_day) posts += n;
  EXPECT_NE(produced.output.find(fmt::format("{} posts, {} records produced", posts, 3 * posts)),
            std::string::npos)
      << produced.output;
  EXPECT_NE(produced.output.find("0 rejected by validation, 0 failed"), std::string::npos)
      << produced.output;

  // Every record is in Kafka with its post's back-dated timestamp, the same for its three
  // records, on the day the summary counted it for.
  std::map<std::string, int64_t> time_of_key;
  for (int k = 0; k < 3; ++k) {
    auto messages = ReadTopic(brokers_, topics_[k], seconds(60));
    ASSERT_TRUE(messages.ok()) << messages.status().ToString();
    ASSERT_EQ(static_cast<int64_t>(messages->size()), posts) << topics_[k];
    std::map<std::string, int64_t> counted;
    for (const kafka::Message& m : *messages) {
      ASSERT_TRUE(m.key.has_value());
      ASSERT_GE(m.timestamp_ms, today * core::kMillisPerDay - 2 * core::kMillisPerDay);
      ASSERT_LT(m.timestamp_ms, after);
      ++counted[core::DateOfDay(core::DayOf(m.timestamp_ms))];
      if (k == 0) {
        ASSERT_TRUE(time_of_key.emplace(*m.key, m.timestamp_ms).second) << "a new post each";
      } else {
        ASSERT_EQ(time_of_key.at(*m.key), m.timestamp_ms) << topics_[k] << " " << *m.key;
      }
    }
    // Today's count depends on `now` at the run, so only the whole days compare exactly.
    EXPECT_EQ(counted[day1], per_day.at(day1)) << topics_[k];
    EXPECT_EQ(counted[day2], per_day.at(day2)) << topics_[k];
  }

  // 4. The archiver seals the whole days by itself: today's records push the watermark past
  // their end + 1 h (unless the test runs in the first hour of a UTC day: then only day 1).
  const bool day2_sealable = before >= today * core::kMillisPerDay + core::kMillisPerHour + 60000;
  std::vector<std::string> sealable = {day1};
  if (day2_sealable) sealable.push_back(day2);
  {
    ChildProcess archiver;
    const std::string log = dir_ + "/archive.log";
    ASSERT_TRUE(archiver
                    .Start({bin_,
                            "archive",
                            "--kafka-brokers",
                            brokers_,
                            "--topic-pin",
                            topics_[0],
                            "--topic-geo",
                            topics_[1],
                            "--topic-user",
                            topics_[2],
                            "--group",
                            name_ + "-g",
                            "--lake",
                            lake_,
                            "--rotate-idle",
                            "300ms",
                            "--watermark-idle",
                            "2s",
                            "--session-timeout-ms",
                            "6000"},
                           log)
                    .ok());
    auto store = lake::LocalStore::Open(lake_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto sealed = [&] {
      for (const std::string& day : sealable) {
        for (const std::string& t : topics_) {
          auto head = (*store)->Head(archive::SuccessKey(t, *core::ParseDate(day)));
          if (!head.ok() || !head->has_value()) return false;
        }
      }
      return true;
    };
    EXPECT_TRUE(WaitFor(sealed, seconds(120))) << Slurp(log);
    archiver.Signal(SIGTERM);
    EXPECT_EQ(archiver.Wait(seconds(60)), 0) << Slurp(log);
    // Today is not over: never sealed.
    auto open = (*store)->Head(archive::SuccessKey(topics_[0], today));
    ASSERT_TRUE(open.ok());
    EXPECT_FALSE(open->has_value());
  }
  ASSERT_FALSE(HasFailure());

  // 5. The batch layer loads them: every post of the day (geo and user rows one per post; pins
  // the transform drops without a follower count).
  for (const std::string& day : sealable) {
    SCOPED_TRACE(day);
    CommandResult batch = Pinpipe(
        fmt::format("batch --date {} --require-sealed --progress never --lake {} --pg-dsn {} {}",
                    day, ShellQuote(lake_), ShellQuote(batch_db_->dsn()), TopicFlags()));
    ASSERT_EQ(batch.exit_code, 0) << batch.output;
    EXPECT_NE(batch.output.find(fmt::format("pinpipe batch: dt={} sealed=yes records={} ", day,
                                            3 * per_day.at(day))),
              std::string::npos)
        << batch.output;
    for (const char* table : {"geolocation_data_clean", "user_data_clean"}) {
      auto rows =
          QueryInt(batch_db_->dsn(),
                   fmt::format("SELECT count(*) FROM batch.{} WHERE dt = '{}'", table, day));
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      EXPECT_EQ(*rows, per_day.at(day)) << table;
    }
    auto pins = QueryInt(batch_db_->dsn(),
                         fmt::format("SELECT count(*) FROM batch.experimental_data WHERE dt = '{}' "
                                     "AND ind >= 1000000000",
                                     day));
    ASSERT_TRUE(pins.ok()) << pins.status().ToString();
    EXPECT_GT(*pins, per_day.at(day) / 2);
    EXPECT_LE(*pins, per_day.at(day));
  }
}

}  // namespace
}  // namespace pinpipe::testing
