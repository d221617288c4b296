// S3Store against an in-process fake S3 server (pinpipe's own http::Server on loopback): the
// paths a real server rarely takes on demand — 503 SlowDown then success, retries giving up,
// a conditional PUT whose first answer was lost, a failing part that must abort the upload.
// The fake checks every request's SigV4 signature by recomputing it from what arrived, so these
// tests also prove that the client sends exactly what it signs (encoded keys, queries, headers).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <mutex>

#include "http/server.h"
#include "lake/internal/crypto.h"
#include "lake/internal/xml.h"
#include "lake/s3_store.h"
#include "lake/sigv4.h"
#include "testing/status_matchers.h"

namespace pinpipe::lake {
namespace {

constexpr char kAccessKey[] = "FAKEACCESS";
constexpr char kSecret[] = "fake/secret+key";

struct Recorded {
  std::string method;
  std::string target;
};

// What the fake does with the next request: answer `response` instead of serving it, after
// serving it first when `apply_first` (the "answer lost after the write happened" case).
struct Fault {
  int status = 503;
  std::string code = "SlowDown";
  bool apply_first = false;
};

class FakeS3 {
 public:
  FakeS3() {
    http::ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<http::Server>(
        options,
        [this](const http::Request& req, http::Responder respond) { respond(Handle(req)); });
    const Status started = server_->Start();
    PINPIPE_CHECK(started.ok()) << started.ToString();
  }
  ~FakeS3() { server_->Stop(); }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  void InjectFaults(std::vector<Fault> faults) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.assign(faults.begin(), faults.end());
  }
  // Faults only for requests whose query contains `query_part` (e.g. "partNumber=2").
  void FailRequestsMatching(std::string query_part, Fault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    match_fault_ = std::make_pair(std::move(query_part), fault);
  }
  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> signature_failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return signature_failures_;
  }
  void ClearSignatureFailures() {
    std::lock_guard<std::mutex> lock(mu_);
    signature_failures_.clear();
  }
  std::map<std::string, std::string> objects() const {
    std::lock_guard<std::mutex> lock(mu_);
    return objects_;
  }
  void SetObject(const std::string& key, const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[key] = bytes;
  }
  size_t open_uploads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return uploads_.size();
  }

 private:
  static http::Response Xml(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.content_type = "application/xml";
    r.body = std::move(body);
    return r;
  }
  static http::Response Error(int status, const std::string& code) {
    return Xml(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                           "</Code><Message>fake " + code +
                           "</Message><RequestId>FAKE1</RequestId></Error>");
  }

  static std::map<std::string, std::string> ParseQuery(std::string_view query) {
    std::map<std::string, std::string> out;
    size_t start = 0;
    while (start < query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string_view::npos) amp = query.size();
      const std::string_view pair = query.substr(start, amp - start);
      const size_t eq = pair.find('=');
      std::string name, value;
      UriDecode(pair.substr(0, eq), &name);
      if (eq != std::string_view::npos) UriDecode(pair.substr(eq + 1), &value);
      out[name] = value;
      start = amp + 1;
    }
    return out;
  }

  // Recomputes the signature from the request as received. Empty when it matches.
  static std::string CheckSignature(const http::Request& req) {
    const std::string_view authz = req.Header("Authorization");
    const size_t sh = authz.find("SignedHeaders=");
    const size_t sig = authz.find("Signature=");
    if (sh == std::string_view::npos || sig == std::string_view::npos) return "no Authorization";
    std::string_view signed_headers = authz.substr(sh + 14);
    signed_headers = signed_headers.substr(0, signed_headers.find(','));
    SigV4Request sreq;
    sreq.method = std::string(req.method);
    if (!UriDecode(req.path, &sreq.path)) return "bad path encoding";
    for (const auto& [k, v] : ParseQuery(req.query)) sreq.query.emplace_back(k, v);
    size_t start = 0;
    while (start <= signed_headers.size()) {
      size_t semi = signed_headers.find(';', start);
      if (semi == std::string_view::npos) semi = signed_headers.size();
      const std::string name(signed_headers.substr(start, semi - start));
      sreq.headers.emplace_back(name, std::string(req.Header(name)));
      start = semi + 1;
    }
    sreq.payload_hash = std::string(req.Header("x-amz-content-sha256"));
    if (sreq.payload_hash != internal::Sha256Hex(req.body)) return "payload hash mismatch";
    const std::string amz_date(req.Header("x-amz-date"));
    const SigV4Signer signer({kAccessKey, kSecret, ""}, "us-east-1", "s3");
    const std::string expected = signer.Authorization(sreq, amz_date);
    if (expected != authz) return "signature mismatch: expected " + expected;
    return {};
  }

  http::Response Handle(const http::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back({std::string(req.method), std::string(req.target)});
    if (std::string bad = CheckSignature(req); !bad.empty()) {
      signature_failures_.push_back(std::string(req.method) + " " + std::string(req.target) + ": " +
                                    bad);
      return Error(403, "SignatureDoesNotMatch");
    }
    std::optional<Fault> fault;
    if (!faults_.empty()) {
      fault = faults_.front();
      faults_.pop_front();
    } else if (match_fault_ && req.query.find(match_fault_->first) != std::string_view::npos) {
      fault = match_fault_->second;
    }
    if (fault && !fault->apply_first) return Error(fault->status, fault->code);
    http::Response response = Serve(req);
    if (fault) return Error(fault->status, fault->code);
    return response;
  }

  // A tiny path-style S3: bucket "bkt" only.
  http::Response Serve(const http::Request& req) {
    std::string path;
    UriDecode(req.path, &path);
    if (!path.starts_with("/bkt")) return Error(404, "NoSuchBucket");
    const std::string key = path.size() > 5 ? path.substr(5) : "";
    const auto query = ParseQuery(req.query);
    if (key.empty() && req.method == "GET" && query.count("list-type")) return List(query);
    if (req.method == "POST" && query.count("uploads")) {
      const std::string id = "upload-" + std::to_string(++next_upload_);
      uploads_[id] = {};
      return Xml(200, "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>" + key +
                          "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
    }
    if (query.count("uploadId")) {
      auto upload = uploads_.find(query.at("uploadId"));
      if (upload == uploads_.end()) return Error(404, "NoSuchUpload");
      if (req.method == "PUT") {
        upload->second[std::stoi(query.at("partNumber"))] = std::string(req.body);
        http::Response r;
        r.headers.emplace_back("ETag", "\"" + internal::Md5Hex(req.body) + "\"");
        return r;
      }
      if (req.method == "DELETE") {
        uploads_.erase(upload);
        http::Response r;
        r.status = 204;
        return r;
      }
      if (req.method == "POST") {
        if (req.Header("If-None-Match") == "*" && objects_.count(key)) {
          return Error(412, "PreconditionFailed");
        }
        std::string all;
        for (const auto& [n, bytes] : upload->second) all += bytes;
        objects_[key] = all;
        uploads_.erase(upload);
        return Xml(200, "<CompleteMultipartUploadResult><Key>" + key +
                            "</Key></CompleteMultipartUploadResult>");
      }
    }
    if (req.method == "PUT") {
      if (req.Header("If-None-Match") == "*" && objects_.count(key)) {
        return Error(412, "PreconditionFailed");
      }
      objects_[key] = std::string(req.body);
      http::Response r;
      r.headers.emplace_back("ETag", "\"" + internal::Md5Hex(req.body) + "\"");
      return r;
    }
    auto it = objects_.find(key);
    if (req.method == "DELETE") {
      if (it != objects_.end()) objects_.erase(it);
      http::Response r;
      r.status = 204;
      return r;
    }
    if (it == objects_.end()) {
      if (req.method == "HEAD") {
        http::Response r;
        r.status = 404;
        return r;
      }
      return Error(404, "NoSuchKey");
    }
    http::Response r;
    r.content_type = "application/octet-stream";
    r.body = it->second;  // HEAD: the server sends the length only
    r.headers.emplace_back("ETag", "\"" + internal::Md5Hex(it->second) + "\"");
    r.headers.emplace_back("Last-Modified", "Fri, 24 May 2013 00:00:00 GMT");
    return r;
  }

  http::Response List(const std::map<std::string, std::string>& query) {
    const std::string prefix = query.count("prefix") ? query.at("prefix") : "";
    const size_t max_keys = std::stoul(query.at("max-keys"));
    auto it = query.count("continuation-token")
                  ? objects_.upper_bound(query.at("continuation-token"))
                  : objects_.lower_bound(prefix);
    std::string body = "<ListBucketResult>";
    size_t n = 0;
    std::string last;
    for (; it != objects_.end() && it->first.starts_with(prefix) && n < max_keys; ++it, ++n) {
      body += "<Contents><Key>" + internal::XmlEscape(it->first) +
              "</Key><LastModified>2013-05-24T00:00:00.000Z</LastModified><ETag>&quot;" +
              internal::Md5Hex(it->second) + "&quot;</ETag><Size>" +
              std::to_string(it->second.size()) + "</Size></Contents>";
      last = it->first;
    }
    const bool truncated = it != objects_.end() && it->first.starts_with(prefix);
    body += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated)
      body += "<NextContinuationToken>" + internal::XmlEscape(last) + "</NextContinuationToken>";
    body += "</ListBucketResult>";
    return Xml(200, body);
  }

  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
  std::vector<std::string> signature_failures_;
  std::deque<Fault> faults_;
  std::optional<std::pair<std::string, Fault>> match_fault_;
  std::map<std::string, std::string> objects_;
  std::map<std::string, std::map<int, std::string>> uploads_;
  int next_upload_ = 0;
};

