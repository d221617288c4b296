// Tests for Transform beyond the data-driven cases: quality counters, a custom rules file, casts
// the default file does not use, and the CSV/JSON/SQL outputs.
#include "transform/transform.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace pinpipe::transform {
namespace {

using core::RecordKind;

std::string DefaultText() {
  std::ifstream in(std::string(PINPIPE_SOURCE_DIR) + "/transforms/pinterest.toml");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Pin(std::string_view title, std::string_view follower_count,
                std::string_view poster_name = "Holiday Ideas") {
  return std::string(
             R"({"index": 1, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": ")") +
         std::string(title) + R"(", "description": "No description available", "poster_name": ")" +
         std::string(poster_name) + R"(", "follower_count": ")" + std::string(follower_count) +
         R"(", "tag_list": "a,b", "is_image_or_video": "image", "image_src": "Image src error.", )"
         R"("downloaded": 0, "save_location": "Local save in /data/art", "category": "art"})";
}

struct Result {
  Outcome outcome;
  std::string text;  // COPY line, reason or first error
};

Result ApplyOne(const Transform& t, RecordKind kind, std::string_view json, QualityStats* stats) {
  Transform::Scratch scratch;
  Row row;
  std::string reason;
  std::vector<core::FieldError> errors;
  const Outcome outcome = t.Apply(kind, json, &scratch, &row, &reason, &errors, stats);
  Result r{outcome, {}};
  if (outcome == Outcome::kRow) {
    Transform::AppendCopyLine(row, &r.text);
  } else if (outcome == Outcome::kDropped) {
    r.text = reason;
  } else {
    r.text = errors.at(0).field + "|" + errors.at(0).type;
  }
  return r;
}

TEST(TransformTest, QualityCountersPerRule) {
  const std::shared_ptr<const Transform> t = Transform::Default();
  QualityStats stats;
  EXPECT_EQ(ApplyOne(*t, RecordKind::kPin, Pin(" Wreath\\u00a0", "1.2k"), &stats).outcome,
            Outcome::kRow);
  EXPECT_EQ(ApplyOne(*t, RecordKind::kPin, Pin("", "999"), &stats).outcome, Outcome::kRow);
  EXPECT_EQ(ApplyOne(*t, RecordKind::kPin, Pin("x", "12kk"), &stats).outcome, Outcome::kDropped);
  EXPECT_EQ(ApplyOne(*t, RecordKind::kPin, Pin("x", "User Info Error", "User Info Error"), &stats)
                .outcome,
            Outcome::kDropped);
  EXPECT_EQ(ApplyOne(*t, RecordKind::kPin, "{}", &stats).outcome, Outcome::kInvalid);

  EXPECT_EQ(stats.rows, 2);
  EXPECT_EQ(stats.invalid, 1);
  const std::map<std::string, int64_t> changed = {
      {"pin.title.trim", 1},
      {"pin.follower_count.parse", 1},        // 1.2k (999 is plain, 12kk failed)
      {"pin.save_location.strip_prefix", 4},  // rules run on dropped rows too
  };
  EXPECT_EQ(stats.changed, changed);
  const std::map<std::string, int64_t> nulled = {
      {"pin.title.null_if", 1},          {"pin.description.null_if", 4},
      {"pin.image_src.null_if", 4},      {"pin.poster_name.null_if", 1},
      {"pin.follower_count.null_if", 1}, {"pin.follower_count.parse", 1},
  };
  EXPECT_EQ(stats.nulled, nulled);
  const std::map<std::string, int64_t> unparseable = {{"pin.follower_count.parse", 1}};
  EXPECT_EQ(stats.unparseable, unparseable);
  const std::map<std::string, int64_t> dropped = {{"pin.drop_if_null.follower_count", 2}};
  EXPECT_EQ(stats.dropped, dropped);

  QualityStats total;
  total.Merge(stats);
  total.Merge(stats);
  EXPECT_EQ(total.rows, 4);
  EXPECT_EQ(total.invalid, 2);
  EXPECT_EQ(total.dropped.at("pin.drop_if_null.follower_count"), 4);
  EXPECT_EQ(total.unparseable.at("pin.follower_count.parse"), 2);
}

TEST(TransformTest, CustomFileWithDropIfNullTurnedOff) {
  std::string text = DefaultText();
  const std::string drop = "drop_if_null = [\"follower_count\"]";
  ASSERT_NE(text.find(drop), std::string::npos);
  text.replace(text.find(drop), drop.size(), "drop_if_null = []");
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(text, "keep_nulls.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE((*t)->table(RecordKind::kPin).drop_if_null_columns.empty());

  QualityStats stats;
  // The fully broken row is kept, every placeholder NULL.
  const std::string broken =
      R"({"index": 9, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", )"
      R"("title": "No Title Data Available", "description": "No description available Story format", )"
      R"("poster_name": "User Info Error", "follower_count": "User Info Error", )"
      R"("tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", )"
      R"j("is_image_or_video": "multi-video(story page format)", "image_src": "Image src error.", )j"
      R"("downloaded": 0, "save_location": "Local save in /data/travel", "category": "travel"})";
  const Result r = ApplyOne(**t, RecordKind::kPin, broken, &stats);
  EXPECT_EQ(r.outcome, Outcome::kRow);
  EXPECT_EQ(r.text,
            "9\tfbe53c66-3442-4773-b19e-d3ec6f54dddf\t\\N\t\\N\t\\N\t\\N\t\\N\t"
            "multi-video(story page format)\t\\N\t0\t/data/travel\ttravel\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin("x", "12kk"), &stats).outcome, Outcome::kRow);
  EXPECT_TRUE(stats.dropped.empty());
  EXPECT_EQ(stats.rows, 2);
  // And the default still drops it.
  EXPECT_EQ(ApplyOne(*Transform::Default(), RecordKind::kPin, broken, nullptr).outcome,
            Outcome::kDropped);
}

// A file that uses the casts and sources the default does not.
constexpr std::string_view kCasts = R"(
[pin]
table = "pins"
drop_if_null = ["downloaded_bool", "followers_big"]
[[pin.columns]]
name = "downloaded_bool"
from = "downloaded"
type = "boolean"
[[pin.columns]]
name = "followers_big"
from = "follower_count"
type = "bigint"
parse = "count_suffix"
[[pin.columns]]
name = "title_int"
from = "title"
type = "integer"
[[pin.columns]]
name = "title_double"
from = "title"
type = "double"
[[pin.columns]]
name = "title_bool"
from = "title"
type = "boolean"
trim = true
[[pin.columns]]
name = "title_ts"
from = "title"
type = "timestamp"
[[pin.columns]]
name = "index_text"
from = "index"
type = "text"
[[pin.columns]]
name = "index_double"
from = "index"
type = "double"
[[pin.columns]]
name = "both"
concat = ["category", "poster_name"]
separator = "/"
null_if = ["art/x"]
[[pin.columns.dummy_never_used]]
[geo]
table = "geo"
[[geo.columns]]
name = "lat_text"
from = "latitude"
type = "text"
[user]
table = "users"
[[user.columns]]
name = "age_bool"
from = "age"
type = "boolean"
)";

TEST(TransformTest, CompilerRejectsSubtablesInColumns) {
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(kCasts, "casts.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "casts.toml: pin.both.dummy_never_used (line 44): unknown key (allowed: name, "
            "type, from, concat, separator, trim, null_if, strip_prefix, parse)");
}

std::string CastsFile() {
  std::string text(kCasts);
  text.erase(text.find("[[pin.columns.dummy_never_used]]"),
             std::string_view("[[pin.columns.dummy_never_used]]\n").size());
  text.insert(text.find("null_if = [\"art/x\"]"), "type = \"text\"\n");
  return text;
}

TEST(TransformTest, CastsOfTheSourceTypes) {
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(CastsFile(), "casts.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  QualityStats stats;
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin("12", "3B"), &stats).text,
            "f\t3000000000\t12\t12\t\\N\t\\N\t1\t1\tart/Holiday Ideas\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin(" true ", "1"), &stats).text,
            "f\t1\t\\N\t\\N\tt\t\\N\t1\t1\tart/Holiday Ideas\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin("2020-08-28T03:52:47Z", "1"), &stats).text,
            "f\t1\t\\N\t\\N\t\\N\t2020-08-28 03:52:47\t1\t1\tart/Holiday Ideas\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin("-1.5e3", "1", "x"), &stats).text,
            "f\t1\t\\N\t-1500\t\\N\t\\N\t1\t1\t\\N\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, Pin("99999999999", "1"), &stats).text,
            "f\t1\t\\N\t99999999999\t\\N\t\\N\t1\t1\tart/Holiday Ideas\n");
  EXPECT_EQ(stats.unparseable.at("pin.title_int.cast"), 4);  // 99999999999 exceeds int4
  EXPECT_EQ(stats.unparseable.at("pin.title_ts.cast"), 4);
  EXPECT_EQ(stats.nulled.at("pin.both.null_if"), 1);

  EXPECT_EQ(ApplyOne(**t, RecordKind::kGeo,
                     R"({"ind": 1, "timestamp": "2020-01-01 00:00:00", "latitude": 45, )"
                     R"("longitude": 1.5, "country": "X"})",
                     &stats)
                .text,
            "45\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kGeo,
                     R"({"ind": 1, "timestamp": "2020-01-01 00:00:00", "latitude": -0.000001, )"
                     R"("longitude": 1.5, "country": "X"})",
                     &stats)
                .text,
            "-1e-06\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kUser,
                     R"({"ind": 1, "first_name": "A", "last_name": "B", "age": 1, )"
                     R"("date_joined": "2015-01-01 00:00:00"})",
                     &stats)
                .text,
            "t\n");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kUser,
                     R"({"ind": 1, "first_name": "A", "last_name": "B", "age": 30, )"
                     R"("date_joined": "2015-01-01 00:00:00"})",
                     &stats)
                .text,
            "\\N\n");
  EXPECT_EQ(stats.unparseable.at("user.age_bool.cast"), 1);
}

