// The ingestion API against the real test broker: what is acknowledged is in Kafka, byte for byte,
// exactly once.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "testing/ingest_env.h"
#include "testing/kafka_env.h"

namespace pinpipe::testing {
namespace {

using core::RecordKind;

TEST(IngestKafkaTest, PostedRecordsAreReadBackByteForByte) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  auto h = IngestHarness::Start(brokers, UniqueName("ingest-bytes"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  http::Client client = (*h)->NewClient();

  // Both pin shapes, odd key order, whitespace, unicode, NBSP, emoji, escapes.
  const std::vector<std::string> pins = {
      PinRecord(11),
      R"j({"category":"diy-and-crafts","downloaded":0,"index":12,"unique_id":"ABCDEF01-2345-6789-abcd-ef0123456789","title":"","description":"No description available","follower_count":"User Info Error","tag_list":"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e","is_image_or_video":"multi-video(story page format)","image_src":"Image src error.","save_location":"Local save in /data/diy-and-crafts"})j",
      "{\n  \"index\" : 13 , "
      "\"unique_id\":\"0b1e4b4e-1111-4000-8000-000000000013\",\"title\":\"T\\u00fcrk\\u00e7e \\\\ "
      "\\\"q\\\"\",\"description\":\"d\",\"poster_name\":\"p\",\"follower_count\":\"1.2k\",\"tag_"
      "list\":\"t\",\"is_image_or_video\":\"video\",\"image_src\":\"https://i.pinimg.com/videos/"
      "thumbnails/originals/x.jpg\",\"downloaded\":1,\"save_location\":\"Local save in "
      "/data/art\",\"category\":\"art\"}\n"};
  for (const auto& body : pins) {
    auto r = client.Post("/pin/", body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
  }
  const std::string geo =
      R"({"ind": 11, "timestamp": "2020-08-28T03:52:47", "latitude": -89.9787, "longitude": 179.123456, "country": "Cote d'Ivoire"})";
  const std::string user =
      R"({"ind": 11, "first_name": "Abigail", "last_name": "Ali", "age": 20, "date_joined": "2015-10-24 11:23:51"})";
  ASSERT_EQ(client.Post("/geo/", geo)->status, 200);
  ASSERT_EQ(client.Post("/user/", user)->status, 200);
  // A rejected record must not reach Kafka.
  ASSERT_EQ(client.Post("/pin/", "{\"index\": 14}")->status, 422);

  auto read = ReadTopic(brokers, (*h)->topic(RecordKind::kPin), std::chrono::seconds(30));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::multiset<std::string> got, want(pins.begin(), pins.end());
  for (const auto& m : *read) got.insert(m.value);
  EXPECT_EQ(got, want);
  int32_t pin_partition_of_11 = -1;
  for (const auto& m : *read) {
    if (m.value == pins[0]) {
      EXPECT_EQ(m.key, std::optional<std::string>("11"));
      pin_partition_of_11 = m.partition;
      EXPECT_GT(m.timestamp_ms, 0);
    }
  }
  auto geo_read = ReadTopic(brokers, (*h)->topic(RecordKind::kGeo), std::chrono::seconds(30));
  ASSERT_TRUE(geo_read.ok());
  ASSERT_EQ(geo_read->size(), 1u);
  EXPECT_EQ((*geo_read)[0].value, geo);
  // A post's pin, geo and user records share a key, hence a partition number.
  EXPECT_EQ((*geo_read)[0].partition, pin_partition_of_11);
  auto user_read = ReadTopic(brokers, (*h)->topic(RecordKind::kUser), std::chrono::seconds(30));
  ASSERT_TRUE(user_read.ok());
  ASSERT_EQ(user_read->size(), 1u);
  EXPECT_EQ((*user_read)[0].value, user);
  EXPECT_EQ((*user_read)[0].partition, pin_partition_of_11);
}

TEST(IngestKafkaTest, BurstOf100kThroughBulkEndpointArrivesCompleteWithoutDuplicates) {
  PINPIPE_KAFKA_BROKERS_OR_SKIP(brokers);
  auto h = IngestHarness::Start(brokers, UniqueName("ingest-burst"));
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  constexpr int kRecords = 100000, kPerRequest = 5000, kClients = 4;
  std::atomic<int> accepted{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      http::Client client = (*h)->NewClient();
      for (int start = c * kPerRequest; start < kRecords; start += kPerRequest * kClients) {
        std::string body;
        for (int i = start; i < start + kPerRequest; ++i) body += PinRecord(i) + "\n";
        auto r = client.Post("/batch/pin", body, "application/x-ndjson");
        if (!r.ok() || r->status != 200) {
          errors[c] = r.ok() ? r->body.substr(0, 300) : r.status().ToString();
          return;
        }
        std::string want =
            "{\"accepted\":" + std::to_string(kPerRequest) + ",\"rejected\":0,\"failed\":0";
        if (r->body.rfind(want, 0) != 0) {
          errors[c] = r->body.substr(0, 300);
          return;
        }
        accepted += kPerRequest;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) ASSERT_EQ(e, "");
  ASSERT_EQ(accepted.load(), kRecords);

  auto read = ReadTopic(brokers, (*h)->topic(RecordKind::kPin), std::chrono::seconds(120));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), static_cast<size_t>(kRecords));
  std::set<std::string> keys;
  for (const auto& m : *read) {
    ASSERT_TRUE(m.key.has_value());
    ASSERT_EQ(m.value, PinRecord(std::stoi(*m.key))) << "message at offset " << m.offset;
    keys.insert(*m.key);
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(kRecords)) << "duplicates in the topic";
}

}  // namespace
}  // namespace pinpipe::testing
