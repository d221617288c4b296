#include "batch/analytics_sql.h"

#include <fmt/format.h>

#include "pg/transaction.h"

namespace pinpipe::batch {
namespace {

// Same key as BatchTables::Ensure: view DDL of concurrent runs must not interleave ("tuple
// concurrently updated").
constexpr const char* kSetupLock = "SELECT pg_advisory_xact_lock(7365656402)";

// {schema}, {pins}, {geo} and {users} are replaced by the (quoted) schema and table names.
// Everything else is plain SQL; every view orders its rows, though a reader that needs an order
// should still say ORDER BY (PostgreSQL keeps a view's order only for a plain SELECT * FROM it).
constexpr std::string_view kViews = R"sql(
-- One row per post. Pins are de-duplicated over all loaded days by unique_id (within a day the
-- batch job already keeps the first occurrence; across days the earliest day's row wins), then
-- joined on ind with the post's geolocation and user (each also the earliest day's row of its
-- ind). Posts without a geolocation or a user row are left out (inner joins), as are pins the
-- transform dropped (follower_count NULL).
CREATE OR REPLACE VIEW {schema}.posts AS
WITH pins AS (
  SELECT DISTINCT ON (unique_id) * FROM {pins} ORDER BY unique_id, dt
), geo AS (
  SELECT DISTINCT ON (ind) * FROM {geo} ORDER BY ind, dt
), users AS (
  SELECT DISTINCT ON (ind) * FROM {users} ORDER BY ind, dt
)
SELECT p.ind, p.unique_id, p.poster_name, p.follower_count, p.category, p.dt,
       g.country, g."timestamp" AS posted_at,
       u.first_name, u.last_name, u.age, u.date_joined,
       CASE WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
            WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
            WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
            WHEN u.age > 50 THEN '50+'
       END AS age_group
FROM pins p
JOIN geo g ON g.ind = p.ind
JOIN users u ON u.ind = p.ind;
COMMENT ON VIEW {schema}.posts IS 'One row per post: pins de-duplicated by unique_id over all days (earliest day wins), inner-joined on ind with geolocation and user (earliest day per ind). age_group: 18-24, 25-35, 36-50, 50+ (= 51 and older; 50 is in 36-50); NULL under 18.';

-- Q1. The most popular category per country: posts per (country, category); every category
-- with the highest count is listed (rank() = 1), ties ordered by category name.
CREATE OR REPLACE VIEW {schema}.q1_popular_category_by_country AS
SELECT country, category, category_count FROM (
  SELECT country, category, count(*) AS category_count,
         rank() OVER (PARTITION BY country ORDER BY count(*) DESC) AS place
  FROM {schema}.posts
  WHERE country IS NOT NULL AND category IS NOT NULL
  GROUP BY country, category
) ranked
WHERE place = 1
ORDER BY country, category;
COMMENT ON VIEW {schema}.q1_popular_category_by_country IS 'Q1: most popular category per country (posts counted). Ties: every tied category is a row (rank() = 1), ordered by category name.';

-- Q2. Posts per category per year of the post (the geolocation timestamp, UTC), 2018-2022.
CREATE OR REPLACE VIEW {schema}.q2_posts_by_category_and_year AS
SELECT extract(year FROM posted_at)::integer AS post_year, category, count(*) AS category_count
FROM {schema}.posts
WHERE posted_at >= '2018-01-01' AND posted_at < '2023-01-01' AND category IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;
COMMENT ON VIEW {schema}.q2_posts_by_category_and_year IS 'Q2: posts per category per year of the geolocation timestamp (UTC), years 2018 to 2022.';

-- Q2b. The top category of each year 2018-2022 (ties: every tied category, by name).
CREATE OR REPLACE VIEW {schema}.q2_top_category_by_year AS
SELECT post_year, category, category_count FROM (
  SELECT post_year, category, category_count,
         rank() OVER (PARTITION BY post_year ORDER BY category_count DESC) AS place
  FROM {schema}.q2_posts_by_category_and_year
) ranked
WHERE place = 1
ORDER BY post_year, category;
COMMENT ON VIEW {schema}.q2_top_category_by_year IS 'Q2: top category per year 2018-2022. Ties: every tied category is a row (rank() = 1), ordered by category name.';

-- Q3. The poster with the most followers per country: the poster_name of the post(s) with the
-- country's highest follower_count; several posters with that count are all listed (by name),
-- a poster appears once per country.
CREATE OR REPLACE VIEW {schema}.q3_top_poster_by_country AS
SELECT DISTINCT country, poster_name, follower_count FROM (
  SELECT country, poster_name, follower_count,
         rank() OVER (PARTITION BY country ORDER BY follower_count DESC) AS place
  FROM {schema}.posts
  WHERE country IS NOT NULL AND poster_name IS NOT NULL AND follower_count IS NOT NULL
) ranked
WHERE place = 1
ORDER BY country, poster_name;
COMMENT ON VIEW {schema}.q3_top_poster_by_country IS 'Q3: poster with the most followers per country (highest follower_count of a post there). Ties: every tied poster is a row, ordered by poster_name.';

-- Q3b. The country whose top poster has the most followers (ties: every tied row, by country
-- then poster name).
CREATE OR REPLACE VIEW {schema}.q3_top_country AS
SELECT country, poster_name, follower_count FROM (
  SELECT country, poster_name, follower_count,
         rank() OVER (ORDER BY follower_count DESC) AS place
  FROM {schema}.q3_top_poster_by_country
) ranked
WHERE place = 1
ORDER BY country, poster_name;
COMMENT ON VIEW {schema}.q3_top_country IS 'Q3: the country with the poster with the most followers. Ties: every tied (country, poster) is a row, ordered by country, poster_name.';

-- Q4. The most popular category per age group (posts counted; ties: every tied category).
CREATE OR REPLACE VIEW {schema}.q4_popular_category_by_age_group AS
SELECT age_group, category, category_count FROM (
  SELECT age_group, category, count(*) AS category_count,
         rank() OVER (PARTITION BY age_group ORDER BY count(*) DESC) AS place
  FROM {schema}.posts
  WHERE age_group IS NOT NULL AND category IS NOT NULL
  GROUP BY age_group, category
) ranked
WHERE place = 1
ORDER BY age_group, category;
COMMENT ON VIEW {schema}.q4_popular_category_by_age_group IS 'Q4: most popular category per age group (18-24, 25-35, 36-50, 50+ = 51 and older). Ties: every tied category is a row, ordered by category name.';

-- Q5. The median follower count per age group, over posts: exact percentile_cont(0.5), i.e. the
-- middle value, or the mean of the two middle values for an even number of posts.
CREATE OR REPLACE VIEW {schema}.q5_median_follower_count_by_age_group AS
SELECT age_group,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts
WHERE age_group IS NOT NULL AND follower_count IS NOT NULL
GROUP BY age_group
ORDER BY age_group;
COMMENT ON VIEW {schema}.q5_median_follower_count_by_age_group IS 'Q5: median follower_count of the posts per age group; exact percentile_cont(0.5) (mean of the two middle values for an even count).';

-- Q6. Users who joined per year 2015-2020. The data has no user id and the same person appears
-- under many ind values, so a user is a distinct (first_name, last_name, age, date_joined) among
-- all user records (not only those with a post in batch.posts).
CREATE OR REPLACE VIEW {schema}.q6_users_joined_by_year AS
SELECT extract(year FROM date_joined)::integer AS join_year, count(*) AS number_users_joined
FROM (SELECT DISTINCT first_name, last_name, age, date_joined FROM {users}) people
WHERE date_joined >= '2015-01-01' AND date_joined < '2021-01-01'
GROUP BY 1
ORDER BY 1;
COMMENT ON VIEW {schema}.q6_users_joined_by_year IS 'Q6: users joined per year 2015-2020; a user is a distinct (first_name, last_name, age, date_joined) over all user records (the same person appears under many ind values).';

-- Q7. The median follower count of the posts by the year their user joined, 2015-2020 (exact
-- percentile_cont(0.5)).
CREATE OR REPLACE VIEW {schema}.q7_median_follower_count_by_join_year AS
SELECT extract(year FROM date_joined)::integer AS join_year,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts
WHERE date_joined >= '2015-01-01' AND date_joined < '2021-01-01' AND follower_count IS NOT NULL
GROUP BY 1
ORDER BY 1;
COMMENT ON VIEW {schema}.q7_median_follower_count_by_join_year IS 'Q7: median follower_count of the posts by the join year of their user, 2015-2020; exact percentile_cont(0.5).';

-- Q8. The same by join year and age group.
CREATE OR REPLACE VIEW {schema}.q8_median_follower_count_by_join_year_and_age_group AS
SELECT extract(year FROM date_joined)::integer AS join_year, age_group,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count,
       count(*) AS posts
FROM {schema}.posts
WHERE date_joined >= '2015-01-01' AND date_joined < '2021-01-01'
  AND age_group IS NOT NULL AND follower_count IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;
COMMENT ON VIEW {schema}.q8_median_follower_count_by_join_year_and_age_group IS 'Q8: median follower_count of the posts by join year (2015-2020) and age group; exact percentile_cont(0.5).';
)sql";

void ReplaceAll(std::string* s, std::string_view from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

}  // namespace

const std::vector<std::string>& AnalyticsViewNames() {
  static const std::vector<std::string> names = {
      "posts",
      "q1_popular_category_by_country",
      "q2_posts_by_category_and_year",
      "q2_top_category_by_year",
      "q3_top_poster_by_country",
      "q3_top_country",
      "q4_popular_category_by_age_group",
      "q5_median_follower_count_by_age_group",
      "q6_users_joined_by_year",
      "q7_median_follower_count_by_join_year",
      "q8_median_follower_count_by_join_year_and_age_group",
  };
  return names;
}

std::string AnalyticsSql(const BatchTables& tables) {
  std::string sql(kViews);
  ReplaceAll(&sql, "{schema}", pg::QuoteIdentifier(BatchTables::kSchema));
  ReplaceAll(&sql, "{pins}", tables.Parent(core::RecordKind::kPin));
  ReplaceAll(&sql, "{geo}", tables.Parent(core::RecordKind::kGeo));
  ReplaceAll(&sql, "{users}", tables.Parent(core::RecordKind::kUser));
  return sql;
}

Status CreateAnalyticsViews(pg::Connection& conn, const BatchTables& tables) {
  ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(conn));
  RETURN_IF_ERROR(conn.Run(kSetupLock));
  Status created = conn.Run(AnalyticsSql(tables));
  if (!created.ok()) {
    return created.WithContext(
        "creating the analytics views (they need the default transform's columns ind, "
        "unique_id, poster_name, follower_count, category, country, timestamp, first_name, "
        "last_name, age, date_joined)");
  }
  return tx.Commit();
}

}  // namespace pinpipe::batch
