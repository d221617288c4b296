#include "ingest/ingest_service.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "testing/fake_producer.h"

namespace pinpipe::ingest {
namespace {

using ::pinpipe::testing::FakeProducer;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers that may come from another thread (the delivery or the deadline thread), with the
// time each arrived.
class Answers {
 public:
  http::Responder Responder() {
    return [this](http::Response r) {
      std::lock_guard lock(mu_);
      answers_.push_back(std::move(r));
      times_.push_back(Clock::now());
      cv_.notify_all();
    };
  }
  // Waits up to `limit` for the first answer.
  std::optional<http::Response> First(std::chrono::milliseconds limit = 2s) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, limit, [&] { return !answers_.empty(); })) return std::nullopt;
    return answers_.front();
  }
  Clock::time_point first_time() {
    std::lock_guard lock(mu_);
    return times_.front();
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return answers_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<http::Response> answers_;
  std::vector<Clock::time_point> times_;
};

// The metric line `series` (e.g. `name{a="b"}`) and its value, or -1 when absent.
int64_t MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

size_t SeriesCount(const std::string& text, const std::string& family) {
  size_t n = 0;
  for (size_t at = text.find("\n" + family + "{"); at != std::string::npos;
       at = text.find("\n" + family + "{", at + 1)) {
    ++n;
  }
  return n;
}

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
  std::optional<http::Response> Call(
      IngestService& service, std::string method, std::string path, std::string body,
      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req =
        MakeRequest(std::move(method), std::move(path), std::move(body), std::move(headers));
    answer_.reset();
    service.Handle(req, [this](http::Response r) { answer_ = std::move(r); });
    return answer_;
  }

  // Calls the handler with a responder that may be called from any thread.
  void CallAsync(IngestService& service, Answers& answers, std::string path, std::string body) {
    http::Request req = MakeRequest("POST", std::move(path), std::move(body), {});
    service.Handle(req, answers.Responder());
  }

  // What the server's head hook decides for a request with these head fields.
  http::HeadDecision Head(IngestService& service, std::string method, std::string path,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req = MakeRequest(std::move(method), std::move(path), "", std::move(headers));
    return service.OnHead(req);
  }

  http::Request MakeRequest(std::string method, std::string path, std::string body,
                            std::vector<std::pair<std::string, std::string>> headers) {
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
    return req;
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
  EXPECT_NE(r->body.find("\"unique_id\":\"fbe53c66-3442-4773-b19e-d3ec6f54dddf\""),
            std::string::npos);
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
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin, {{"Authorization", "Bearer wrong!"}})->status,
            401);
  EXPECT_EQ(Call(*service, "POST", "/pin/", kPin, {{"Authorization", "bearer s3cret"}})->status,
            200);
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

TEST_F(IngestServiceTest, NdjsonBulkAnswersPerItem) {
  auto service = MakeService();
  std::string body = kPin + "\n{\"index\": 1}\n" + kPin + "\n";
  auto r = Call(*service, "POST", "/batch/pin", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(
      r->body.find(
          R"({"accepted":2,"rejected":1,"failed":0,"results":[{"position":0,"status":200},{"position":1,"status":422,"detail":[{"loc":["body",1,"unique_id"])"),
      std::string::npos)
      << r->body;
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].value, kPin);
  EXPECT_EQ(msgs[1].value, kPin);
}

TEST_F(IngestServiceTest, JsonArrayBulkKeepsItemBytes) {
  auto service = MakeService();
  auto r = Call(*service, "POST", "/batch/geo", "[" + kGeo + " ,\n " + kGeo + "]");
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"("accepted":2)"), std::string::npos) << r->body;
  auto msgs = producer_.messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].value, kGeo);
}

