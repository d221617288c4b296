#include "lake/s3_responses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake/internal/xml.h"
#include "lake/s3_errors.h"
#include "testing/status_matchers.h"

namespace pinpipe::lake {
namespace {

using std::chrono::system_clock;

TEST(XmlTest, ParsesElementsEntitiesCdataAndNamespaces) {
  auto root = internal::ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><s3:Root xmlns:s3=\"x\" a='1>2'>"
      "<Key>a &amp; b &lt;&gt; &quot;&apos; &#65;&#x1234;</Key><Empty/><E2 />"
      "<Data><![CDATA[<raw & text>]]></Data></s3:Root>");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->name, "Root");
  EXPECT_EQ(root->ChildText("Key"), "a & b <> \"' A\xe1\x88\xb4");
  ASSERT_NE(root->Child("Empty"), nullptr);
  ASSERT_NE(root->Child("E2"), nullptr);
  EXPECT_EQ(root->ChildText("Data"), "<raw & text>");
  EXPECT_EQ(root->ChildText("Missing"), "");
}

TEST(XmlTest, RejectsMalformedDocuments) {
  for (const char* doc :
       {"", "not xml", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#xZZ;</a>", "<a><b></a>",
        "<a attr=\"unterminated></a>", "<>x</>", "<s3:></s3:>", "<a>&#x110000;</a>"}) {
    EXPECT_FALSE(internal::ParseXml(doc).has_value()) << doc;
  }
  // Deep nesting is bounded, not a stack overflow.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<a>";
  EXPECT_FALSE(internal::ParseXml(deep).has_value());
}

TEST(XmlTest, EscapeRoundTrips) {
  const std::string text = "\"etag\" & <tag> 'q'";
  auto root = internal::ParseXml("<a>" + internal::XmlEscape(text) + "</a>");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->text, text);
}

TEST(S3ErrorTest, ParsesErrorDocument) {
  const auto error = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
      "specified key does not exist.</Message><Key>a b</Key><RequestId>4442587FB7D0A2F9</RequestId>"
      "</Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "The specified key does not exist.");
  EXPECT_EQ(error->request_id, "4442587FB7D0A2F9");
  EXPECT_FALSE(ParseS3Error("").has_value());
  EXPECT_FALSE(ParseS3Error("<ListBucketResult/>").has_value());
  EXPECT_FALSE(ParseS3Error("<html>502 Bad Gateway</html>").has_value());
}