// A uuid field is read in canonical (lower) case wherever it is a source: alone (before its
// rules, so null_if compares the lower-case text) and as a concat part; the default file's
// unique_id is covered by tests/data/transform/pin/unique_id_*_case_lowered.
TEST(TransformTest, UuidFieldsAreReadInLowerCase) {
  constexpr std::string_view kUuids = R"(
[pin]
table = "pins"
[[pin.columns]]
name = "id"
from = "unique_id"
type = "text"
null_if = ["00000000-0000-4000-8000-00000000000a"]
[[pin.columns]]
name = "id_and_category"
concat = ["unique_id", "category"]
separator = "/"
type = "text"
[[pin.columns]]
name = "title"
from = "title"
type = "text"
[geo]
table = "geo"
[[geo.columns]]
name = "ind"
from = "ind"
type = "integer"
[user]
table = "users"
[[user.columns]]
name = "ind"
from = "ind"
type = "integer"
)";
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(kUuids, "uuids.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string pin = Pin("Keep THIS Case", "1");
  const std::string lower = "fbe53c66-3442-4773-b19e-d3ec6f54dddf";
  pin.replace(pin.find(lower), lower.size(), "FBE53C66-3442-4773-b19e-D3eC6f54dddf");
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, pin, nullptr).text,
            lower + "\t" + lower + "/art\tKeep THIS Case\n");
  pin.replace(pin.find("FBE53C66-3442-4773-b19e-D3eC6f54dddf"), lower.size(),
              "00000000-0000-4000-8000-00000000000A");
  QualityStats stats;
  EXPECT_EQ(ApplyOne(**t, RecordKind::kPin, pin, &stats).text,
            "\\N\t00000000-0000-4000-8000-00000000000a/art\tKeep THIS Case\n");
  EXPECT_EQ(stats.nulled.at("pin.id.null_if"), 1);
  EXPECT_TRUE(stats.changed.empty());  // canonical case is how the field is read, not a rule
}