TEST_F(IngestServiceTest, BulkReportsFailedDeliveriesForRetry) {
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

TEST_F(IngestServiceTest, BulkDeliveryFailuresAre503PerItemWithTheKafkaError) {
  auto service = MakeService();
  producer_.FailDeliveries(Unavailable("broker connection lost"));
  auto r = Call(*service, "POST", "/batch/geo", kGeo + "\n" + kGeo + "\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(
      r->body.find(
          R"({"accepted":0,"rejected":0,"failed":2,"results":[{"position":0,"status":503,"detail":"kafka: broker connection lost"},)"),
      std::string::npos)
      << r->body;
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
}

TEST_F(IngestServiceTest, BulkWithBrokenFramingIs422AndTooManyItems413) {
  IngestOptions options;
  options.max_bulk_items = 2;
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
  EXPECT_EQ(
      doc.at_pointer("/components/schemas/pin/properties/follower_count/type").get_string().value(),
      "string");
  EXPECT_EQ(doc.at_pointer("/paths/~1pin~1/post/operationId").get_string().value(), "post_pin");
  auto docs = Call(*service, "GET", "/docs", "");
  EXPECT_NE(docs->body.find("<code>follower_count</code>"), std::string::npos);
}

// The head hook decides everything that needs no body, so the server never reads a body the
// route would refuse; otherwise it gives the route's own body limit.
TEST_F(IngestServiceTest, HeadHookAnswersOrGivesTheRouteLimit) {
  IngestOptions options;
  options.bearer_token = "s3cret";
  options.max_record_bytes = 1000;
  options.max_bulk_bytes = 50000;
  auto service = MakeService(options);
  const std::vector<std::pair<std::string, std::string>> token = {
      {"Authorization", "Bearer s3cret"}};
  struct {
    std::string name, method, path;
    bool with_token;
    int status;        // 0: no answer from the head
    size_t limit = 0;  // when status == 0
  } cases[] = {
      {"RecordWithToken", "POST", "/pin/", true, 0, 1000},
      {"RecordNoSlash", "POST", "/geo", true, 0, 1000},
      {"BulkWithToken", "POST", "/batch/user", true, 0, 50000},
      {"RecordWithoutToken", "POST", "/pin/", false, 401},
      {"BulkWithoutToken", "POST", "/batch/pin", false, 401},
      {"WrongMethodOnRecord", "PUT", "/pin/", true, 405},
      {"UnknownRoute", "POST", "/pins/", true, 404},
      {"GetRouteTakesNoBody", "GET", "/metrics", false, 0, 0},
      {"HeadRoute", "HEAD", "/healthz", false, 0, 0},
      {"PostOnGetRoute", "POST", "/healthz", false, 405},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    http::HeadDecision d =
        Head(*service, c.method, c.path, c.with_token ? token : decltype(token){});
    if (c.status == 0) {
      EXPECT_FALSE(d.answer.has_value());
      EXPECT_EQ(d.max_body_bytes, c.limit);
    } else {
      ASSERT_TRUE(d.answer.has_value());
      EXPECT_EQ(d.answer->status, c.status);
    }
  }
  // A wrong token is refused like a missing one; answers from the head are counted.
  auto wrong = Head(*service, "POST", "/pin/", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong.answer.has_value());
  EXPECT_EQ(wrong.answer->status, 401);
  EXPECT_EQ(HeaderOf(*wrong.answer, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(
      MetricValue(registry_.Render(), R"(pinpipe_http_requests_total{route="/pin/",status="401"})"),
      2);

  // Kafka known down, or shutting down: 503 before the body.
  producer_.SetBrokersUp(false);
  auto down = Head(*service, "POST", "/batch/pin", token);
  ASSERT_TRUE(down.answer.has_value());
  EXPECT_EQ(down.answer->status, 503);
  EXPECT_EQ(HeaderOf(*down.answer, "Retry-After"), "1");
  producer_.SetBrokersUp(true);
  service->StartDraining();
  auto draining = Head(*service, "POST", "/pin/", token);
  ASSERT_TRUE(draining.answer.has_value());
  EXPECT_EQ(draining.answer->status, 503);
}

// A delivery that never comes is answered 503 at the deadline; the late report changes only
// the metrics.
TEST_F(IngestServiceTest, StuckDeliveryAnswered503AtTheDeadlineExactlyOnce) {
  IngestOptions options;
  options.delivery_deadline = 300ms;
  auto service = MakeService(options);
  producer_.HoldDeliveries(true);
  Answers answers;
  const auto t0 = Clock::now();
  CallAsync(*service, answers, "/pin/", kPin);
  auto r = answers.First(3s);
  ASSERT_TRUE(r.has_value());
  const auto waited = answers.first_time() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 300ms + 150ms) << "answered late";
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
  EXPECT_NE(r->body.find("may or may not be stored"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("code":"DEADLINE_EXCEEDED")"), std::string::npos) << r->body;
  producer_.ReleaseDeliveries();  // the record was stored after all
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(answers.count(), 1u);
  const std::string m = registry_.Render();
  EXPECT_EQ(MetricValue(m, R"(pinpipe_ingest_late_deliveries_total{kind="pin",result="stored"})"),
            1);
  EXPECT_EQ(MetricValue(m, R"(pinpipe_ingest_records_total{kind="pin",outcome="failed"})"), 1);
  EXPECT_EQ(MetricValue(m, R"(pinpipe_ingest_records_total{kind="pin",outcome="accepted"})"), 0);
}

TEST_F(IngestServiceTest, DeliveryBeforeTheDeadlineIsTheOnlyAnswer) {
  IngestOptions options;
  options.delivery_deadline = 200ms;
  auto service = MakeService(options);
  producer_.HoldDeliveries(true);
  Answers answers;
  CallAsync(*service, answers, "/pin/", kPin);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(answers.count(), 0u);
  producer_.ReleaseDeliveries();
  auto r = answers.First();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  std::this_thread::sleep_for(300ms);  // past the deadline: nothing more
  EXPECT_EQ(answers.count(), 1u);
  EXPECT_EQ(MetricValue(registry_.Render(),
                        R"(pinpipe_ingest_late_deliveries_total{kind="pin",result="stored"})"),
            0);
}

TEST_F(IngestServiceTest, BulkItemsStillPendingAtTheDeadlineAre503InTheResults) {
  IngestOptions options;
  options.delivery_deadline = 300ms;
  auto service = MakeService(options);
  producer_.HoldDeliveries(true);
  Answers answers;
  // Positions 0, 2, 3 valid; 1 invalid. Only position 0 is acknowledged in time.
  CallAsync(*service, answers, "/batch/pin",
            kPin + "\n{\"index\": 1}\n" + kPin + "\n" + kPin + "\n");
  producer_.ReleaseDeliveries(1);
  auto r = answers.First(3s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(
      r->body.rfind(
          R"({"accepted":1,"rejected":1,"failed":2,"results":[{"position":0,"status":200},{"position":1,"status":422,)",
          0),
      0u)
      << r->body;
  EXPECT_NE(
      r->body.find(
          R"({"position":2,"status":503,"detail":"kafka: no acknowledgement within the delivery deadline of 300 ms)"),
      std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"({"position":3,"status":503,)"), std::string::npos) << r->body;
  EXPECT_EQ(HeaderOf(*r, "Retry-After"), "1");
  producer_.ReleaseDeliveries();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(answers.count(), 1u);
  EXPECT_EQ(MetricValue(registry_.Render(),
                        R"(pinpipe_ingest_late_deliveries_total{kind="pin",result="stored"})"),
            2);
}

TEST_F(IngestServiceTest, BulkItemOverTheRecordLimitIs413InTheResults) {
  IngestOptions options;
  options.max_record_bytes = 600;
  auto service = MakeService(options);
  std::string big = kPin;
  big.insert(big.find("No Title"), 300, 'x');
  auto r = Call(*service, "POST", "/batch/pin", kPin + "\n" + big + "\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find(R"({"accepted":1,"rejected":1,"failed":0,)"), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"({"position":1,"status":413,"detail":"record is )"), std::string::npos)
      << r->body;
  EXPECT_EQ(producer_.messages().size(), 1u);
}

// Label values taken from input come from closed sets: 20,000 distinct unknown keys add one
// series (field "_unknown"), not 20,000, and /metrics stays small.
TEST_F(IngestServiceTest, ValidationFailureLabelsComeFromAClosedSet) {
  auto service = MakeService();
  const size_t metrics_before = Call(*service, "GET", "/metrics", "")->body.size();
  std::string hostile = kPin;
  hostile.pop_back();  // the closing brace
  for (int i = 0; i < 20000; ++i) hostile += ", \"unknown_key_" + std::to_string(i) + "\": 0";
  hostile += '}';
  ASSERT_LT(hostile.size(), IngestOptions{}.max_record_bytes);
  auto r = Call(*service, "POST", "/pin/", hostile);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  // The same through the bulk route, and a mix of other errors on known fields.
  std::string bad_index = kPin;
  bad_index.replace(bad_index.find("7528"), 4, "\"x\"");
  EXPECT_EQ(Call(*service, "POST", "/batch/pin", hostile + "\n" + bad_index + "\n")->status, 200);
  EXPECT_EQ(Call(*service, "POST", "/geo/", "[1]")->status, 422);

  const std::string m = Call(*service, "GET", "/metrics", "")->body;
  EXPECT_EQ(
      MetricValue(
          m,
          R"(pinpipe_validation_failures_total{kind="pin",field="_unknown",type="extra_forbidden"})"),
      40000);
  EXPECT_EQ(
      MetricValue(m,
                  R"(pinpipe_validation_failures_total{kind="pin",field="index",type="int_type"})"),
      1);
  EXPECT_EQ(
      MetricValue(
          m,
          R"m(pinpipe_validation_failures_total{kind="geo",field="(body)",type="model_attributes_type"})m"),
      1);
  EXPECT_EQ(SeriesCount(m, "pinpipe_validation_failures_total"), 3u);
  EXPECT_EQ(m.find("unknown_key_"), std::string::npos);
  EXPECT_LT(m.size(), metrics_before + 2048) << "metrics grew with the input";
}

}  // namespace
}  // namespace pinpipe::ingest
