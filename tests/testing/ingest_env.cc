#include "testing/ingest_env.h"

#include <fmt/format.h>

#include <algorithm>

#include "kafka/admin.h"

namespace pinpipe::testing {

StatusOr<std::unique_ptr<IngestHarness>> IngestHarness::Start(const std::string& brokers,
                                                              const std::string& prefix,
                                                              IngestHarnessOptions options) {
  std::unique_ptr<IngestHarness> h(new IngestHarness());
  h->options_.topics = {prefix + "-pin", prefix + "-geo", prefix + "-user"};
  std::vector<kafka::TopicSpec> specs;
  for (const auto& t : h->options_.topics) {
    specs.push_back({.name = t, .partitions = options.partitions, .replication_factor = 1});
  }
  RETURN_IF_ERROR(kafka::EnsureTopics(brokers, specs, std::chrono::seconds(30)));
  kafka::ProducerOptions po;
  po.brokers = brokers;
  po.client_id = "pinpipe-test-ingest";
  po.delivery_timeout = options.delivery_timeout;
  ASSIGN_OR_RETURN(h->producer_, kafka::Producer::Create(po));
  // As `pinpipe serve` does: learn that the broker is up before the first request.
  RETURN_IF_ERROR(h->producer_->CheckReachable(std::chrono::seconds(30)));
  h->options_.delivery_deadline = options.delivery_timeout;
  h->service_ = std::make_unique<ingest::IngestService>(h->options_, h->producer_.get(),
                                                        &h->registry_);
  // Wired as `pinpipe serve` wires it (apps/pinpipe/cmd_serve.cc).
  http::ServerOptions so;
  so.port = 0;
  so.threads = options.threads;
  so.max_body_bytes = std::max(h->options_.max_batch_bytes, h->options_.max_record_bytes);
  ingest::IngestService* service = h->service_.get();
  h->server_ = std::make_unique<http::Server>(
      so,
      [service](const http::Request& r, http::Responder respond) {
        service->Handle(r, std::move(respond));
      },
      [service](const http::Request& head) { return service->OnHead(head); });
  RETURN_IF_ERROR(h->server_->Start());
  return h;
}

IngestHarness::~IngestHarness() {
  if (producer_) (void)producer_->Flush(std::chrono::seconds(10));
  if (server_) server_->Stop();
  if (producer_) producer_->Close(std::chrono::seconds(1));
}

http::Client IngestHarness::NewClient() const {
  http::ClientOptions o;
  o.port = server_->port();
  return http::Client(o);
}

std::string PinRecord(int i) {
  return fmt::format(
      R"j({{"index": {0}, "unique_id": "{0:08x}-0000-4000-8000-{0:012x}", "title": "Title {0} – Привет 🎄", "description": "Line with \\ backslash and \"quotes\"…{1}", "poster_name": " Poster {0} ", "follower_count": "{2}k", "tag_list": "a,b,c", "is_image_or_video": "image", "image_src": "https://i.pinimg.com/originals/{0}.jpg", "downloaded": 1, "save_location": "Local save in /data/art", "category": "art"}})j",
      i, "\u00a0", i % 1000);
}

}  // namespace pinpipe::testing
