#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pg/sqlstate.h"
#include "testing/status_matchers.h"

namespace pinpipe::pg {
namespace {

TEST(SqlStateTest, ConnectionClassIsUnavailable) {
  EXPECT_EQ(StatusCodeForSqlState("08006"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("08001"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("08P01"), StatusCode::kUnavailable);
}

TEST(SqlStateTest, SerializationFailureAndDeadlockAreRetriable) {
  EXPECT_EQ(StatusCodeForSqlState("40001"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("40P01"), StatusCode::kUnavailable);
  EXPECT_TRUE(StatusFromSqlState("40P01", "deadlock detected").retriable());
}

TEST(SqlStateTest, IntegrityViolations) {
  EXPECT_EQ(StatusCodeForSqlState("23505"), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlState("23502"), StatusCode::kInvalidArgument);  // not_null
  EXPECT_EQ(StatusCodeForSqlState("23503"), StatusCode::kInvalidArgument);  // foreign_key
}

TEST(SqlStateTest, SyntaxAndAccessRules) {
  EXPECT_EQ(StatusCodeForSqlState("42601"), StatusCode::kInvalidArgument);  // syntax_error
  EXPECT_EQ(StatusCodeForSqlState("42P01"), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlState("42703"), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlState("42P07"), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlState("42P04"), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlState("3D000"), StatusCode::kNotFound);
}

TEST(SqlStateTest, ShutdownAndResources) {
  EXPECT_EQ(StatusCodeForSqlState("57P01"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("57P03"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlState("53100"), StatusCode::kResourceExhausted);  // disk_full
  EXPECT_EQ(StatusCodeForSqlState("53200"), StatusCode::kResourceExhausted);  // out_of_memory
}

TEST(SqlStateTest, UnknownAndMalformedAreInternal) {
  EXPECT_EQ(StatusCodeForSqlState("XX000"), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForSqlState(""), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForSqlState("0800"), StatusCode::kInternal);
}

TEST(SqlStateTest, MessageCarriesTextAndCode) {
  Status status = StatusFromSqlState("42P01", "ERROR:  relation \"x\" does not exist\n");
  EXPECT_THAT(status, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(status.message(), "ERROR:  relation \"x\" does not exist (SQLSTATE 42P01)");
}

}  // namespace
}  // namespace pinpipe::pg
