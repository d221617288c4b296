// Data-driven cases of the analytics questions: tests/data/analytics/<case>.case, small tables of
// cleaned rows in, expected answers out (a new case is a new file). Format:
//
//   # comment
//   [pins]                      cleaned rows of a kind ([pins], [geo], [users]): a header of
//   ind|unique_id|...|dt        column names (the transform's, plus dt = the row's day), then
//   1|p1|...|2024-03-01         rows; NULL is NULL
//   [expect q1_popular_category_by_country]
//   Albania|art|2               the rows of SELECT * FROM <schema>.<expression>, in order
//   [query q1_popular_category_by_country(NULL, NULL, 'art', NULL, NULL)]
//   SELECT ... FROM {schema}.pins ...   a hand-written query that must give the same rows
//
// Every case runs in every arrangement of its rows over the layers, and must give the same
// answers in each: the batch schema (every day loaded), the serving schema over the batch tables
// alone, the serving schema with no day loaded
// (speed layer only), and the serving schema with the boundary after each of the case's days
// (days up to it loaded into the batch tables, the speed layer holding every key once, on the
// day it first came). So the merge neither loses nor double-counts a row wherever the boundary
// is, and batch and serving share one definition of the questions.
#include <set>

#include "serving_fixture.h"
#include "testing/analytics_case.h"

namespace pinpipe::serving {
namespace {

using testing::AnalyticsCase;
using testing::CaseCheck;

// The case files are parsed by the parser the dashboard's engine tests share
// (tests/testing/analytics_case.h); its tables become the fixture's layers.
Layers LayersOf(const AnalyticsCase& c) {
  Layers layers;
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].columns = c.tables[i].columns;
    layers[i].rows = c.tables[i].rows;
  }
  return layers;
}

const std::vector<AnalyticsCase>& Cases() {
  static const std::vector<AnalyticsCase> cases =
      testing::LoadAnalyticsCases(PINPIPE_SOURCE_DIR "/tests/data/analytics");
  return cases;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const AnalyticsCase& c : Cases()) names.push_back(c.name);
  return names;
}

class AnalyticsCasesTest : public ServingTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // Every check of the case in `schema`; `arrangement` names the layout in failures.
  void RunChecks(const AnalyticsCase& c, const std::string& schema,
                 const std::string& arrangement) {
    for (const CaseCheck& check : c.checks) {
      SCOPED_TRACE(
          fmt::format("{}:{}: {} ({})", c.path, check.line, check.expression, arrangement));
      const std::vector<std::string> got =
          Rows(fmt::format("SELECT * FROM {}.{}", schema, check.expression));
      if (check.query) {
        std::string sql = check.sql;
        for (size_t at = sql.find("{schema}"); at != std::string::npos; at = sql.find("{schema}")) {
          sql.replace(at, 8, schema);
        }
        EXPECT_EQ(got, Rows(sql));
      } else {
        EXPECT_EQ(got, check.expected);
      }
    }
  }
};

TEST(AnalyticsCaseFilesTest, EveryCaseParsesAndChecksSomething) {
  ASSERT_GE(Cases().size(), 4u);
  for (const AnalyticsCase& c : Cases()) {
    EXPECT_EQ(c.error, "") << c.path;
    EXPECT_FALSE(c.checks.empty()) << c.path << ": a case must check something";
    EXPECT_FALSE(c.tables[0].rows.empty()) << c.path << ": no pins";
  }
}

TEST_P(AnalyticsCasesTest, SameAnswersInEveryArrangementOfTheLayers) {
  const AnalyticsCase* found = nullptr;
  for (const AnalyticsCase& c : Cases()) {
    if (c.name == GetParam()) found = &c;
  }
  ASSERT_NE(found, nullptr);
  const AnalyticsCase& c = *found;
  ASSERT_EQ(c.error, "");
  const Layers layers = LayersOf(c);
  std::set<std::string> days;
  for (const RowSet& rows : layers) {
    const size_t dt = rows.Column("dt");
    for (const auto& r : rows.rows) {
      ASSERT_LT(dt, r.size()) << c.path << ": every table needs a dt column";
      days.insert(*r[dt]);
    }
  }
  const Layers speed = SpeedCopy(layers);

  // Everything in the batch tables: the batch schema, and serving with every day from batch.
  for (const std::string& day : days) LoadBatchDay(day, layers);
  RunChecks(c, "batch", "batch schema, every day loaded");
  RunChecks(c, "serving", "serving, every day loaded, speed layer empty");
  // Speed layer only: no day loaded.
  ClearLayers();
  for (RecordKind kind : core::kAllRecordKinds) InsertSpeed(kind, speed[static_cast<size_t>(kind)]);
  EXPECT_EQ(Rows("SELECT boundary FROM serving.boundary"), std::vector<std::string>{"NULL"});
  RunChecks(c, "serving", "serving, no batch day: speed layer only");
  // The boundary after each day in turn, the speed layer holding everything.
  for (const std::string& day : days) {
    LoadBatchDay(day, layers);
    EXPECT_EQ(Rows("SELECT boundary FROM serving.boundary"), std::vector<std::string>{day});
    RunChecks(c, "serving", "serving, boundary " + day);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AnalyticsCasesTest, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pinpipe::serving
