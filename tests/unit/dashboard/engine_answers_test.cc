// The analytics engine's answers (src/dashboard/analytics_answers.h) on the data-driven cases:
// tests/data/analytics/*.case (the serving layer's cases, whose expectations PostgreSQL's views
// are held to) and tests/data/dashboard/*.case (the engine's own: medians, NULLs, ties, every
// filter, empty answers, pins per day and layer). The facts are built from the cases' merged
// rows in several orders, as the engine meets them: every record at once (a full load: posts
// joined with their geolocation and user record), and posts first with their geolocations and
// user records arriving afterwards in either order (incremental polls: waiting posts resolved),
// with a view published between the steps (copy on write). Every order must give the expected
// rows, with the posts' 16-bit ids, with 32-bit ids from the start, and converting from one to
// the other on the way (post_facts.h). [query] checks are SQL and run in the integration tests
// only.
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <map>

#include "core/civil_day.h"
#include "core/timestamp_parser.h"
#include "dashboard/analytics_answers.h"
#include "dashboard/post_facts.h"
#include "testing/analytics_case.h"

namespace pinpipe::dashboard {
namespace {

using testing::AnalyticsCase;
using testing::CaseTable;
using testing::CaseValue;

std::optional<int32_t> Int(const CaseValue& v) {
  if (!v) return std::nullopt;
  return static_cast<int32_t>(std::stol(*v));
}

int32_t Day(const CaseValue& v) { return static_cast<int32_t>(*core::ParseDate(v.value())); }

std::optional<int64_t> Micros(const CaseValue& v) {
  if (!v) return std::nullopt;
  core::CivilTimestamp ts;
  std::string_view reason;
  EXPECT_TRUE(core::ParseTimestamp(*v, &ts, &reason)) << *v << ": " << reason;
  const int64_t day = *core::ParseDate(v->substr(0, 10));
  return (day * 86400 + ts.hour * 3600 + ts.minute * 60 + ts.second) * int64_t{1000000} +
         ts.nanos / 1000;
}

std::optional<std::string_view> Text(const CaseTable& t, const std::vector<CaseValue>& row,
                                     const std::string& column) {
  const size_t at = t.Column(column);
  if (at >= row.size() || !row[at]) return std::nullopt;
  return std::string_view(*row[at]);
}

// The order in which the facts meet the records.
enum class Order {
  kJoined,        // user records, then posts joined with their geolocation and user (a load)
  kPinsGeoUsers,  // posts alone, then geolocations, then user records (polls)
  kPinsUsersGeo,  // posts alone, then user records, then geolocations
};

const char* OrderName(Order order) {
  switch (order) {
    case Order::kJoined: return "joined";
    case Order::kPinsGeoUsers: return "pins, geo, users";
    case Order::kPinsUsersGeo: return "pins, users, geo";
  }
  return "?";
}

struct CaseFacts {
  AnalyticsCase merged;
  std::map<int32_t, size_t> geo_by_ind, user_by_ind;  // row index in merged.tables

  explicit CaseFacts(const AnalyticsCase& c) : merged(testing::MergedRows(c)) {
    for (size_t r = 0; r < merged.tables[1].rows.size(); ++r) {
      geo_by_ind[*Int(merged.tables[1].Get(merged.tables[1].rows[r], "ind"))] = r;
    }
    for (size_t r = 0; r < merged.tables[2].rows.size(); ++r) {
      user_by_ind[*Int(merged.tables[2].Get(merged.tables[2].rows[r], "ind"))] = r;
    }
  }

  // Posts (with an ind) whose ind has no record in `records`: they wait for one.
  size_t PostsWithout(const std::map<int32_t, size_t>& records) const {
    size_t n = 0;
    for (const auto& row : merged.tables[0].rows) {
      auto ind = Int(merged.tables[0].Get(row, "ind"));
      n += ind && records.count(*ind) == 0 ? 1 : 0;
    }
    return n;
  }

