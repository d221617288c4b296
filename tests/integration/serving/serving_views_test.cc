// The serving schema's boundary and merge rules against the real PostgreSQL, on cleaned rows put
// into each layer by the fixture (a batch day through the batch job's loader, speed rows with
// their dt): the boundary is the last sealed loaded day and moves with each load; as it passes
// a day no row disappears and none is counted twice; a post replayed across the boundary counts
// once; an unsealed load and a day below the boundary that is not loaded stay with the speed
// layer; layer_days and reconciliation count what each layer holds.
#include "batch/analytics_sql.h"
#include "serving_fixture.h"

namespace pinpipe::serving {
namespace {

RowSet Pins(const std::vector<std::pair<std::string, std::string>>& id_and_day,
            const std::string& category = "art") {
  RowSet r{{"ind", "unique_id", "follower_count", "category", "dt"}, {}};
  for (const auto& [id, day] : id_and_day) {
    // The same post has the same ind in every layer and on every day.
    r.rows.push_back({std::to_string(static_cast<int>(id[0])), id, "100", category, day});
  }
  return r;
}

class ServingViewsTest : public ServingTest {
 protected:
  // "unique_id|dt|layer" of every merged pin, by unique_id.
  std::vector<std::string> MergedPins() {
    return Rows("SELECT unique_id, dt, layer FROM serving.pins ORDER BY unique_id");
  }
  std::string Boundary() { return Rows("SELECT boundary FROM serving.boundary")[0]; }
};

TEST_F(ServingViewsTest, NoDayLoadedMeansNoBoundaryAndSpeedOnlyRows) {
  EXPECT_EQ(Rows("SELECT * FROM serving.boundary"),
            std::vector<std::string>{"NULL|NULL|0|NULL|0|NULL"});
  InsertSpeed(RecordKind::kPin, Pins({{"a", "2024-05-01"}, {"b", "2024-05-02"}}));
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"a|2024-05-01|speed", "b|2024-05-02|speed"}));
  EXPECT_EQ(Rows("SELECT dt, kind, batch_rows, speed_rows, merged_from_batch, merged_from_speed, "
                 "served_by, batch_sealed, boundary FROM serving.layer_days"),
            (std::vector<std::string>{"2024-05-01|pin|0|1|0|1|speed|NULL|NULL",
                                      "2024-05-02|pin|0|1|0|1|speed|NULL|NULL"}));
  EXPECT_EQ(Q("SELECT count(*) FROM serving.reconciliation"), 0);
}

// The speed layer holds posts a..f over three days; b is replayed on day 2 and d on day 3 (the
// batch tables hold them on both days, the speed layer once, on its first day). Loading the days
// one by one moves the boundary; after each load every post is still there exactly once, on the
// same day, from the layer that serves its day.
TEST_F(ServingViewsTest, TheBoundaryMovesWithEachLoadAndNoRowDisappearsOrDoubles) {
  const RowSet speed = Pins({{"a", "2024-05-01"},
                             {"b", "2024-05-01"},
                             {"c", "2024-05-02"},
                             {"d", "2024-05-02"},
                             {"e", "2024-05-03"},
                             {"f", "2024-05-03"}});
  InsertSpeed(RecordKind::kPin, speed);
  Layers batch;
  batch[0] = Pins({{"a", "2024-05-01"},
                   {"b", "2024-05-01"},
                   {"b", "2024-05-02"},
                   {"c", "2024-05-02"},
                   {"d", "2024-05-02"},
                   {"d", "2024-05-03"},
                   {"e", "2024-05-03"},
                   {"f", "2024-05-03"}});
  const std::vector<std::string> ids = {"a", "b", "c", "d", "e", "f"};
  const std::vector<std::string> days = {"2024-05-01", "2024-05-02", "2024-05-03"};
  auto expected = [&](size_t loaded) {  // the merged pins with the first `loaded` days loaded
    std::vector<std::string> rows;
    for (size_t i = 0; i < ids.size(); ++i) {
      const size_t day = i / 2;
      rows.push_back(fmt::format("{}|{}|{}", ids[i], days[day], day < loaded ? "batch" : "speed"));
    }
    return rows;
  };
  EXPECT_EQ(Boundary(), "NULL");
  EXPECT_EQ(MergedPins(), expected(0));
  for (size_t i = 0; i < days.size(); ++i) {
    SCOPED_TRACE(days[i]);
    LoadBatchDay(days[i], batch);
    EXPECT_EQ(Boundary(), days[i]);
    EXPECT_EQ(MergedPins(), expected(i + 1));
    EXPECT_EQ(Q("SELECT count(*) - count(DISTINCT unique_id) FROM serving.pins"), 0);
    EXPECT_EQ(Q("SELECT count(*) FROM serving.posts"), 6);
  }
  // layer_days: day 2 holds 3 batch rows (b replayed) and 2 speed rows; the merge takes c and d.
  EXPECT_EQ(Rows("SELECT dt, batch_rows, speed_rows, merged_from_batch, merged_from_speed, "
                 "merged_rows, served_by, batch_sealed, boundary FROM serving.layer_days "
                 "WHERE kind = 'pin'"),
            (std::vector<std::string>{"2024-05-01|2|2|2|0|2|batch|t|2024-05-03",
                                      "2024-05-02|3|2|2|0|2|batch|t|2024-05-03",
                                      "2024-05-03|3|2|2|0|2|batch|t|2024-05-03"}));
  // Reconciliation: the replays are batch-only keys of their day, with a speed row on another.
  EXPECT_EQ(
      Rows("SELECT * FROM serving.reconciliation WHERE kind = 'pin'"),
      (std::vector<std::string>{"2024-05-01|pin|t|2|2|0|0|0|0", "2024-05-02|pin|t|3|2|1|1|1|0",
                                "2024-05-03|pin|t|3|2|1|1|1|0"}));
}

