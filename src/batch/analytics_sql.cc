#include "batch/analytics_sql.h"

#include <fmt/format.h>

#include "pg/transaction.h"

namespace pinpipe::batch {
namespace {

// The shared filters of every question function, in this order; NULL = no filter.
constexpr std::string_view kParams =
    "p_from date DEFAULT NULL, p_to date DEFAULT NULL, p_category text DEFAULT NULL, "
    "p_country text DEFAULT NULL, p_age_group text DEFAULT NULL";
constexpr std::string_view kParamTypes = "date, date, text, text, text";
constexpr std::string_view kArgs = "p_from, p_to, p_category, p_country, p_age_group";
constexpr std::string_view kNoFilter = "NULL::date, NULL::date, NULL::text, NULL::text, NULL::text";
// The filters on a post `p` of {schema}.posts. The date range is on the post's (pin's) dt, both
// ends inclusive. A filter on a field of a record the post lacks (country without geolocation,
// age group without user) keeps none of those posts.
constexpr std::string_view kPostFilter =
    "(p_from IS NULL OR p.dt >= p_from) AND (p_to IS NULL OR p.dt <= p_to)\n"
    "    AND (p_category IS NULL OR p.category = p_category)\n"
    "    AND (p_country IS NULL OR p.country = p_country)\n"
    "    AND (p_age_group IS NULL OR p.age_group = p_age_group)";
constexpr std::string_view kFilterNote =
    " Filters (NULL = none): p_from/p_to on the post's dt (inclusive), p_category, p_country, "
    "p_age_group.";

// {schema} is replaced by the quoted schema; everything else is plain SQL. Every view orders its
// rows, though a reader that needs an order should still say ORDER BY (PostgreSQL keeps a
// view's order only for a plain SELECT * FROM it).
constexpr std::string_view kPosts = R"sql(
-- 18-24, 25-35, 36-50, 50+ (= 51 and older; the labels overlap at 50, which is in 36-50); NULL
-- under 18 or without an age.
CREATE OR REPLACE FUNCTION {schema}.age_group(age integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN age BETWEEN 18 AND 24 THEN '18-24'
            WHEN age BETWEEN 25 AND 35 THEN '25-35'
            WHEN age BETWEEN 36 AND 50 THEN '36-50'
            WHEN age > 50 THEN '50+'
       END
$$;
COMMENT ON FUNCTION {schema}.age_group(integer) IS 'Age group of an age: 18-24, 25-35, 36-50, 50+ (= 51 and older; 50 is in 36-50); NULL under 18.';

-- One row per post (pin; one per unique_id in {schema}.pins), with its geolocation and its user
-- when they exist (LEFT JOINs on ind; their columns are NULL otherwise). The questions keep the
-- posts that have the records they need, so a post whose user record is missing still counts in
-- the country questions, and one without geolocation in the age questions. posted_at = the
-- geolocation timestamp.
CREATE OR REPLACE VIEW {schema}.posts AS
SELECT p.ind, p.unique_id, p.poster_name, p.follower_count, p.category, p.dt,
       g.country, g."timestamp" AS posted_at,
       u.first_name, u.last_name, u.age, u.date_joined,
       {schema}.age_group(u.age) AS age_group,
       p.layer
FROM {schema}.pins p
LEFT JOIN {schema}.geo g ON g.ind = p.ind
LEFT JOIN {schema}.users u ON u.ind = p.ind;
COMMENT ON VIEW {schema}.posts IS 'One row per post (pin, one per unique_id), LEFT JOINed on ind with its geolocation and its user (NULL columns when missing): each question keeps the posts that have the records it needs. age_group: 18-24, 25-35, 36-50, 50+ (= 51 and older; 50 is in 36-50); NULL under 18.';
)sql";

struct Question {
  std::string_view name;
  std::string_view returns;  // RETURNS TABLE (...) columns, as the view's
  std::string_view body;     // {schema}, {filter} (on posts p) and {args} are replaced
  std::string_view comment;
};

constexpr Question kQuestions[] = {
    {"q1_popular_category_by_country", "country text, category text, category_count bigint",
     R"sql(
SELECT r.country, r.category, r.category_count FROM (
  SELECT p.country, p.category, count(*) AS category_count,
         rank() OVER (PARTITION BY p.country ORDER BY count(*) DESC) AS place
  FROM {schema}.posts p
  WHERE p.country IS NOT NULL AND p.category IS NOT NULL
    AND {filter}
  GROUP BY p.country, p.category
) r
WHERE r.place = 1
ORDER BY r.country, r.category
)sql",
     "Q1: most popular category per country (posts with a geolocation counted). Ties: every "
     "tied category is a row (rank() = 1), ordered by category name."},
    {"q2_posts_by_category_and_year", "post_year integer, category text, category_count bigint",
     R"sql(
SELECT extract(year FROM p.posted_at)::integer AS post_year, p.category, count(*) AS category_count
FROM {schema}.posts p
WHERE p.posted_at >= '2018-01-01' AND p.posted_at < '2023-01-01' AND p.category IS NOT NULL
  AND {filter}
GROUP BY 1, 2
ORDER BY 1, 2
)sql",
     "Q2: posts per category per year of the geolocation timestamp (UTC), years 2018 to 2022."},
    {"q2_top_category_by_year", "post_year integer, category text, category_count bigint",
     R"sql(
SELECT r.post_year, r.category, r.category_count FROM (
  SELECT c.post_year, c.category, c.category_count,
         rank() OVER (PARTITION BY c.post_year ORDER BY c.category_count DESC) AS place
  FROM {schema}.q2_posts_by_category_and_year({args}) c
) r
WHERE r.place = 1
ORDER BY r.post_year, r.category
)sql",
     "Q2: top category per year 2018-2022. Ties: every tied category is a row (rank() = 1), "
     "ordered by category name."},
    {"q3_top_poster_by_country", "country text, poster_name text, follower_count integer",
     R"sql(
SELECT DISTINCT r.country, r.poster_name, r.follower_count FROM (
  SELECT p.country, p.poster_name, p.follower_count,
         rank() OVER (PARTITION BY p.country ORDER BY p.follower_count DESC) AS place
  FROM {schema}.posts p
  WHERE p.country IS NOT NULL AND p.poster_name IS NOT NULL AND p.follower_count IS NOT NULL
    AND {filter}
) r
WHERE r.place = 1
ORDER BY r.country, r.poster_name
)sql",
     "Q3: poster with the most followers per country (highest follower_count of a post there). "
     "Ties: every tied poster is a row, ordered by poster_name; a poster appears once per "
     "country."},
    {"q3_top_country", "country text, poster_name text, follower_count integer", R"sql(
SELECT r.country, r.poster_name, r.follower_count FROM (
  SELECT t.country, t.poster_name, t.follower_count,
         rank() OVER (ORDER BY t.follower_count DESC) AS place
  FROM {schema}.q3_top_poster_by_country({args}) t
) r
WHERE r.place = 1
ORDER BY r.country, r.poster_name
)sql",
     "Q3: the country with the poster with the most followers. Ties: every tied (country, "
     "poster) is a row, ordered by country, poster_name."},
    {"q4_popular_category_by_age_group", "age_group text, category text, category_count bigint",
     R"sql(
SELECT r.age_group, r.category, r.category_count FROM (
  SELECT p.age_group, p.category, count(*) AS category_count,
         rank() OVER (PARTITION BY p.age_group ORDER BY count(*) DESC) AS place
  FROM {schema}.posts p
  WHERE p.age_group IS NOT NULL AND p.category IS NOT NULL
    AND {filter}
  GROUP BY p.age_group, p.category
) r
WHERE r.place = 1
ORDER BY r.age_group, r.category
)sql",
     "Q4: most popular category per age group (posts with a user counted; 18-24, 25-35, 36-50, "
     "50+ = 51 and older). Ties: every tied category is a row, ordered by category name."},
    {"q5_median_follower_count_by_age_group",
     "age_group text, median_follower_count double precision, posts bigint", R"sql(
SELECT p.age_group,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts p
WHERE p.age_group IS NOT NULL AND p.follower_count IS NOT NULL
  AND {filter}
GROUP BY p.age_group
ORDER BY p.age_group
)sql",
     "Q5: median follower_count of the posts per age group; exact percentile_cont(0.5) (mean "
     "of the two middle values for an even count)."},
    {"q6_users_joined_by_year", "join_year integer, number_users_joined bigint", R"sql(
SELECT extract(year FROM people.date_joined)::integer AS join_year,
       count(*) AS number_users_joined
FROM (
  SELECT DISTINCT u.first_name, u.last_name, u.age, u.date_joined
  FROM {schema}.users u
  WHERE (p_from IS NULL OR u.dt >= p_from) AND (p_to IS NULL OR u.dt <= p_to)
    AND (p_age_group IS NULL OR {schema}.age_group(u.age) = p_age_group)
    AND (p_category IS NULL AND p_country IS NULL OR EXISTS (
          SELECT 1 FROM {schema}.posts p
          WHERE p.ind = u.ind
            AND (p_category IS NULL OR p.category = p_category)
            AND (p_country IS NULL OR p.country = p_country)))
) people
WHERE people.date_joined >= '2015-01-01' AND people.date_joined < '2021-01-01'
GROUP BY 1
ORDER BY 1
)sql",
     "Q6: users joined per year 2015-2020; a user is a distinct (first_name, last_name, age, "
     "date_joined) over all user records, with a post or not (the data has no user id and the "
     "same person appears under many ind values)."},
    {"q7_median_follower_count_by_join_year",
     "join_year integer, median_follower_count double precision, posts bigint", R"sql(
SELECT extract(year FROM p.date_joined)::integer AS join_year,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts p
WHERE p.date_joined >= '2015-01-01' AND p.date_joined < '2021-01-01'
  AND p.follower_count IS NOT NULL
  AND {filter}
GROUP BY 1
ORDER BY 1
)sql",
     "Q7: median follower_count of the posts by the join year of their user, 2015-2020; exact "
     "percentile_cont(0.5)."},
    {"q8_median_follower_count_by_join_year_and_age_group",
     "join_year integer, age_group text, median_follower_count double precision, posts bigint",
     R"sql(
SELECT extract(year FROM p.date_joined)::integer AS join_year, p.age_group,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts p
WHERE p.date_joined >= '2015-01-01' AND p.date_joined < '2021-01-01'
  AND p.age_group IS NOT NULL AND p.follower_count IS NOT NULL
  AND {filter}
GROUP BY 1, 2
ORDER BY 1, 2
)sql",
     "Q8: median follower_count of the posts by join year (2015-2020) and age group; exact "
     "percentile_cont(0.5)."},
};