  GeoFields Geo(size_t r) const {
    const CaseTable& t = merged.tables[1];
    return GeoFields{Text(t, t.rows[r], "country"), Micros(t.Get(t.rows[r], "timestamp"))};
  }
  UserRecord User(size_t r) const {
    const CaseTable& t = merged.tables[2];
    UserRecord u;
    u.ind = Int(t.Get(t.rows[r], "ind"));
    u.day = Day(t.Get(t.rows[r], "dt"));
    u.first_name = Text(t, t.rows[r], "first_name");
    u.last_name = Text(t, t.rows[r], "last_name");
    u.fields = UserFields{Int(t.Get(t.rows[r], "age")), Micros(t.Get(t.rows[r], "date_joined"))};
    return u;
  }

  void Build(Order order, PostFacts* facts) const {
    const CaseTable& pins = merged.tables[0];
    if (order == Order::kJoined) {
      for (size_t r = 0; r < merged.tables[2].rows.size(); ++r) {
        ASSERT_TRUE(facts->AddUser(User(r)).ok());
      }
    }
    for (const auto& row : pins.rows) {
      PinFields p;
      p.ind = Int(pins.Get(row, "ind"));
      p.day = Day(pins.Get(row, "dt"));
      p.batch = pins.Get(row, "layer") == CaseValue("batch");
      p.category = Text(pins, row, "category");
      p.poster_name = Text(pins, row, "poster_name");
      p.follower_count = Int(pins.Get(row, "follower_count"));
      if (order == Order::kJoined && p.ind) {
        if (auto g = geo_by_ind.find(*p.ind); g != geo_by_ind.end()) p.geo = Geo(g->second);
        if (auto u = user_by_ind.find(*p.ind); u != user_by_ind.end()) {
          p.user = User(u->second).fields;
        }
      }
      ASSERT_TRUE(facts->AddPin(p).ok());
    }
    if (order == Order::kJoined) return;
    facts->View();  // published: what follows copies the chunks it changes
    auto geo = [&] {
      for (const auto& [ind, r] : geo_by_ind) facts->AddGeo(ind, Geo(r));
    };
    auto users = [&] {
      for (size_t r = 0; r < merged.tables[2].rows.size(); ++r) {
        ASSERT_TRUE(facts->AddUser(User(r)).ok());
      }
    };
    if (order == Order::kPinsGeoUsers) {
      geo();
      facts->View();
      users();
    } else {
      users();
      facts->View();
      geo();
    }
  }
};

AnalyticsFilters FiltersOf(const std::vector<CaseValue>& args) {
  AnalyticsFilters f;
  auto day = [](const CaseValue& v) -> std::optional<std::chrono::sys_days> {
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

struct Rows {
  std::deque<std::string> text;  // what pin_days' cells point to
  std::vector<std::vector<Cell>> rows;
};

// The rows of `name` ("q..." or "pin_days") under `filters`.
std::optional<Rows> Answer(const FactsView& facts, const std::string& name,
                           const AnalyticsFilters& filters, const Parallelism& parallel) {
  Rows out;
  if (name == "pin_days") {
    for (const PinDay& d : ComputePinDays(facts, filters)) {
      out.text.push_back(core::DateOfDay(d.day));
      out.rows.push_back({Cell(std::string_view(out.text.back())), Cell(d.batch), Cell(d.speed)});
    }
    return out;
  }
  for (Question q : kAllQuestions) {
    for (AnswerTable& t : ComputeQuestion(facts, filters, q, parallel)) {
      if (t.spec->id == name) {
        out.rows = std::move(t.rows);
        return out;
      }
    }
  }
  return std::nullopt;
}

// Cells equal the expected text; doubles compare as numbers (PostgreSQL prints 1e+06 where
// JSON has 1000000).
void ExpectRows(const std::vector<std::vector<Cell>>& got, const std::vector<std::string>& want) {
  std::vector<std::string> got_text;
  for (const auto& row : got) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) line += (c > 0 ? "|" : "") + CellText(row[c]);
    got_text.push_back(line);
  }
  ASSERT_EQ(got.size(), want.size()) << ::testing::PrintToString(got_text);
  for (size_t r = 0; r < got.size(); ++r) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t at; (at = want[r].find('|', start)) != std::string::npos; start = at + 1) {
      fields.push_back(want[r].substr(start, at - start));
    }
    fields.push_back(want[r].substr(start));
    ASSERT_EQ(got[r].size(), fields.size()) << got_text[r] << " vs " << want[r];
    for (size_t c = 0; c < fields.size(); ++c) {
      if (const auto* d = std::get_if<double>(&got[r][c])) {
        EXPECT_EQ(*d, std::strtod(fields[c].c_str(), nullptr)) << got_text[r] << " vs " << want[r];
      } else {
        EXPECT_EQ(CellText(got[r][c]), fields[c]) << got_text[r] << " vs " << want[r];
      }
    }
  }
}

