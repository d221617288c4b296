// The serving schema's SQL as rendered (no database here; tests/integration/serving runs it):
// every placeholder is filled, every question is a function and a view of the same name, the
// merged views read the transform's tables in the right schemas, and the batch and serving
// schemas get the same question bodies (one definition).
#include "serving/serving_schema.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "batch/analytics_sql.h"
#include "serving/merged_views.h"

namespace pinpipe::serving {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ServingSqlTest, EveryPlaceholderIsFilled) {
  const std::string sql = ServingSql(*transform::Transform::Default());
  for (const char* placeholder : {"{schema}", "{filter}", "{args}", "{key}", "{batch}", "{speed}",
                                  "{served}", "{not_served}", "{b_cols}", "{s_cols}"}) {
    EXPECT_EQ(sql.find(placeholder), std::string::npos) << placeholder;
  }
}

TEST(ServingSqlTest, EveryQuestionIsAFunctionAndAViewOfTheSameName) {
  const std::string sql = ServingSql(*transform::Transform::Default());
  for (const std::string& name : batch::AnalyticsFunctionNames()) {
    EXPECT_EQ(Count(sql, fmt::format("CREATE OR REPLACE FUNCTION \"serving\".{}(", name)), 1u)
        << name;
    EXPECT_EQ(Count(sql, fmt::format("CREATE OR REPLACE VIEW \"serving\".{} AS", name)), 1u)
        << name;
    EXPECT_EQ(Count(sql, fmt::format("COMMENT ON VIEW \"serving\".{} IS", name)), 1u) << name;
  }
  for (const std::string& name : MergedViewNames()) {
    EXPECT_EQ(Count(sql, fmt::format("CREATE OR REPLACE VIEW serving.{} AS", name)), 1u) << name;
    EXPECT_EQ(Count(sql, fmt::format("COMMENT ON VIEW serving.{} IS", name)), 1u) << name;
  }
}

TEST(ServingSqlTest, MergedViewsReadBothLayersOfTheTransformsTables) {
  const std::string sql = MergedViewsSql(*transform::Transform::Default());
  for (const char* table : {"experimental_data", "geolocation_data_clean", "user_data_clean"}) {
    EXPECT_NE(sql.find(fmt::format("FROM \"batch\".\"{}\" b", table)), std::string::npos) << table;
    EXPECT_NE(sql.find(fmt::format("FROM \"public\".\"{}\" s", table)), std::string::npos) << table;
  }
  EXPECT_NE(sql.find("SELECT DISTINCT ON (m.\"unique_id\") m.*"), std::string::npos);
  EXPECT_EQ(Count(sql, "SELECT DISTINCT ON (m.\"ind\") m.*"), 2u);  // geo and users
  EXPECT_EQ(std::string(MergeKey(core::RecordKind::kPin)), "unique_id");
  EXPECT_EQ(std::string(MergeKey(core::RecordKind::kUser)), "ind");
}

// One definition: the batch schema's questions are the serving schema's with the schema
// name replaced, byte for byte.
TEST(ServingSqlTest, BatchAndServingShareTheQuestions) {
  std::string batch_sql = batch::AnalyticsSql("batch");
  const std::string serving_sql = batch::AnalyticsSql("serving");
  for (size_t at = batch_sql.find("\"batch\"."); at != std::string::npos;
       at = batch_sql.find("\"batch\".", at + 1)) {
    batch_sql.replace(at, 8, "\"serving\".");
  }
  EXPECT_EQ(batch_sql, serving_sql);
  EXPECT_NE(serving_sql.find("SET enable_nestloop = off"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::serving
