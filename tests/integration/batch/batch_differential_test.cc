// Differential test: the same records through the speed layer's path (stream::ChunkBuilder, the
// per-record code of `pinpipe stream`, COPYed into the speed layer's own tables) and through
// archive objects + the batch job give identical cleaned rows, column by column, and the same
// dead-letter, dropped and duplicate counts. The records are realistic synthetic posts replayed
// with duplicates, every data-driven transform case of tests/data/transform (edge cases of each
// rule, invalid records), and a few broken lines. Run once with the default transform and once
// with a copy without dedup_key, so that every case's row is compared (the cases share ids).
#include <algorithm>
#include <fstream>
#include <sstream>

#include "batch_pg_fixture.h"
#include "pg/copy_in.h"
#include "stream/chunk_builder.h"
#include "stream/pg_sink.h"

namespace pinpipe::batch {
namespace {

using core::RecordKind;

struct Line {
  int hour;
  int partition;
  int64_t offset;
  std::string value;
};

class BatchDifferentialTest : public BatchJobPgTest {
 protected:
  // The records of each kind, placed in (hour, partition) objects with consecutive offsets.
  std::array<std::vector<Line>, 3> Records() {
    const std::array<std::vector<std::string>, 3> values =
        testing::TrickyDayRecords(600, 1500, 1234);
    std::array<std::vector<Line>, 3> out;
    for (size_t k = 0; k < 3; ++k) {
      std::map<int, int64_t> next;  // per partition
      for (size_t i = 0; i < values[k].size(); ++i) {
        const int partition = static_cast<int>(i % 3);
        const int hour = static_cast<int>((i / 97) % 5);
        out[k].push_back({hour, partition, next[partition]++, values[k][i]});
      }
    }
    return out;
  }

  void Compare(std::shared_ptr<const transform::Transform> t, const std::string& dsn) {
    const std::string date = "2024-04-01";
    const std::array<std::vector<Line>, 3> records = Records();

    // Archive objects, one per (hour, partition), lines in offset order.
    std::array<std::map<std::string, std::vector<const Line*>>, 3> objects;  // by key
    for (size_t k = 0; k < 3; ++k) {
      std::map<std::pair<int, int>, std::vector<const Line*>> groups;
      for (const Line& l : records[k]) groups[{l.hour, l.partition}].push_back(&l);
      for (auto& [at, lines] : groups) {
        std::vector<std::string> text;
        for (const Line* l : lines) text.push_back(l->value);
        auto key = PutSegment(store_.get(), kTopics[k], date, at.first, at.second,
                              lines.front()->offset, text);
        ASSERT_TRUE(key.ok()) << key.status().ToString();
        objects[k][*key] = lines;
      }
    }

    // The speed layer's path, fed in the batch job's commit order (object key, then line).
    stream::ChunkBuilder builder(t);
    for (size_t k = 0; k < 3; ++k) {
      for (const auto& [key, lines] : objects[k]) {
        for (const Line* l : lines) {
          builder.Add(static_cast<RecordKind>(k), kTopics[k], kafka::Partition(l->partition),
                      kafka::Offset(l->offset), l->value, 1700000000000);
        }
      }
    }
    stream::PreparedChunk speed = builder.Take();
    auto conn = pg::Connection::Open(dsn);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    // The speed layer's own tables (schema public), as `pinpipe stream` creates them.
    ASSERT_TRUE(stream::EnsureSpeedTables(*conn, *t).ok());
    for (RecordKind kind : core::kAllRecordKinds) {
      const transform::TableDef& def = t->table(kind);
      std::string columns;
      for (const transform::ColumnDef& c : def.columns)
        columns += pg::QuoteIdentifier(c.name) + ", ";
      auto copy =
          pg::CopyIn::Start(*conn, fmt::format("COPY public.{} ({}{}) FROM STDIN", def.table,
                                               columns, stream::kLineageColumns));
      ASSERT_TRUE(copy.ok()) << copy.status().ToString();
      ASSERT_TRUE(copy->SendLines(speed.tables[static_cast<size_t>(kind)].copy_data).ok());
      auto stored = copy->Finish();
      ASSERT_TRUE(stored.ok()) << stored.status().ToString();
      EXPECT_EQ(*stored, speed.tables[static_cast<size_t>(kind)].rows);
    }

    // The batch path.
    BatchJobOptions o = Options(dsn);
    BatchRunResult r = Run(date, date, t, o);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    const DayReport& day = r.days[0];
    EXPECT_EQ(day.records(), speed.records);
    EXPECT_EQ(day.rows(), speed.rows);
    EXPECT_EQ(day.dropped(), speed.dropped);
    EXPECT_EQ(day.dead(), speed.dead);
    EXPECT_EQ(day.duplicates(), speed.dedup_in_chunk);

    for (RecordKind kind : core::kAllRecordKinds) {
      const transform::TableDef& def = t->table(kind);
      std::string cols;
      for (const transform::ColumnDef& c : def.columns) {
        if (!cols.empty()) cols += ", ";
        cols += pg::QuoteIdentifier(c.name);
      }
      const std::string speed_rows = fmt::format("SELECT {} FROM public.{}", cols, def.table);
      const std::string batch_rows = fmt::format("SELECT {} FROM batch.{}", cols, def.table);
      const int64_t n = Q(fmt::format("SELECT count(*) FROM public.{}", def.table), dsn);
      EXPECT_GT(n, 100) << def.table;
      EXPECT_EQ(Q(fmt::format("SELECT count(*) FROM batch.{}", def.table), dsn), n) << def.table;
      EXPECT_EQ(
          Q(fmt::format("SELECT count(*) FROM ({} EXCEPT ALL {}) d", speed_rows, batch_rows), dsn),
          0)
          << def.table << ": rows only the speed layer has";
      EXPECT_EQ(
          Q(fmt::format("SELECT count(*) FROM ({} EXCEPT ALL {}) d", batch_rows, speed_rows), dsn),
          0)
          << def.table << ": rows only the batch job has";
    }
  }
};

TEST_F(BatchDifferentialTest, SpeedAndBatchGiveIdenticalRowsWithTheDefaultTransform) {
  Compare(transform::Transform::Default(), db_->dsn());
}

TEST_F(BatchDifferentialTest, SpeedAndBatchGiveIdenticalRowsForEveryRecordWithoutDedup) {
  auto t = testing::DefaultTransformWithoutDedup();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_FALSE((*t)->table(RecordKind::kPin).dedup_column.has_value());
  Compare(*t, db_->dsn());
}

}  // namespace
}  // namespace pinpipe::batch