Row SampleRow() {
  Row row;
  row.cells.emplace_back(int64_t{7});
  row.cells.emplace_back(std::string("a,\"b\"\tc\\d\ne\r"));
  row.cells.emplace_back(std::monostate{});
  row.cells.emplace_back(std::string());
  row.cells.emplace_back(2.5);
  row.cells.emplace_back(true);
  row.cells.emplace_back(Timestamp{1598586767123456});
  row.cells.emplace_back(std::vector<double>{1.5, -2});
  return row;
}

TEST(RowWriterTest, CopyLine) {
  std::string out = "x";
  Transform::AppendCopyLine(SampleRow(), &out);
  EXPECT_EQ(out,
            "x7\ta,\"b\"\\tc\\\\d\\ne\\r\t\\N\t\t2.5\tt\t2020-08-28 03:52:47.123456\t{1.5,-2}\n");
}

constexpr std::string_view kEightColumns = R"(
[pin]
table = "p"
[[pin.columns]]
name = "a"
from = "index"
type = "integer"
[[pin.columns]]
name = "b"
from = "title"
type = "text"
[[pin.columns]]
name = "c"
from = "title"
type = "text"
[[pin.columns]]
name = "d"
from = "title"
type = "text"
[[pin.columns]]
name = "e"
from = "title"
type = "double"
[[pin.columns]]
name = "f"
from = "title"
type = "boolean"
[[pin.columns]]
name = "g"
from = "title"
type = "timestamp"
[[pin.columns]]
name = "h"
from = "title"
type = "integer"
[geo]
table = "g"
[[geo.columns]]
name = "ind"
from = "ind"
type = "integer"
[user]
table = "u"
[[user.columns]]
name = "ind"
from = "ind"
type = "integer"
)";

