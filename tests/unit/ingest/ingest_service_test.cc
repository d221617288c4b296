#include "ingest/ingest_service.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <optional>

#include "testing/fake_producer.h"

namespace pinpipe::ingest {
namespace {

using ::pinpipe::testing::FakeProducer;

const std::string kPin =
    R"j({"index": 7528, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": "No Title Data Available", "description": "No description available Story format", "poster_name": "User Info Error", "follower_count": "User Info Error", "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e", "is_image_or_video": "multi-video(story page format)", "image_src": "Image src error.", "downloaded": 0, "save_location": "Local save in /data/mens-fashion", "category": "mens-fashion"})j";
const std::string kGeo =
    R"({"ind": 7528, "timestamp": "2020-08-28 03:52:47", "latitude": -89.9787, "longitude": -173.293, "country": "Albania"})";
const std::string kUser =
    R"({"ind": 7528, "first_name": "Abigail", "last_name": "Ali", "age": 20, "date_joined": "2015-10-24T11:23:51"})";

class IngestServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<IngestService> MakeService(IngestOptions options = {}) {
    return std::make_unique<IngestService>(std::move(options), &producer_, &registry_);
  }

  // Calls the handler; returns the answer if it was given (synchronously or after release).
  std::optional<http::Response> Call(IngestService& service, std::string method,
                                     std::string path, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    method_ = std::move(method);
    path_ = std::move(path);
    body_ = std::move(body);
    header_store_ = std::move(headers);
    http::Request req;
    req.method = method_;
    req.target = path_;
    req.path = path_;
    req.body = body_;
    for (auto& [n, v] : header_store_) req.headers.push_back({n, v});
    answer_.reset();
    service.Handle(req, [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }

  static std::string HeaderOf(const http::Response& r, std::string_view name) {
    for (auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }

  FakeProducer producer_;
  core::Registry registry_;
  std::string method_, path_, body_;
  std::vector<std::pair<std::string, std::string>> header_store_;
  std::optional<http::Response> answer_;
};

TEST_F(IngestServiceTest, AcceptedPinIsProducedByteForByteAndEchoed) {
  auto service = MakeService();
  auto r = Call(*service, "POST", "/pin/", kPin);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"unique_id\":\"fbe53c66-3442-4773-b19e-d3ec6f54dddf\""), std::string::npos);
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].topic, "pinterest");
  EXPECT_EQ(msgs[0].key, "7528");
  EXPECT_EQ(msgs[0].value, kPin);
}

TEST_F(IngestServiceTest, EachKindGoesToItsTopic) {
  auto service = MakeService();
  EXPECT_EQ(Call(*service, "POST", "/geo/", kGeo)->status, 200);
  EXPECT_EQ(Call(*service, "POST", "/user", kUser)->status, 200);
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].topic, "pinterest_geo");
  EXPECT_EQ(msgs[1].topic, "pinterest_user");
  EXPECT_EQ(msgs[1].key, "7528");
}

TEST_F(IngestServiceTest, InvalidRecordGets422InFastApiShapeAndIsNotProduced) {
  auto service = MakeService();
  std::string bad = kPin;
  bad.replace(bad.find("7528"), 4, "\"x\"");
  auto r = Call(*service, "POST", "/pin/", bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find(R"({"detail":[{"loc":["body","index"],)"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("type":"int_type")"), std::string::npos) << r->body;
  EXPECT_TRUE(producer_.messages().empty());
  EXPECT_NE(registry_.Render().find(
                R"(pinpipe_validation_failures_total{kind="pin",field="index",type="int_type"} 1)"),
            std::string::npos);
}

TEST_F(IngestServiceTest, MalformedJsonGets422JsonInvalid) {
  auto service = MakeService();
  auto r = Call(*service, "POST", "/pin/", "{'index': 1}");
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find(R"("loc":["body"])"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("json_invalid"), std::string::npos) << r->body;
}

TEST_F(IngestServiceTest, WrongMethodAndUnknownPath) {
  auto service = MakeService();
  auto r = Call(*service, "GET", "/pin/", "");
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(HeaderOf(*r, "Allow"), "POST");
  EXPECT_EQ(Call(*service, "POST", "/pins/", kPin)->status, 404);
  EXPECT_EQ(Call(*service, "POST", "/healthz", "")->status, 405);
}

TEST_F(IngestServiceTest, QueueFullAnswers503WithRetryAfter) {
  auto service = MakeService();
  producer_.FailProduceCalls(ResourceExhausted("producer queue full"));
  auto r = Call(*service, "POST", "/pin/", kPin);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
  EXPECT_NE(r->body.find("queue full"), std::string::npos);
}

TEST_F(IngestServiceTest, BrokersKnownDownAnswer503AtOnceWithoutProducing) {
  auto service = MakeService();
  producer_.SetBrokersUp(false);
  auto r = Call(*service, "POST", "/pin/", kPin);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
  EXPECT_EQ(Call(*service, "POST", "/batch/pin", kPin)->status, 503);
  EXPECT_TRUE(producer_.messages().empty());
  producer_.SetBrokersUp(true);
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin)->status, 200);
}