class S3FakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.endpoint = fake_.endpoint();
    options_.region = "us-east-1";
    options_.access_key_id = kAccessKey;
    options_.secret_access_key = kSecret;
    options_.max_attempts = 4;
    options_.initial_backoff = std::chrono::milliseconds(1);
    options_.max_backoff = std::chrono::milliseconds(5);
    options_.part_size = 5 * 1024 * 1024;
    auto store = S3Store::Open("bkt", "pre/", options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    EXPECT_TRUE(fake_.signature_failures().empty())
        << ::testing::PrintToString(fake_.signature_failures());
  }

  size_t CountRequests(std::string_view method, std::string_view target_part = "") const {
    size_t n = 0;
    for (const Recorded& r : fake_.requests()) {
      if (r.method == method && r.target.find(target_part) != std::string::npos) ++n;
    }
    return n;
  }

  FakeS3 fake_;
  S3Options options_;
  std::unique_ptr<S3Store> store_;
};

TEST_F(S3FakeServerTest, RoundTripsKeysWithSpecialCharacters) {
  const std::vector<std::string> keys = {"plain", "with space/and+plus=eq", "ünï/ሴ/😀.txt",
                                         "sym!$&'()*,;:@~", "per%cent"};
  for (const std::string& key : keys) {
    ASSERT_TRUE(store_->Put(key, "v:" + key).ok()) << key;
  }
  for (const std::string& key : keys) {
    auto got = store_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, "v:" + key);
    auto head = store_->Head(key);
    ASSERT_TRUE(head.ok() && head->has_value()) << key;
    EXPECT_EQ((*head)->key, key);
    EXPECT_EQ((*head)->etag, internal::Md5Hex("v:" + key));
  }
  EXPECT_EQ(fake_.objects().count("pre/with space/and+plus=eq"), 1u);
  // The path goes out percent-encoded exactly once.
  EXPECT_EQ(CountRequests("PUT", "/bkt/pre/with%20space/and%2Bplus%3Deq"), 1u);
}