TEST(S3ErrorTest, MapsStatusAndCodeToRetriableOrPermanent) {
  const auto body = [](std::string_view code) {
    return "<Error><Code>" + std::string(code) +
           "</Code><Message>msg</Message>"
           "<RequestId>R1</RequestId></Error>";
  };
  EXPECT_TRUE(StatusFromS3(200, "", "Op").ok());
  EXPECT_TRUE(StatusFromS3(204, "", "Op").ok());
  const Status denied = StatusFromS3(403, body("SignatureDoesNotMatch"), "GetObject k");
  EXPECT_THAT(denied, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(denied.message(), "GetObject k: HTTP 403 SignatureDoesNotMatch: msg (request id R1)");
  EXPECT_FALSE(denied.retriable());
  EXPECT_THAT(StatusFromS3(403, body("AccessDenied"), "Op"),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(StatusFromS3(404, body("NoSuchKey"), "Op"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(StatusFromS3(404, body("NoSuchBucket"), "Op"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(StatusFromS3(412, body("PreconditionFailed"), "Op"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(StatusFromS3(400, body("InvalidArgument"), "Op"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(StatusFromS3(400, body("EntityTooSmall"), "Op"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(StatusFromS3(501, body("NotImplemented"), "Op"),
              StatusIs(StatusCode::kFailedPrecondition));
  // Retriable ones.
  for (const auto& [status, code] :
       std::vector<std::pair<int, std::string>>{{500, "InternalError"},
                                                {503, "SlowDown"},
                                                {503, "ServiceUnavailable"},
                                                {502, ""},
                                                {504, ""},
                                                {429, "TooManyRequests"},
                                                {400, "RequestTimeout"},
                                                {409, "ConditionalRequestConflict"}}) {
    const std::string b = code.empty() ? "<html>gateway</html>" : body(code);
    EXPECT_TRUE(StatusFromS3(status, b, "Op").retriable()) << status << " " << code;
    EXPECT_TRUE(IsRetriableS3(status, b)) << status << " " << code;
  }
  EXPECT_EQ(StatusFromS3(503, body("SlowDown"), "Op").message(),
            "Op: HTTP 503 SlowDown: msg (request id R1)");
  EXPECT_EQ(StatusFromS3(502, "<html>gateway</html>", "Op").message(),
            "Op: HTTP 502: <html>gateway</html>");
  for (int status : {400, 403, 404, 409, 412}) {
    EXPECT_FALSE(IsRetriableS3(status, body("Whatever"))) << status;
  }
  EXPECT_FALSE(IsRetriableS3(200, ""));
}

TEST(S3ErrorTest, MapsCurlErrors) {
  EXPECT_THAT(StatusFromCurl(7 /*CURLE_COULDNT_CONNECT*/, "refused", "Op"),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromCurl(28 /*CURLE_OPERATION_TIMEDOUT*/, "", "Op"),
              StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(StatusFromCurl(56 /*CURLE_RECV_ERROR*/, "", "Op"),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromCurl(60 /*CURLE_PEER_FAILED_VERIFICATION*/, "", "Op"),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(StatusFromCurl(3 /*CURLE_URL_MALFORMAT*/, "", "Op"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(StatusFromCurl(7, "refused", "PutObject k").message().find("PutObject k: "),
            std::string::npos);
}

TEST(ListObjectsV2Test, ParsesPageWithEntitiesAndToken) {
  const auto page = ParseListObjectsV2(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>pinpipe</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
      "<IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a &amp; b.txt</Key><LastModified>2024-01-31T12:00:00.250Z</LastModified>"
      "<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>5</Size>"
      "<StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>p/\xc3\xbc+=</Key><LastModified>2024-01-31T12:00:01Z</LastModified>"
      "<ETag>\"abc-3\"</ETag><Size>12582912</Size></Contents>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a & b.txt");
  EXPECT_EQ(page->objects[0].size, 5u);
  EXPECT_EQ(page->objects[0].etag, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(page->objects[0].last_modified,
            system_clock::from_time_t(1706702400) + std::chrono::milliseconds(250));
  EXPECT_EQ(page->objects[1].key, "p/\xc3\xbc+=");
  EXPECT_EQ(page->objects[1].size, 12582912u);
  EXPECT_EQ(page->objects[1].etag, "abc-3");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  auto last = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->objects.empty());
  EXPECT_FALSE(last->truncated);
}

TEST(ListObjectsV2Test, RejectsBrokenPages) {
  EXPECT_THAT(ParseListObjectsV2("<Error><Code>X</Code></Error>"), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "</ListBucketResult>")
                  .status(),
              StatusIs(StatusCode::kInternal));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
                                 "</Contents></ListBucketResult>")
                  .status(),
              StatusIs(StatusCode::kInternal));
}

TEST(MultipartResponsesTest, ParsesUploadId) {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());
}

TEST(S3TimeTest, ParsesBothFormats) {
  EXPECT_EQ(ParseIso8601("2013-05-24T00:00:00.000Z"), system_clock::from_time_t(1369353600));
  EXPECT_EQ(ParseIso8601("2013-05-24T00:00:00Z"), system_clock::from_time_t(1369353600));
  EXPECT_FALSE(ParseIso8601("2013-05-24 00:00:00").has_value());
  EXPECT_FALSE(ParseIso8601("2013-13-24T00:00:00Z").has_value());
  EXPECT_EQ(ParseHttpDate("Fri, 24 May 2013 00:00:00 GMT"), system_clock::from_time_t(1369353600));
  EXPECT_FALSE(ParseHttpDate("Fri, 24 Foo 2013 00:00:00 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("yesterday").has_value());
  EXPECT_EQ(UnquoteEtag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("W/\"abc\""), "abc");
  EXPECT_EQ(UnquoteEtag("abc"), "abc");
}

}  // namespace
}  // namespace pinpipe::lake
