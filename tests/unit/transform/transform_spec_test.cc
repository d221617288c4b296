// Tests for the transform file compiler: every error names the file, the kind.column and what is
// wrong (exact messages, so a reworded message is a conscious change).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/status_matchers.h"
#include "transform/transform.h"

namespace pinpipe::transform {
namespace {

// The smallest valid file: one column per kind (lines 1-18).
constexpr std::string_view kMinimal = R"([pin]
table = "p"
[[pin.columns]]
name = "ind"
from = "index"
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

// kMinimal plus one more pin column (its lines start at 19: "[[pin.columns]]" is line 19).
std::string WithPinColumn(std::string_view body) {
  return std::string(kMinimal) + "[[pin.columns]]\n" + std::string(body);
}

std::string ErrorOf(std::string_view text) {
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(text, "t.toml");
  if (t.ok()) return "OK";
  EXPECT_THAT(t, StatusIs(StatusCode::kInvalidArgument));
  return t.status().message();
}

TEST(TransformSpecTest, MinimalFileCompiles) {
  StatusOr<std::shared_ptr<const Transform>> t = Transform::FromToml(kMinimal, "t.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->table(core::RecordKind::kPin).table, "p");
  EXPECT_FALSE((*t)->table(core::RecordKind::kPin).dedup_column.has_value());
  EXPECT_TRUE((*t)->table(core::RecordKind::kPin).drop_if_null_columns.empty());
}

TEST(TransformSpecTest, DefaultFileCompiles) {
  const std::shared_ptr<const Transform> t = Transform::Default();
  const TableDef& pin = t->table(core::RecordKind::kPin);
  EXPECT_EQ(pin.table, "experimental_data");
  ASSERT_EQ(pin.columns.size(), 12u);
  const char* names[] = {"ind",         "unique_id",      "title",         "description",
                         "poster_name", "follower_count", "tag_list",      "is_image_or_video",
                         "image_src",   "downloaded",     "save_location", "category"};
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(pin.columns[i].name, names[i]);
  EXPECT_EQ(pin.columns[5].type, ColumnType::kInteger);
  EXPECT_EQ(pin.columns[9].type, ColumnType::kInteger);
  EXPECT_EQ(pin.dedup_column, 1u);
  EXPECT_EQ(pin.drop_if_null_columns, std::vector<size_t>{5});
  const TableDef& geo = t->table(core::RecordKind::kGeo);
  EXPECT_EQ(geo.table, "geolocation_data_clean");
  EXPECT_EQ(geo.columns[4].name, "coordinates");
  EXPECT_EQ(geo.columns[4].type, ColumnType::kDoubleArray);
  EXPECT_EQ(geo.columns[1].type, ColumnType::kTimestamp);
  const TableDef& user = t->table(core::RecordKind::kUser);
  EXPECT_EQ(user.table, "user_data_clean");
  EXPECT_EQ(user.columns[1].name, "user_name");
  EXPECT_EQ(user.columns[5].type, ColumnType::kTimestamp);
}

TEST(TransformSpecTest, SyntaxError) {
  EXPECT_EQ(ErrorOf("[pin\n"),
            "t.toml:1:5: TOML syntax error: Error while parsing table header: expected ']', saw "
            "'\\n'");
}

TEST(TransformSpecTest, UnknownRuleKey) {
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"title\"\nfrom = \"title\"\ntype = \"text\"\n"
                                  "trimm = true\n")),
            "t.toml: pin.title.trimm (line 23): unknown key (allowed: name, type, from, "
            "concat, separator, trim, null_if, strip_prefix, parse)");
}

TEST(TransformSpecTest, UnknownSourceField) {
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"fc\"\nfrom = \"folower_count\"\ntype = \"text\"\n")),
            "t.toml: pin.fc (line 21): unknown source field \"folower_count\" (pin fields: "
            "index, unique_id, title, description, poster_name, follower_count, tag_list, "
            "is_image_or_video, image_src, downloaded, save_location, category)");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nconcat = [\"title\", \"nope\"]\n"
                                  "type = \"text\"\n")),
            "t.toml: pin.x (line 21): unknown source field \"nope\" (pin fields: index, "
            "unique_id, title, description, poster_name, follower_count, tag_list, "
            "is_image_or_video, image_src, downloaded, save_location, category)");
}

TEST(TransformSpecTest, DuplicateColumn) {
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"ind\"\nfrom = \"index\"\ntype = \"bigint\"\n")),
            "t.toml: pin.ind (line 20): duplicate column \"ind\"");
}

