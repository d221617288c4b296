// The data-driven cases (tests/data/analytics/*.case and tests/data/dashboard/*.case) through
// real PostgreSQL: each case's rows written as the speed layer writes them (offsets and all) and
// read by the engine with a poll, then the days the case puts in the batch layer (every day for
// the serving cases, the days of its `layer = batch` pins for the dashboard's) loaded and read
// with a full reload. In both, every [expect] of the case holds for the engine and for the SQL
// functions (so the dashboard cases' hand-worked answers are PostgreSQL's too), and every table
// and the pins per day equal the SQL under the case's filters.
#include <set>

#include "analytics_engine_fixture.h"
#include "testing/analytics_case.h"

namespace pinpipe::dashboard {
namespace {

using testing::AnalyticsCase;

std::vector<AnalyticsCase> AllCases() {
  std::vector<AnalyticsCase> cases;
  for (const char* dir : {"analytics", "dashboard"}) {
    for (AnalyticsCase& c :
         testing::LoadAnalyticsCases(std::string(PINPIPE_SOURCE_DIR) + "/tests/data/" + dir)) {
      c.name = std::string(dir) + "_" + c.name;
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

const std::vector<AnalyticsCase>& Cases() {
  static const std::vector<AnalyticsCase> cases = AllCases();
  return cases;
}

AnalyticsFilters FiltersOf(const std::vector<testing::CaseValue>& args) {
  AnalyticsFilters f;
  auto day = [](const testing::CaseValue& v) -> std::optional<std::chrono::sys_days> {
    if (!v) return std::nullopt;
    return std::chrono::sys_days(std::chrono::days(*core::ParseDate(*v)));
  };
  if (!args.empty()) f.from = day(args[0]);
  if (args.size() > 1) f.to = day(args[1]);
  if (args.size() > 2) f.category = args[2];
  if (args.size() > 3) f.country = args[3];
  if (args.size() > 4) f.age_group = args[4];
  return f;
}

RowSet ToRowSet(const testing::CaseTable& table) {
  RowSet rows{table.columns, table.rows};
  // In day order (stable): the speed layer keeps a key's first copy, which is its earliest.
  const size_t dt = rows.Column("dt");
  std::stable_sort(rows.rows.begin(), rows.rows.end(),
                   [&](const auto& a, const auto& b) { return a[dt] < b[dt]; });
  return rows;
}

class AnalyticsEngineCasesTest : public AnalyticsEngineTest,
                                 public ::testing::WithParamInterface<size_t> {
 protected:
  // Every [expect] against the engine and the SQL; every table against the SQL under each
  // check's filters. `layers_as_case`: the layers are as the case says (pin_days expectations
  // hold).
  void Check(const AnalyticsCase& c, bool layers_as_case, const std::string& arrangement) {
    const auto snapshot = engine_->snapshot();
    for (const auto& check : c.checks) {
      if (check.query) continue;
      SCOPED_TRACE(c.path + ":" + std::to_string(check.line) + ": " + check.expression + " (" +
                   arrangement + ")");
      auto call = testing::ParseCaseCall(check.expression);
      ASSERT_TRUE(call.has_value());
      const AnalyticsFilters filters = FiltersOf(call->args);
      ExpectEngineEqualsSql(filters, arrangement);
      std::vector<std::string> got;
      if (call->name == "pin_days") {
        if (!layers_as_case) continue;
        for (const PinDay& d : ComputePinDays(snapshot->facts, filters)) {
          got.push_back(fmt::format("{}|{}|{}", core::DateOfDay(d.day), d.batch, d.speed));
        }
        EXPECT_EQ(got, check.expected);
        continue;
      }
      for (const AnswerTable& t : ComputeAnalytics(snapshot->facts, filters)) {
        if (t.spec->id != call->name) continue;
        for (const auto& row : t.rows) {
          std::string line;
          for (size_t i = 0; i < row.size(); ++i) line += (i ? "|" : "") + CellText(row[i]);
          got.push_back(line);
        }
      }
      // The expectations are written as PostgreSQL prints them (doubles too: the cases' medians
      // print the same both ways); the SQL side was compared above.
      EXPECT_EQ(got, check.expected);
    }
  }
};

TEST_P(AnalyticsEngineCasesTest, SpeedLayerThenBatchDays) {
  const AnalyticsCase& c = Cases()[GetParam()];
  ASSERT_EQ(c.error, "");
  const bool has_layers = c.tables[0].Column("layer") < c.tables[0].columns.size();
  // The speed layer holds everything; the engine polls it (an empty load first).
  ASSERT_TRUE(Refresh().ok());
  for (RecordKind kind : core::kAllRecordKinds) {
    CommitSpeed(kind, ToRowSet(c.tables[static_cast<size_t>(kind)]));
  }
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, 1);
  EXPECT_EQ(engine_->stats().polls, 1);
  Check(c, /*layers_as_case=*/false, "speed layer only, polled");

  // The batch days: every day of a serving case, the batch-layer days of a dashboard case.
  std::set<std::string> days;
  const auto& pins = c.tables[0];
  for (const auto& table : c.tables) {
    for (const auto& row : table.rows) {
      const auto dt = table.Get(row, "dt");
      if (!has_layers) days.insert(*dt);
    }
  }
  for (const auto& row : pins.rows) {
    if (has_layers && pins.Get(row, "layer") == testing::CaseValue("batch")) {
      days.insert(*pins.Get(row, "dt"));
    }
  }
  Layers layers;
  for (RecordKind kind : core::kAllRecordKinds) {
    layers[static_cast<size_t>(kind)] = ToRowSet(c.tables[static_cast<size_t>(kind)]);
    auto& set = layers[static_cast<size_t>(kind)];
    const size_t layer = set.Column("layer");
    if (layer < set.columns.size()) {
      set.columns.erase(set.columns.begin() + static_cast<ptrdiff_t>(layer));
      for (auto& row : set.rows) row.erase(row.begin() + static_cast<ptrdiff_t>(layer));
    }
  }
  for (const std::string& day : days) LoadBatchDay(day, layers);
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(engine_->stats().full_loads, days.empty() ? 1 : 2);
  Check(c, /*layers_as_case=*/has_layers, "batch days loaded, reloaded");
}

INSTANTIATE_TEST_SUITE_P(Cases, AnalyticsEngineCasesTest,
                         ::testing::Range(size_t{0}, Cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           std::string name = Cases()[param_info.param].name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pinpipe::dashboard