TEST(RowWriterTest, CsvAndJsonLines) {
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(kEightColumns, "8.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::string csv;
  (*t)->AppendCsvLine(RecordKind::kPin, SampleRow(), &csv);
  EXPECT_EQ(csv,
            "7,\"a,\"\"b\"\"\tc\\d\ne\r\",,\"\",2.5,t,2020-08-28 03:52:47.123456,\"{1.5,-2}\"\n");
  std::string json;
  (*t)->AppendJsonLine(RecordKind::kPin, SampleRow(), &json);
  EXPECT_EQ(json,
            "{\"a\":7,\"b\":\"a,\\\"b\\\"\\tc\\\\d\\ne\\r\",\"c\":null,\"d\":\"\",\"e\":2.5,"
            "\"f\":true,\"g\":\"2020-08-28 03:52:47.123456\",\"h\":[1.5,-2]}\n");
}

TEST(TransformTest, CreateTableSql) {
  const std::shared_ptr<const Transform> t = Transform::Default();
  EXPECT_EQ(t->CreateTableSql(RecordKind::kPin),
            "CREATE TABLE IF NOT EXISTS \"experimental_data\" (\n"
            "  \"ind\" integer,\n"
            "  \"unique_id\" text COLLATE \"C\" UNIQUE,\n"
            "  \"title\" text,\n"
            "  \"description\" text,\n"
            "  \"poster_name\" text,\n"
            "  \"follower_count\" integer,\n"
            "  \"tag_list\" text,\n"
            "  \"is_image_or_video\" text,\n"
            "  \"image_src\" text,\n"
            "  \"downloaded\" integer,\n"
            "  \"save_location\" text,\n"
            "  \"category\" text\n"
            ");\n");
  EXPECT_EQ(t->CreateTableSql(RecordKind::kGeo),
            "CREATE TABLE IF NOT EXISTS \"geolocation_data_clean\" (\n"
            "  \"ind\" integer UNIQUE,\n"
            "  \"timestamp\" timestamp,\n"
            "  \"latitude\" double precision,\n"
            "  \"longitude\" double precision,\n"
            "  \"coordinates\" double precision[],\n"
            "  \"country\" text\n"
            ");\n");
  EXPECT_EQ(t->CreateTableSql(RecordKind::kUser),
            "CREATE TABLE IF NOT EXISTS \"user_data_clean\" (\n"
            "  \"ind\" integer UNIQUE,\n"
            "  \"user_name\" text,\n"
            "  \"first_name\" text,\n"
            "  \"last_name\" text,\n"
            "  \"age\" integer,\n"
            "  \"date_joined\" timestamp\n"
            ");\n");
}

TEST(TransformTest, RowReuseAcrossKindsAndNulls) {
  const std::shared_ptr<const Transform> t = Transform::Default();
  Transform::Scratch scratch;
  Row row;
  std::string reason;
  std::vector<core::FieldError> errors;
  ASSERT_EQ(
      t->Apply(RecordKind::kPin, Pin("A title", "1k"), &scratch, &row, &reason, &errors, nullptr),
      Outcome::kRow);
  EXPECT_EQ(row.cells.size(), 12u);
  ASSERT_EQ(t->Apply(RecordKind::kUser,
                     R"({"ind": 1, "first_name": "A", "last_name": "B", "age": 30, )"
                     R"("date_joined": "2015-01-01 00:00:00"})",
                     &scratch, &row, &reason, &errors, nullptr),
            Outcome::kRow);
  std::string line;
  Transform::AppendCopyLine(row, &line);
  EXPECT_EQ(line, "1\tA B\tA\tB\t30\t2015-01-01 00:00:00\n");
  ASSERT_EQ(t->Apply(RecordKind::kPin, Pin("", "1k"), &scratch, &row, &reason, &errors, nullptr),
            Outcome::kRow);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(row.cells[2]));
  ASSERT_EQ(t->Apply(RecordKind::kPin, "not json", &scratch, &row, &reason, &errors, nullptr),
            Outcome::kInvalid);
  EXPECT_TRUE(reason.empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].type, "json_invalid");
  ASSERT_EQ(t->Apply(RecordKind::kPin, Pin("t", "x"), &scratch, &row, &reason, &errors, nullptr),
            Outcome::kDropped);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(reason, "drop_if_null: follower_count is NULL");
}

TEST(QualityStatsTest, ToJsonRendersAllCountersWithKeysEscaped) {
  QualityStats s;
  s.changed["pin.title.trim"] = 2;
  s.nulled["pin.\"x\""] = 1;
  s.rows = 5;
  EXPECT_EQ(s.ToJson(),
            R"({"changed":{"pin.title.trim":2},"nulled":{"pin.\"x\"":1},"unparseable":{},)"
            R"("dropped":{},"rows":5,"invalid":0})");
}

}  // namespace
}  // namespace pinpipe::transform