// Q6's filters differ from the posts' (it counts user records): said in its function comment.
constexpr std::string_view kQ6FilterNote =
    " Filters (NULL = none): p_from/p_to on the user record's dt, p_age_group on its age; "
    "p_category/p_country keep the users with a post (pin) in that category/country.";

// The batch sources: one row per key over every loaded day; the earliest day's row wins (within
// a day the batch job already kept the first occurrence).
constexpr std::string_view kBatchSources = R"sql(
CREATE OR REPLACE VIEW {schema}.pins AS
SELECT DISTINCT ON (t.unique_id) t.*, 'batch'::text AS layer
FROM {pins} t
ORDER BY t.unique_id, t.dt;
COMMENT ON VIEW {schema}.pins IS 'The batch pins, one row per unique_id over every loaded day (the earliest day''s row wins).';
CREATE OR REPLACE VIEW {schema}.geo AS
SELECT DISTINCT ON (t.ind) t.*, 'batch'::text AS layer
FROM {geo} t
ORDER BY t.ind, t.dt;
COMMENT ON VIEW {schema}.geo IS 'The batch geolocations, one row per ind over every loaded day (the earliest day''s row wins).';
CREATE OR REPLACE VIEW {schema}.users AS
SELECT DISTINCT ON (t.ind) t.*, 'batch'::text AS layer
FROM {users} t
ORDER BY t.ind, t.dt;
COMMENT ON VIEW {schema}.users IS 'The batch users, one row per ind over every loaded day (the earliest day''s row wins).';
)sql";

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

}  // namespace