TEST(TransformSpecTest, WrongTypeCombinations) {
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"double_array\"\n")),
            "t.toml: pin.x (line 22): source field \"title\" is a string and cannot become "
            "double_array");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"index\"\ntype = \"timestamp\"\n")),
            "t.toml: pin.x (line 22): source field \"index\" is an integer and cannot become "
            "timestamp");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"text\"\n"
                                  "parse = \"count_suffix\"\n")),
            "t.toml: pin.x (line 23): parse = \"count_suffix\" makes integer or bigint, not text");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"index\"\ntype = \"integer\"\n"
                                  "trim = true\n")),
            "t.toml: pin.x (line 23): rule \"trim\" needs a text source (a string field or "
            "concat)");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = [\"index\", \"title\"]\n"
                                  "type = \"double_array\"\n")),
            "t.toml: pin.x (line 21): double_array source field \"title\" is a string, not a "
            "number");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = [\"index\"]\ntype = \"double\"\n")),
            "t.toml: pin.x (line 22): an array \"from\" makes a double_array, not double");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nconcat = [\"title\"]\ntype = \"integer\"\n")),
            "t.toml: pin.x (line 22): \"concat\" makes text, not integer");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nconcat = [\"title\", \"index\"]\n"
                                  "type = \"text\"\n")),
            "t.toml: pin.x (line 21): concat source field \"index\" is an integer, not a string");
}

TEST(TransformSpecTest, BadValues) {
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"varchar\"\n")),
            "t.toml: pin.x (line 22): \"type\" must be one of: integer, bigint, double, text, "
            "boolean, timestamp, double_array");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\n")),
            "t.toml: pin.x (line 19): missing \"type\"");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\ntype = \"text\"\n")),
            "t.toml: pin.x (line 19): needs exactly one source: \"from\" or \"concat\"");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"text\"\n"
                                  "separator = \" \"\n")),
            "t.toml: pin.x (line 23): \"separator\" is only allowed with \"concat\"");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"text\"\n"
                                  "trim = \"yes\"\n")),
            "t.toml: pin.x (line 23): \"trim\" must be true or false");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"title\"\ntype = \"text\"\n"
                                  "null_if = \"Untitled\"\n")),
            "t.toml: pin.x (line 23): \"null_if\" must be an array of strings");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"x\"\nfrom = \"follower_count\"\n"
                                  "type = \"integer\"\nparse = \"suffix\"\n")),
            "t.toml: pin.x (line 23): \"parse\" must be \"count_suffix\" (the only parser)");
  EXPECT_EQ(ErrorOf(WithPinColumn("name = \"Title\"\nfrom = \"title\"\ntype = \"text\"\n")),
            "t.toml: pin.columns[1] (line 20): \"name\" must be a lowercase SQL identifier "
            "([a-z_][a-z0-9_]*)");
  EXPECT_EQ(ErrorOf(WithPinColumn("from = \"title\"\ntype = \"text\"\n")),
            "t.toml: pin.columns[1] (line 19): missing \"name\"");
}

TEST(TransformSpecTest, KindLevelErrors) {
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[stream]\nx = 1\n"),
            "t.toml: stream (line 19): unknown record kind (expected pin, geo or user)");
  EXPECT_EQ(ErrorOf("[pin]\ntable = \"p\"\ncolumns = []\n"),
            "t.toml: pin (line 3): needs a non-empty array of [[pin.columns]] tables");
  EXPECT_EQ(ErrorOf("[pin]\ncolumns = []\n"),
            "t.toml: pin (line 1): missing \"table\" (the output table name)");
  EXPECT_EQ(ErrorOf("[pin]\ntable = \"p\"\ndedup = \"ind\"\n"),
            "t.toml: pin.dedup (line 3): unknown key (allowed: table, columns, dedup_key, "
            "drop_if_null)");
  std::string text(kMinimal);
  // Kind-level keys go before the first [[pin.columns]] (TOML puts later keys into that table).
  text.insert(text.find("[[pin.columns]]"), "dedup_key = \"uid\"\n");
  EXPECT_EQ(ErrorOf(text), "t.toml: pin (line 3): \"dedup_key\" names no column of p: \"uid\"");
  text = kMinimal;
  text.insert(text.find("[[pin.columns]]"), "drop_if_null = [\"follower_count\"]\n");
  EXPECT_EQ(ErrorOf(text),
            "t.toml: pin (line 3): \"drop_if_null\" names no column of p: \"follower_count\"");
  text = kMinimal;
  text.erase(text.find("[user]"));
  EXPECT_EQ(ErrorOf(text), "t.toml: user: missing table [user]");
  text = kMinimal;
  text.replace(text.find("table = \"g\""), 11, "table = \"p\"");
  EXPECT_EQ(ErrorOf(text), "t.toml: geo: table \"p\" is also the table of pin");
}

TEST(TransformSpecTest, FromFileMissing) {
  StatusOr<std::shared_ptr<const Transform>> t =
      Transform::FromFile("/nonexistent/pinpipe/rules.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(t.status().message(), "cannot open transform file /nonexistent/pinpipe/rules.toml");
}

TEST(TransformSpecTest, FromFileReadsTheDefault) {
  StatusOr<std::shared_ptr<const Transform>> t =
      Transform::FromFile(std::string(PINPIPE_SOURCE_DIR) + "/transforms/pinterest.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->CreateTableSql(core::RecordKind::kPin),
            Transform::Default()->CreateTableSql(core::RecordKind::kPin));
}

}  // namespace
}  // namespace pinpipe::transform
