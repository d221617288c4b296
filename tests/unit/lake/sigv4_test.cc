// SigV4 against AWS's published test suite (tests/data/sigv4/, one folder per case) and the S3
// examples of AWS's "Authenticating Requests: Using the Authorization Header" documentation.
#include "lake/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/hex.h"
#include "lake/internal/crypto.h"

namespace pinpipe::lake {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a suite .req file: "METHOD /path?query HTTP/1.1", "Name:value" lines, blank, body.
SigV4Request ParseReq(const std::string& text, std::string* body) {
  SigV4Request req;
  const size_t blank = text.find("\n\n");
  const std::string head = text.substr(0, blank);
  *body = blank == std::string::npos ? std::string() : text.substr(blank + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  req.method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string pair = query.substr(start, amp - start);
      const size_t eq = pair.find('=');
      std::string name, value;
      EXPECT_TRUE(UriDecode(pair.substr(0, eq), &name));
      if (eq != std::string::npos) {
        EXPECT_TRUE(UriDecode(pair.substr(eq + 1), &value));
      }
      req.query.emplace_back(name, value);
      start = amp + 1;
    }
  }
  while (std::getline(lines, line)) {
    const size_t colon = line.find(':');
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  req.payload_hash = internal::Sha256Hex(*body);
  return req;
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> names;
  for (const auto& entry :
       fs::directory_iterator(fs::path(PINPIPE_SOURCE_DIR) / "tests/data/sigv4")) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class SigV4SuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4SuiteTest, MatchesPublishedVector) {
  const std::string& name = GetParam();
  const fs::path dir = fs::path(PINPIPE_SOURCE_DIR) / "tests/data/sigv4" / name;
  std::string body;
  const SigV4Request req = ParseReq(ReadFile(dir / (name + ".req")), &body);
  const SigV4Signer signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                           "us-east-1", "service");
  const std::string amz_date = "20150830T123600Z";

  const std::string creq = SigV4Signer::CanonicalRequest(req);
  EXPECT_EQ(creq, ReadFile(dir / (name + ".creq")));
  const std::string sts = signer.StringToSign(amz_date, creq);
  EXPECT_EQ(sts, ReadFile(dir / (name + ".sts")));
  EXPECT_EQ(signer.Authorization(req, amz_date), ReadFile(dir / (name + ".authz")));
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4SuiteTest, ::testing::ValuesIn(SuiteCases()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(SigV4SuiteTest, SuiteIsThere) {
  // A missing data folder must fail loudly, not instantiate zero cases.
  EXPECT_GE(SuiteCases().size(), 20u);
}

// From AWS's "Examples of how to derive a signing key for Signature Version 4".
TEST(SigV4SignerTest, DerivesDocumentedSigningKey) {
  const SigV4Signer signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                           "us-east-1", "iam");
  EXPECT_EQ(core::HexEncode(signer.SigningKey("20120215T000000Z")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// The S3 examples: bucket "examplebucket", key AKIAIOSFODNN7EXAMPLE, 24 May 2013, us-east-1.
class S3ExampleTest : public ::testing::Test {
 protected:
  const SigV4Signer signer_{
      {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""}, "us-east-1", "s3"};
  const std::string amz_date_ = "20130524T000000Z";
  const std::chrono::system_clock::time_point when_ =
      std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z

  static std::string Header(const SigV4Request& req, std::string_view name) {
    for (const auto& [k, v] : req.headers) {
      if (k == name) return v;
    }
    return {};
  }
};

TEST_F(S3ExampleTest, GetObjectWithRange) {
  SigV4Request req;
  req.method = "GET";
  req.path = "/test.txt";
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  req.payload_hash = std::string(kEmptyPayloadSha256);
  EXPECT_EQ(SigV4Signer::AmzDate(when_), amz_date_);
  signer_.SignS3Request(req, when_);

  SigV4Request unsigned_req = req;
  unsigned_req.headers.pop_back();  // Authorization itself is not signed
  const std::string creq = SigV4Signer::CanonicalRequest(unsigned_req);
  EXPECT_EQ(
      creq,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(signer_.StringToSign(amz_date_, creq),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Header(req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_F(S3ExampleTest, PutObjectEncodesDollarInKey) {
  SigV4Request req;
  req.method = "PUT";
  req.path = "/test$file.text";
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  req.payload_hash = internal::Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(req.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  signer_.SignS3Request(req, when_);
  EXPECT_EQ(Header(req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_F(S3ExampleTest, GetBucketLifecycleWithValuelessQuery) {
  SigV4Request req;
  req.method = "GET";
  req.path = "/";
  req.query = {{"lifecycle", ""}};
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  req.payload_hash = std::string(kEmptyPayloadSha256);
  signer_.SignS3Request(req, when_);
  EXPECT_EQ(Header(req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_F(S3ExampleTest, ListObjectsSortsQuery) {
  SigV4Request req;
  req.method = "GET";
  req.path = "/";
  req.query = {{"prefix", "J"}, {"max-keys", "2"}};
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  req.payload_hash = std::string(kEmptyPayloadSha256);
  signer_.SignS3Request(req, when_);
  EXPECT_EQ(Header(req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_F(S3ExampleTest, SessionTokenIsSentAndSigned) {
  const SigV4Signer with_token({"AKIAIOSFODNN7EXAMPLE", "secret", "TOKEN/+="}, "us-east-1", "s3");
  SigV4Request req;
  req.method = "GET";
  req.path = "/b/k";
  req.headers = {{"Host", "127.0.0.1:9000"}};
  req.payload_hash = std::string(kEmptyPayloadSha256);
  with_token.SignS3Request(req, when_);
  EXPECT_EQ(Header(req, "x-amz-security-token"), "TOKEN/+=");
  EXPECT_NE(Header(req, "Authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-security-token,"),
            std::string::npos)
      << Header(req, "Authorization");
}

TEST(UriEncodeTest, S3KeyRules) {
  EXPECT_EQ(UriEncode("a b+c=d/e", true), "a%20b%2Bc%3Dd/e");
  EXPECT_EQ(UriEncode("a b+c=d/e", false), "a%20b%2Bc%3Dd%2Fe");
  EXPECT_EQ(UriEncode("-._~AZaz09", false), "-._~AZaz09");
  EXPECT_EQ(UriEncode("\xc3\xbc*%$", true), "%C3%BC%2A%25%24");
  std::string decoded;
  EXPECT_TRUE(UriDecode("a%20b%2Bc+%e1%88%b4", &decoded));
  EXPECT_EQ(decoded, "a b+c+\xe1\x88\xb4");
  EXPECT_FALSE(UriDecode("%4", &decoded));
  EXPECT_FALSE(UriDecode("%zz", &decoded));
}

TEST(SigV4SignerTest, CanonicalPathIsEncodedOnceWithoutNormalization) {
  SigV4Request req;
  req.method = "GET";
  req.path = "/bucket/a%2F/./x y";
  req.headers = {{"Host", "h"}};
  req.payload_hash = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(SigV4Signer::CanonicalRequest(req),
            "GET\n/bucket/a%252F/./x%20y\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD");
}

}  // namespace
}  // namespace pinpipe::lake