std::string AnalyticsLockSql() { return kBatchDdlLockSql; }

const std::vector<std::string>& AnalyticsViewNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v = {"posts"};
    for (const Question& q : kQuestions) v.emplace_back(q.name);
    return v;
  }();
  return names;
}

const std::vector<std::string>& AnalyticsFunctionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Question& q : kQuestions) v.emplace_back(q.name);
    return v;
  }();
  return names;
}

// The question functions run with enable_nestloop = off. PostgreSQL has no statistics for the
// columns of views, so it guesses 200 distinct keys per merged view; with a filter (country =
// 'X': 0.5% of a guess) it then expects a handful of rows and joins a million of them by nested
// loop: 1 M speed rows and 3 batch days, Q1 filtered by country and age group ran for over two
// minutes (cancelled), and 5 s with hash joins. The SET makes the functions non-inlinable (the
// views call them as function scans), which costs the NULL-filter constant folding, not more.
std::string AnalyticsSql(std::string_view schema) {
  std::string sql(kPosts);
  for (const Question& q : kQuestions) {
    std::string body(q.body);
    ReplaceAll(&body, "{filter}", kPostFilter);
    ReplaceAll(&body, "{args}", kArgs);
    const std::string comment = fmt::format(
        "{}{}", q.comment, q.name == "q6_users_joined_by_year" ? kQ6FilterNote : kFilterNote);
    sql += fmt::format(
        "\nCREATE OR REPLACE FUNCTION {{schema}}.{0}({1})\nRETURNS TABLE ({2})\n"
        "LANGUAGE sql STABLE PARALLEL SAFE SET enable_nestloop = off AS $q${3}$q$;\n"
        "COMMENT ON FUNCTION {{schema}}.{0}({4}) IS {5};\n"
        "CREATE OR REPLACE VIEW {{schema}}.{0} AS\nSELECT * FROM {{schema}}.{0}({6});\n"
        "COMMENT ON VIEW {{schema}}.{0} IS {7};\n",
        q.name, kParams, q.returns, body, kParamTypes, pg::QuoteLiteral(comment), kNoFilter,
        pg::QuoteLiteral(
            fmt::format("{} Also a function of the same name with filters.", q.comment)));
  }
  ReplaceAll(&sql, "{schema}", pg::QuoteIdentifier(schema));
  return sql;
}

std::string BatchSourcesSql(const BatchTables& tables) {
  std::string sql(kBatchSources);
  ReplaceAll(&sql, "{schema}", pg::QuoteIdentifier(BatchTables::kSchema));
  ReplaceAll(&sql, "{pins}", tables.Parent(core::RecordKind::kPin));
  ReplaceAll(&sql, "{geo}", tables.Parent(core::RecordKind::kGeo));
  ReplaceAll(&sql, "{users}", tables.Parent(core::RecordKind::kUser));
  return sql;
}

Status CreateAnalyticsViews(pg::Connection& conn, const BatchTables& tables) {
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kBatchDdlLockSql));
  Status created = conn.Run(BatchSourcesSql(tables) + AnalyticsSql(BatchTables::kSchema));
  if (!created.ok()) {
    return created.WithContext(
        "creating the analytics views (they need the default transform's columns ind, "
        "unique_id, poster_name, follower_count, category, country, timestamp, first_name, "
        "last_name, age, date_joined)");
  }
  return tx.Commit();
}

}  // namespace pinpipe::batch