TEST_F(S3FakeServerTest, RetriesSlowDownThenSucceeds) {
  fake_.InjectFaults({{503, "SlowDown"}, {500, "InternalError"}});
  const uint64_t before = store_->requests_sent();
  ASSERT_TRUE(store_->Put("k", "v").ok());
  EXPECT_EQ(CountRequests("PUT"), 3u);
  EXPECT_EQ(store_->requests_sent() - before, 3u);  // every attempt counts
  EXPECT_EQ(fake_.objects().at("pre/k"), "v");
}

TEST_F(S3FakeServerTest, GivesUpAfterMaxAttemptsWithTheServersMessage) {
  fake_.InjectFaults({{503, "SlowDown"},
                      {503, "SlowDown"},
                      {503, "SlowDown"},
                      {503, "SlowDown"},
                      {503, "SlowDown"}});
  const auto got = store_->Get("k");
  EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(got.status().message(),
            "GetObject pre/k: HTTP 503 SlowDown: fake SlowDown (request id FAKE1)");
  EXPECT_EQ(CountRequests("GET"), 4u);  // max_attempts
}

TEST_F(S3FakeServerTest, PermanentErrorsAreNotRetried) {
  fake_.InjectFaults({{403, "AccessDenied"}});
  EXPECT_THAT(store_->Put("k", "v"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(CountRequests("PUT"), 1u);
  EXPECT_THAT(store_->Get("missing"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(CountRequests("GET"), 1u);
  auto head = store_->Head("missing");
  ASSERT_TRUE(head.ok());
  EXPECT_FALSE(head->has_value());
}

TEST_F(S3FakeServerTest, ConditionalPutWhoseAnswerWasLostStillSucceeds) {
  PutOptions create;
  create.if_none_match = true;
  // The first attempt stores the object but its answer is a 500; the retry then sees 412.
  fake_.InjectFaults({{500, "InternalError", /*apply_first=*/true}});
  ASSERT_TRUE(store_->Put("once", "mine", create).ok());
  EXPECT_EQ(CountRequests("PUT"), 2u);
  EXPECT_EQ(CountRequests("HEAD"), 1u);
  // A real competitor's object is still AlreadyExists.
  fake_.SetObject("pre/taken", "theirs");
  fake_.InjectFaults({{500, "InternalError"}});
  EXPECT_THAT(store_->Put("taken", "mine", create), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(fake_.objects().at("pre/taken"), "theirs");
}

TEST_F(S3FakeServerTest, ListFollowsContinuationTokens) {
  for (int i = 0; i < 23; ++i) {
    fake_.SetObject("pre/p/" + std::to_string(100 + i), std::string(static_cast<size_t>(i), 'x'));
  }
  fake_.SetObject("pre/q/other", "x");
  fake_.SetObject("elsewhere", "x");
  store_->set_list_page_size(5);
  auto list = store_->List("p/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 23u);
  EXPECT_EQ((*list)[0].key, "p/100");
  EXPECT_EQ((*list)[22].key, "p/122");
  EXPECT_EQ((*list)[22].size, 22u);
  EXPECT_EQ(CountRequests("GET", "list-type=2"), 5u);
  auto all = store_->List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 24u);
}

TEST_F(S3FakeServerTest, MultipartUploadSplitsIntoExactParts) {
  auto writer = store_->NewWriter("big", {});
  ASSERT_TRUE(writer.ok());
  std::string expected;
  for (int i = 0; i < 12; ++i) {
    const std::string chunk(1 << 20, static_cast<char>('a' + i));
    ASSERT_TRUE((*writer)->Append(chunk).ok());
    expected += chunk;
  }
  EXPECT_EQ(fake_.objects().count("pre/big"), 0u);  // not visible before Close
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(fake_.objects().at("pre/big"), expected);
  EXPECT_EQ(CountRequests("PUT", "partNumber="), 3u);  // 5 MiB + 5 MiB + 2 MiB
  EXPECT_EQ(CountRequests("POST", "uploads"), 1u);
  // What the store says it sent is what the server saw (create, 3 parts, complete, ...).
  EXPECT_EQ(store_->requests_sent(), fake_.requests().size());
  EXPECT_EQ(fake_.open_uploads(), 0u);
}

TEST_F(S3FakeServerTest, SmallWriterIsOnePut) {
  auto writer = store_->NewWriter("small", {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("abc").ok());
  ASSERT_TRUE((*writer)->Append(std::string(5 * 1024 * 1024 - 3, 'd')).ok());  // exactly one part
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(CountRequests("POST"), 0u);
  EXPECT_EQ(fake_.objects().at("pre/small").size(), 5u * 1024 * 1024);
}

TEST_F(S3FakeServerTest, FailedPartAbortsTheUpload) {
  fake_.FailRequestsMatching("partNumber=2", {400, "InvalidPart"});
  auto writer = store_->NewWriter("big", {});
  ASSERT_TRUE(writer.ok());
  Status failed;
  for (int i = 0; i < 12 && failed.ok(); ++i) failed = (*writer)->Append(std::string(1 << 20, 'x'));
  EXPECT_THAT(failed, StatusIs(StatusCode::kInvalidArgument)) << failed.ToString();
  EXPECT_THAT((*writer)->Append("more"), StatusIs(StatusCode::kInvalidArgument));  // stays failed
  EXPECT_THAT((*writer)->Close(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(CountRequests("DELETE", "uploadId="), 1u);
  EXPECT_EQ(fake_.open_uploads(), 0u);
  EXPECT_EQ(fake_.objects().count("pre/big"), 0u);
}

TEST_F(S3FakeServerTest, WriterDestroyedWithoutCloseAbortsTheUpload) {
  {
    auto writer = store_->NewWriter("big", {});
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 7; ++i) ASSERT_TRUE((*writer)->Append(std::string(1 << 20, 'x')).ok());
    EXPECT_EQ(fake_.open_uploads(), 1u);
  }
  EXPECT_EQ(fake_.open_uploads(), 0u);
  EXPECT_EQ(fake_.objects().count("pre/big"), 0u);
}

TEST_F(S3FakeServerTest, ConditionalMultipartChecksEarlyAndAtCompletion) {
  PutOptions create;
  create.if_none_match = true;
  fake_.SetObject("pre/exists", "x");
  auto early = store_->NewWriter("exists", create);
  ASSERT_TRUE(early.ok());
  Status s;
  for (int i = 0; i < 6 && s.ok(); ++i) s = (*early)->Append(std::string(1 << 20, 'x'));
  EXPECT_THAT(s, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(CountRequests("POST", "uploads"), 0u);  // failed before uploading anything

  // Two writers race: both start before either completes; the second Close loses.
  auto first = store_->NewWriter("race", create);
  auto second = store_->NewWriter("race", create);
  ASSERT_TRUE(first.ok() && second.ok());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE((*first)->Append(std::string(1 << 20, '1')).ok());
    ASSERT_TRUE((*second)->Append(std::string(1 << 20, '2')).ok());
  }
  EXPECT_TRUE((*first)->Close().ok());
  EXPECT_THAT((*second)->Close(), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(fake_.objects().at("pre/race"), std::string(6 << 20, '1'));
  EXPECT_EQ(fake_.open_uploads(), 0u);
}

TEST_F(S3FakeServerTest, WrongSecretIsUnauthenticated) {
  S3Options wrong = options_;
  wrong.secret_access_key = "not the secret";
  auto store = S3Store::Open("bkt", "", wrong);
  ASSERT_TRUE(store.ok());
  const Status s = (*store)->Put("k", "v");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.ToString();
  EXPECT_EQ(fake_.signature_failures().size(), 1u);
  fake_.ClearSignatureFailures();  // expected here; TearDown checks for unexpected ones
}

}  // namespace
}  // namespace pinpipe::lake