// A post first seen on day 1 (the speed layer's copy) and replayed on day 2: with only day 2
// loaded the batch copy wins (day 2) and the speed copy is not counted; once day 1 is loaded
// too, the earliest batch day wins.
TEST_F(ServingViewsTest, APostReplayedAcrossTheBoundaryCountsOnce) {
  InsertSpeed(RecordKind::kPin, Pins({{"x", "2024-05-01"}, {"y", "2024-05-02"}}));
  Layers batch;
  batch[0] = Pins({{"x", "2024-05-01"}, {"x", "2024-05-02"}, {"y", "2024-05-02"}});
  LoadBatchDay("2024-05-02", batch);
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"x|2024-05-02|batch", "y|2024-05-02|batch"}));
  EXPECT_EQ(Q("SELECT count(*) FROM serving.posts WHERE unique_id = 'x'"), 1);
  LoadBatchDay("2024-05-01", batch);
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"x|2024-05-01|batch", "y|2024-05-02|batch"}));
}

// A day below the boundary that the batch layer has not loaded (a failed or late run; days run
// in parallel by the scheduler) stays with the speed layer: its rows do not disappear.
TEST_F(ServingViewsTest, ADayBelowTheBoundaryThatIsNotLoadedIsServedBySpeed) {
  InsertSpeed(RecordKind::kPin,
              Pins({{"a", "2024-05-01"}, {"b", "2024-05-02"}, {"c", "2024-05-03"}}));
  Layers batch;
  batch[0] = Pins({{"a", "2024-05-01"}, {"c", "2024-05-03"}});
  LoadBatchDay("2024-05-01", batch);
  LoadBatchDay("2024-05-03", batch);
  EXPECT_EQ(Rows("SELECT boundary, first_batch_day, batch_days, gap_days FROM serving.boundary"),
            std::vector<std::string>{"2024-05-03|2024-05-01|2|1"});
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"a|2024-05-01|batch", "b|2024-05-02|speed",
                                                    "c|2024-05-03|batch"}));
  EXPECT_EQ(Rows("SELECT dt, served_by FROM serving.layer_days WHERE kind = 'pin'"),
            (std::vector<std::string>{"2024-05-01|batch", "2024-05-02|speed", "2024-05-03|batch"}));
}