std::vector<AnalyticsCase> AllCases() {
  std::vector<AnalyticsCase> cases;
  for (const char* dir : {"tests/data/analytics", "tests/data/dashboard"}) {
    for (AnalyticsCase& c :
         testing::LoadAnalyticsCases(std::string(PINPIPE_SOURCE_DIR) + "/" + dir)) {
      c.name = std::string(dir).substr(11) + "_" + c.name;
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

const std::vector<AnalyticsCase>& Cases() {
  static const std::vector<AnalyticsCase> cases = AllCases();
  return cases;
}

TEST(EngineAnswerCasesTest, EveryCaseParsesAndChecksSomething) {
  int dashboard_cases = 0;
  for (const AnalyticsCase& c : Cases()) {
    EXPECT_EQ(c.error, "") << c.path;
    size_t expects = 0;
    for (const auto& check : c.checks) expects += check.query ? 0 : 1;
    EXPECT_GT(expects, 0u) << c.path;
    dashboard_cases += c.name.starts_with("dashboard_") ? 1 : 0;
  }
  EXPECT_GE(dashboard_cases, 4);
}

class EngineAnswerCaseTest : public ::testing::TestWithParam<size_t> {};

TEST_P(EngineAnswerCaseTest, EveryOrderOfTheRecordsGivesTheExpectedRows) {
  const AnalyticsCase& c = Cases()[GetParam()];
  ASSERT_EQ(c.error, "");
  const CaseFacts built(c);
  // 16-bit ids; 32-bit ids from the start; converted at the third pair or poster name.
  for (size_t narrow_ids : {kNarrowIds, size_t{0}, size_t{2}}) {
    for (Order order : {Order::kJoined, Order::kPinsGeoUsers, Order::kPinsUsersGeo}) {
      PostFacts facts(narrow_ids);
      built.Build(order, &facts);
      const FactsView view = facts.View();
      SCOPED_TRACE("narrow ids " + std::to_string(narrow_ids) + ", wide " +
                   std::to_string(facts.wide()));
      EXPECT_EQ(facts.waiting_for_geo(), built.PostsWithout(built.geo_by_ind)) << OrderName(order);
      EXPECT_EQ(facts.waiting_for_user(), built.PostsWithout(built.user_by_ind))
          << OrderName(order);
      for (const auto& check : c.checks) {
        if (check.query) continue;
        SCOPED_TRACE(c.path + ":" + std::to_string(check.line) + ": " + check.expression + " (" +
                     OrderName(order) + ")");
        auto call = testing::ParseCaseCall(check.expression);
        ASSERT_TRUE(call.has_value());
        // One pass, and passes split into 3 parts on threads (here all but one part empty).
        for (const Parallelism parallel : {Parallelism{1}, Parallelism{3, 1, 1}}) {
          auto rows = Answer(view, call->name, FiltersOf(call->args), parallel);
          ASSERT_TRUE(rows.has_value()) << "unknown table " << call->name;
          ExpectRows(rows->rows, check.expected);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, EngineAnswerCaseTest, ::testing::Range(size_t{0}, Cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           std::string name = Cases()[param_info.param].name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pinpipe::dashboard
