// The data-driven analytics cases (tests/data/analytics/*.case, tests/data/dashboard/*.case):
// small tables of cleaned rows in, expected answers out. Format:
//
//   # comment
//   [pins]                      cleaned rows of a kind ([pins], [geo], [users]): a header of
//   ind|unique_id|...|dt        column names (the transform's, plus dt = the row's day; the
//   1|p1|...|2024-03-01         dashboard's cases may add `layer` = batch|speed to [pins]), then
//                               rows; NULL is NULL
//   [expect q1_popular_category_by_country]
//   Albania|art|2               the expected rows of the expression, in order
//   [query q1_popular_category_by_country(NULL, NULL, 'art', NULL, NULL)]
//   SELECT ... FROM {schema}.pins ...   a hand-written SQL query that must give the same rows
//
// An expression is a question (a view of the serving and batch schemas) with optional filter
// arguments (p_from, p_to, p_category, p_country, p_age_group: NULL or a quoted literal); the
// dashboard's cases also use pin_days(...) (rows "dt|batch|speed": the merged pins per day and
// layer among the posts the filters keep).
// Pure parsing; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace pinpipe::testing {

using CaseValue = std::optional<std::string>;  // nullopt = NULL

struct CaseTable {
  std::vector<std::string> columns;
  std::vector<std::vector<CaseValue>> rows;
  // Index of column `name`, or columns.size() when absent.
  size_t Column(const std::string& name) const;
  // The value of `name` in `row` (nullopt when NULL or no such column).
  CaseValue Get(const std::vector<CaseValue>& row, const std::string& name) const;
};

struct CaseCheck {
  bool query = false;      // [query]: compare with `sql`; [expect]: with `expected`
  std::string expression;  // e.g. "q1_popular_category_by_country(NULL, NULL, 'art', NULL, NULL)"
  std::vector<std::string> expected;
  std::string sql;  // {schema} is the schema to run in
  int line = 0;
};

struct AnalyticsCase {
  std::string name;
  std::string path;
  std::array<CaseTable, 3> tables;  // indexed by core::RecordKind: pins, geo, users
  std::vector<CaseCheck> checks;
  std::string error;  // a malformed file: what and where
};

AnalyticsCase ParseAnalyticsCase(const std::string& path);
// Every *.case of `dir`, by name.
std::vector<AnalyticsCase> LoadAnalyticsCases(const std::string& dir);

// "name" or "name(arg, ...)": the name and the arguments (NULL -> nullopt, 'it''s' -> it's).
struct CaseCall {
  std::string name;
  std::vector<CaseValue> args;
};
std::optional<CaseCall> ParseCaseCall(const std::string& expression);

// Each key once (pins unique_id, geo and users ind): the row of its earliest dt (the first such
// row on a tie), as the merged views keep it.
AnalyticsCase MergedRows(const AnalyticsCase& c);

}  // namespace pinpipe::testing