// A day loaded before the archiver sealed it may still get records: it does not count, so the
// speed layer keeps serving it (a speed row the load missed stays visible), until a sealed load.
TEST_F(ServingViewsTest, AnUnsealedLoadDoesNotMoveTheBoundary) {
  InsertSpeed(RecordKind::kPin, Pins({{"a", "2024-05-01"}, {"b", "2024-05-01"}}));
  Layers partial;
  partial[0] = Pins({{"a", "2024-05-01"}});
  LoadBatchDay("2024-05-01", partial, /*sealed=*/false);
  EXPECT_EQ(Rows("SELECT boundary, batch_days, unsealed_days FROM serving.boundary"),
            std::vector<std::string>{"NULL|0|1"});
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"a|2024-05-01|speed", "b|2024-05-01|speed"}));
  EXPECT_EQ(Rows("SELECT batch_rows, speed_rows, merged_rows, served_by, batch_sealed FROM "
                 "serving.layer_days WHERE kind = 'pin'"),
            std::vector<std::string>{"1|2|2|speed|f"});
  // Reconciliation covers every loaded day, sealed or not.
  EXPECT_EQ(Rows("SELECT sealed, batch_rows, speed_rows, speed_only_keys FROM "
                 "serving.reconciliation WHERE kind = 'pin'"),
            std::vector<std::string>{"f|1|2|1"});
  Layers full;
  full[0] = Pins({{"a", "2024-05-01"}, {"b", "2024-05-01"}});
  LoadBatchDay("2024-05-01", full, /*sealed=*/true);
  EXPECT_EQ(Boundary(), "2024-05-01");
  EXPECT_EQ(MergedPins(), (std::vector<std::string>{"a|2024-05-01|batch", "b|2024-05-01|batch"}));
}

// Reconciliation per loaded day and kind: batch vs speed rows of that day, the difference, keys
// in one layer only, and which batch-only keys the speed layer has on another day.
TEST_F(ServingViewsTest, ReconciliationCountsBothLayersPerLoadedDay) {
  // geo, day 2: speed a b c (and e on day 1), batch a b d e.
  RowSet speed{{"ind", "country", "dt"},
               {{"1", "Peru", "2024-05-02"},
                {"2", "Peru", "2024-05-02"},
                {"3", "Peru", "2024-05-02"},
                {"5", "Peru", "2024-05-01"}}};
  InsertSpeed(RecordKind::kGeo, speed);
  Layers batch;
  batch[1] = RowSet{{"ind", "country", "dt"},
                    {{"1", "Peru", "2024-05-02"},
                     {"2", "Peru", "2024-05-02"},
                     {"4", "Peru", "2024-05-02"},
                     {"5", "Peru", "2024-05-02"}}};
  LoadBatchDay("2024-05-02", batch);
  // dt | kind | sealed | batch_rows | speed_rows | difference | batch_only_keys |
  // batch_only_in_speed_other_day | speed_only_keys; the other kinds have empty days.
  EXPECT_EQ(
      Rows("SELECT * FROM serving.reconciliation"),
      (std::vector<std::string>{"2024-05-02|geo|t|4|3|1|2|1|1", "2024-05-02|pin|t|0|0|0|0|0|0",
                                "2024-05-02|user|t|0|0|0|0|0|0"}));
  // The merged geo: day 2 from batch (1 2 4 5), day 1's speed row of 5 loses to the batch copy.
  EXPECT_EQ(Rows("SELECT ind, dt, layer FROM serving.geo ORDER BY ind"),
            (std::vector<std::string>{"1|2024-05-02|batch", "2|2024-05-02|batch",
                                      "4|2024-05-02|batch", "5|2024-05-02|batch"}));
}

// Every view and function of the schema carries its rule in a comment (psql \d+, \df+).
TEST_F(ServingViewsTest, EveryViewAndFunctionIsCommented) {
  EXPECT_EQ(Q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'serving' AND c.relkind = 'v' AND obj_description(c.oid) IS NULL"),
            0);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
              "WHERE n.nspname = 'serving' AND obj_description(p.oid) IS NULL"),
            0);
  EXPECT_EQ(Q("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = 'serving' AND c.relkind = 'v'"),
            static_cast<int64_t>(MergedViewNames().size() + batch::AnalyticsViewNames().size()));
}

// Running it again changes nothing and keeps the rows (CREATE OR REPLACE, nothing dropped).
TEST_F(ServingViewsTest, EnsureIsIdempotent) {
  InsertSpeed(RecordKind::kPin, Pins({{"a", "2024-05-01"}}));
  ServingOptions options;
  options.pg_dsn = db_->dsn();
  options.reader.reset();
  auto again = EnsureServing(options, transform::Transform::Default());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created_database);
  EXPECT_FALSE(again->boundary.has_value());
  EXPECT_EQ(MergedPins(), std::vector<std::string>{"a|2024-05-01|speed"});
}

}  // namespace
}  // namespace pinpipe::serving
