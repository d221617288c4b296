// The analytics answers computed from the engine's facts (post_facts.h): the tables of the
// serving schema's analytics views (src/batch/analytics_sql.cc, the reference definition) with
// the shared filters, and the merged pins per day and layer.
//
// Every table has the SQL view's id, columns, column order, row order and values:
//   * ties: rank() = 1, every tied answer is a row;
//   * medians: exact percentile_cont(0.5) with PostgreSQL's arithmetic (for n sorted values,
//     f = 0.5 * (n - 1), lo = floor(f): v[lo] + (f - lo) * (v[lo + 1] - v[lo]) in double);
//   * text sorts by its bytes (UTF-8 code point order), which is COLLATE "C" and the C.UTF-8
//     collation of the clusters scripts/services creates (docs/design.md, "Dashboard analytics
//     engine");
//   * filters: from/to on the post's dt (inclusive), category, country, age group; a filter on
//     a record the post lacks keeps none of those posts; Q6 filters its user records as the
//     SQL does (dt and age group on the user record; category and country: users with a post
//     there).
// All questions but Q6 come from one pass over the posts (chunks outside a date filter skipped)
// and, for the medians, a second pass that collects only the values of the histogram buckets
// holding the middle ranks (docs/design.md, "Dashboard analytics engine"); Q6 is one pass over
// the user records (with a category or country filter, after one over the posts for their
// inds). The passes run one after the other, each shared by threads that take runs of chunks
// from a counter (Parallelism), so a request that misses the cache waits for about half the
// work on two cores. No
// allocation per row; per call and part, dense counters proportional to the dictionaries (~250
// KiB of median histograms). At 1 M posts: ComputeAnalytics ~11 ms of CPU, one question alone
// 8-10 ms at most (bench/dashboard_bench.cc).
//
// Pure functions of an immutable FactsView; thread-safe. A Cell's text points into the view's
// dictionaries (or static labels): keep the view alive while using the rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dashboard/analytics.h"  // AnalyticsFilters
#include "dashboard/post_facts.h"

namespace pinpipe::dashboard {

// One value: NULL, integer, double precision or text.
using Cell = std::variant<std::monostate, int64_t, double, std::string_view>;

struct TableSpec {
  std::string_view id;     // the SQL view / function name, e.g. q1_popular_category_by_country
  std::string_view title;  // for people
  std::vector<std::string_view> columns;
};

struct AnswerTable {
  const TableSpec* spec = nullptr;
  std::vector<std::vector<Cell>> rows;
};

// The questions; Q2 and Q3 give two tables each.
enum class Question : uint8_t { kQ1, kQ2, kQ3, kQ4, kQ5, kQ6, kQ7, kQ8 };
inline constexpr Question kAllQuestions[] = {Question::kQ1, Question::kQ2, Question::kQ3,
                                             Question::kQ4, Question::kQ5, Question::kQ6,
                                             Question::kQ7, Question::kQ8};

// The ten tables in the SQL's order (batch::AnalyticsFunctionNames()).
const std::vector<TableSpec>& AnalyticsTables();

// How one computation spreads over threads: a pass over the posts runs on at most `max_parts`
// threads (0: the cores, at most 4), one per `posts_per_part` posts; one is the calling thread,
// each other a thread started for it. The threads take runs of `chunks_per_run` chunks from a
// shared counter until none is left, so a thread that starts late (its core busy) takes fewer
// and nobody waits for a fixed share of another. Below 2 x posts_per_part posts everything runs
// on the calling thread. Tests force parts and short runs on small data.
struct Parallelism {
  size_t max_parts = 0;
  size_t posts_per_part = size_t{1} << 17;
  size_t chunks_per_run = 4;  // 32,768 posts: ~0.3 ms; ~30 runs per million posts
};

// The tables of one question.
std::vector<AnswerTable> ComputeQuestion(const FactsView& facts, const AnalyticsFilters& filters,
                                         Question question, const Parallelism& parallel = {});
// All ten tables, in order.
std::vector<AnswerTable> ComputeAnalytics(const FactsView& facts, const AnalyticsFilters& filters,
                                          const Parallelism& parallel = {});

struct PinDay {
  int32_t day = 0;  // days since 1970-01-01
  int64_t batch = 0;
  int64_t speed = 0;
};
// Merged pins per day and layer among the posts the filters keep, by day; days without such
// posts are left out.
std::vector<PinDay> ComputePinDays(const FactsView& facts, const AnalyticsFilters& filters);

// JSON: [{"id":..,"title":..,"columns":[..],"rows":[[..],..]},..] (numbers as JSON numbers,
// doubles in their shortest exact form, NULL as null).
void AppendTablesJson(const std::vector<AnswerTable>& tables, std::string* out);
// [{"dt":"YYYY-MM-DD","batch":n,"speed":n},...]
void AppendPinDaysJson(const std::vector<PinDay>& days, std::string* out);
// {"categories":[..],"countries":[..],"age_groups":[..],"days":{"min":..,"max":..}}
void AppendFiltersJson(const FactsView& facts, std::string* out);
// A cell as PostgreSQL's text output would show it ("NULL" for NULL), for tests and messages.
std::string CellText(const Cell& cell);

}  // namespace pinpipe::dashboard