TEST_F(IngestServiceTest, DeliveryTimeoutAnswers503) {
  auto service = MakeService();
  producer_.FailDeliveries(DeadlineExceeded("message timed out"));
  auto r = Call(*service, "POST", "/pin/", kPin);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
}

TEST_F(IngestServiceTest, AnswersOnlyAfterDelivery) {
  auto service = MakeService();
  producer_.HoldDeliveries(true);
  EXPECT_FALSE(Call(*service, "POST", "/pin/", kPin));
  producer_.ReleaseDeliveries();
  ASSERT_TRUE(answer_);
  EXPECT_EQ(answer_->status, 200);
}

TEST_F(IngestServiceTest, BearerTokenGuardsIngestionOnly) {
  IngestOptions options;
  options.bearer_token = "s3cret";
  auto service = MakeService(options);
  auto r = Call(*service, "POST", "/pin/", kPin);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(HeaderOf(*r, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin, {{"Authorization", "Bearer wrong!"}})->status, 401);
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin, {{"Authorization", "bearer s3cret"}})->status, 200);
  EXPECT_EQ(Call(*service, "GET", "/healthz", "")->status, 200);
  EXPECT_EQ(producer_.messages().size(), 1u);
}

TEST_F(IngestServiceTest, RecordOverLimitGets413) {
  IngestOptions options;
  options.max_record_bytes = 100;
  auto service = MakeService(options);
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin)->status, 413);
}

TEST_F(IngestServiceTest, DrainingAnswers503) {
  auto service = MakeService();
  service->StartDraining();
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin)->status, 503);
}

TEST_F(IngestServiceTest, NdjsonBatchAnswersPerItem) {
  auto service = MakeService();
  std::string body = kPin + "\n{\"index\": 1}\n" + kPin + "\n";
  auto r = Call(*service, "POST", "/batch/pin", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"({"accepted":2,"rejected":1,"failed":0,"results":[{"position":0,"status":200},{"position":1,"status":422,"detail":[{"loc":["body",1,"unique_id"])"),
            std::string::npos)
      << r->body;
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].value, kPin);
  EXPECT_EQ(msgs[1].value, kPin);
}

TEST_F(IngestServiceTest, JsonArrayBatchKeepsItemBytes) {
  auto service = MakeService();
  auto r = Call(*service, "POST", "/batch/geo", "[" + kGeo + " ,\n " + kGeo + "]");
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"("accepted":2)"), std::string::npos) << r->body;
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].value, kGeo);
}

TEST_F(IngestServiceTest, BatchReportsFailedDeliveriesForRetry) {
  auto service = MakeService();
  producer_.FailProduceCalls(ResourceExhausted("producer queue full"), 1);
  auto r = Call(*service, "POST", "/batch/user", kUser + "\n" + kUser);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"("accepted":1,"rejected":0,"failed":1)"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"({"position":0,"status":503,"detail":"kafka: producer queue full"})"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
}

TEST_F(IngestServiceTest, BatchWithBrokenFramingIs422AndTooManyItems413) {
  IngestOptions options;
  options.max_batch_items = 2;
  auto service = MakeService(options);
  auto r = Call(*service, "POST", "/batch/pin", "[" + kPin);
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find("json_invalid"), std::string::npos);
  EXPECT_EQ(Call(*service, "POST", "/batch/pin", "1\n2\n3\n")->status, 413);
  EXPECT_TRUE(producer_.messages().empty());
}

TEST_F(IngestServiceTest, HealthReadinessMetricsDocs) {
  auto service = MakeService();
  EXPECT_EQ(Call(*service, "GET", "/readyz", "")->status, 200);
  producer_.SetBrokersUp(false);
  EXPECT_EQ(Call(*service, "GET", "/readyz", "")->status, 503);
  producer_.SetBrokersUp(true);
  Call(*service, "POST", "/pin/", kPin);
  auto m = Call(*service, "GET", "/metrics", "");
  EXPECT_EQ(m->content_type.rfind("text/plain", 0), 0u);
  EXPECT_NE(m->body.find(R"(pinpipe_http_requests_total{route="/pin/",status="200"} 1)"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find(R"(pinpipe_ingest_records_total{kind="pin",outcome="accepted"} 1)"),
            std::string::npos);
  EXPECT_NE(m->body.find("pinpipe_produce_latency_seconds_bucket{kind=\"pin\",le=\"0.0001\"}"),
            std::string::npos);
  EXPECT_NE(m->body.find("pinpipe_producer_queue_depth 0"), std::string::npos);

  auto spec = Call(*service, "GET", "/openapi.json", "");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(spec->body).get(doc), simdjson::SUCCESS) << spec->body;
  simdjson::dom::object required_fields;
  EXPECT_EQ(doc.at_pointer("/components/schemas/pin/properties/follower_count/type").get_string().value(),
            "string");
  EXPECT_EQ(doc.at_pointer("/paths/~1pin~1/post/operationId").get_string().value(), "post_pin");
  auto docs = Call(*service, "GET", "/docs", "");
  EXPECT_NE(docs->body.find("<code>follower_count</code>"), std::string::npos);
}

}  // namespace
}  // namespace pinpipe::ingest
