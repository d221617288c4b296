#include "archive/day_ledger.h"

#include <gtest/gtest.h>

#include <simdjson.h>

#include "archive/archive_layout.h"
#include "archive/segment_writer.h"
#include "core/event_time.h"
#include "testing/fake_object_store.h"

namespace pinpipe::archive {
namespace {

using testing::FakeObjectStore;

int64_t Ms(const char* text) { return *core::RecordTimestampToEpochMs(text); }
int64_t Day(const char* date) { return *ParseDate(date); }

// A segment of partition `partition` with `per_day` records on each of `days`.
Segment MakeSegment(int32_t partition, int64_t first, const std::vector<const char*>& days,
                    int per_day) {
  SegmentSettings s;
  s.group = "g";
  s.topic = "geo";
  s.partition = partition;
  s.kind = core::RecordKind::kGeo;
  auto zstd = FramePool::Create(3, 0);
  SegmentBuilder b(s, zstd->get());
  b.Start(first);
  int64_t offset = first;
  for (const char* day : days) {
    for (int i = 0; i < per_day; ++i, ++offset) {
      EXPECT_TRUE(b.Add(offset, "{\"ind\":" + std::to_string(offset) + "}",
                        Ms((std::string(day) + " 12:00:00").c_str()), std::nullopt)
                      .ok());
    }
  }
  return std::move(b.Finish(offset)).value();
}

int64_t JsonInt(const std::string& json, const char* field) {
  simdjson::dom::parser parser;
  return parser.parse(json)[field].get_int64().value();
}

TEST(DayLedgerTest, OpensEachNewDayOnce) {
  FakeObjectStore store;
  DayLedger ledger(&store, "g");
  const Segment seg = MakeSegment(0, 0, {"2024-01-01", "2024-01-02"}, 3);
  std::vector<int64_t> late_days;
  auto late = ledger.PrepareDays(seg, &late_days);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(*late, 0);
  EXPECT_TRUE(late_days.empty());
  EXPECT_EQ(*ListOpenDays(&store, "g", "geo"),
            (std::vector<int64_t>{Day("2024-01-01"), Day("2024-01-02")}));
  const int puts = store.put_calls();
  ASSERT_TRUE(ledger.PrepareDays(MakeSegment(0, 6, {"2024-01-02"}, 1), nullptr).ok());
  EXPECT_EQ(store.put_calls(), puts);  // known open: no request
}

TEST(DayLedgerTest, SealCountsRecordsAndClosesTheDay) {
  FakeObjectStore store;
  DayLedger ledger(&store, "g");
  SegmentWriter writer(&store);
  // Two partitions; partition 1's segment is remembered, partition 0's is not (as if written
  // by a previous run): its count comes from its intent.
  const Segment a = MakeSegment(0, 0, {"2024-01-01"}, 4);
  const Segment b = MakeSegment(1, 50, {"2024-01-01", "2024-01-02"}, 2);
  ASSERT_TRUE(writer.Write(a, std::nullopt).ok());
  ASSERT_TRUE(ledger.PrepareDays(b, nullptr).ok());
  ASSERT_TRUE(writer.Write(b, std::nullopt).ok());
  ledger.Remember(b);
  auto r = ledger.Seal("geo", Day("2024-01-01"), Ms("2024-01-02 02:00:00"), 3600000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->already_sealed);
  EXPECT_EQ(r->records, 6);
  EXPECT_EQ(r->objects, 2);
  const std::string success = store.objects().at("geo/dt=2024-01-01/_SUCCESS");
  EXPECT_EQ(JsonInt(success, "records"), 6);
  EXPECT_EQ(JsonInt(success, "objects"), 2);
  EXPECT_NE(success.find("\"watermark\":\"2024-01-02T02:00:00.000Z\""), std::string::npos);
  EXPECT_EQ(*ListOpenDays(&store, "g", "geo"), std::vector<int64_t>{Day("2024-01-02")});
  // Sealing again finds it sealed and changes nothing.
  auto again = ledger.Seal("geo", Day("2024-01-01"), Ms("2024-01-09 00:00:00"), 3600000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_sealed);
  EXPECT_EQ(store.objects().at("geo/dt=2024-01-01/_SUCCESS"), success);
}

TEST(DayLedgerTest, CountsByDecompressingWhenNoManifestIsLeft) {
  FakeObjectStore store;
  const Segment a = MakeSegment(0, 0, {"2024-01-01"}, 7);
  ASSERT_TRUE(SegmentWriter(&store).Write(a, std::nullopt).ok());
  ASSERT_TRUE(
      store.Delete(IntentKey("g", "geo", kafka::Partition{0}, kafka::Offset{0})).ok());  // pruned
  DayLedger ledger(&store, "g");
  auto r = ledger.Seal("geo", Day("2024-01-01"), Ms("2024-01-02 02:00:00"), 3600000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 7);
}

TEST(DayLedgerTest, RecordsForASealedDayAreLateButStillWritten) {
  FakeObjectStore store;
  ASSERT_TRUE(store.Put(SuccessKey("geo", Day("2024-01-01")), "{}").ok());
  DayLedger ledger(&store, "g");
  const Segment seg = MakeSegment(0, 0, {"2024-01-01", "2024-01-02"}, 2);
  std::vector<int64_t> late_days;
  auto late = ledger.PrepareDays(seg, &late_days);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(*late, 2);
  EXPECT_EQ(late_days, std::vector<int64_t>{Day("2024-01-01")});
  // The sealed day is not reopened; the other one is opened.
  EXPECT_EQ(*ListOpenDays(&store, "g", "geo"), std::vector<int64_t>{Day("2024-01-02")});
  // Known sealed now: asked again without a request.
  const int gets = store.get_calls();
  EXPECT_EQ(*ledger.PrepareDays(seg, nullptr), 2);
  EXPECT_EQ(store.get_calls(), gets);
}

TEST(DayLedgerTest, StoreErrorsAreReturned) {
  FakeObjectStore store;
  DayLedger ledger(&store, "g");
  store.FailNthPut(1);
  EXPECT_EQ(ledger.PrepareDays(MakeSegment(0, 0, {"2024-01-01"}, 1), nullptr).status().code(),
            StatusCode::kUnavailable);
  // The failed day is not remembered as open: the retry creates its marker.
  ASSERT_TRUE(ledger.PrepareDays(MakeSegment(0, 0, {"2024-01-01"}, 1), nullptr).ok());
  EXPECT_EQ(ListOpenDays(&store, "g", "geo")->size(), 1u);
}

}  // namespace
}  // namespace pinpipe::archive
