#include "testing/ingest_env.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kafka/admin.h"
#include "testing/kafka_env.h"
#include "testing/stream_env.h"

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
  h->service_ =
      std::make_unique<ingest::IngestService>(h->options_, h->producer_.get(), &h->registry_);
  // Wired as `pinpipe serve` wires it (apps/pinpipe/cmd_serve.cc).
  http::ServerOptions so;
  so.port = 0;
  so.threads = options.threads;
  so.max_body_bytes = std::max(h->options_.max_bulk_bytes, h->options_.max_record_bytes);
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

ServeProcess::ServeProcess() = default;

StatusOr<std::unique_ptr<ServeProcess>> ServeProcess::Start(
    const std::string& brokers, const std::string& prefix,
    const std::vector<std::string>& extra_args) {
  if (EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN").empty()) {
    return FailedPrecondition("PINPIPE_TEST_PINPIPE_BIN is not set");
  }
  const std::array<std::string, 3> topics = {prefix + "-pin", prefix + "-geo", prefix + "-user"};
  std::vector<kafka::TopicSpec> specs;
  for (const auto& t : topics) {
    specs.push_back({.name = t, .partitions = 3, .replication_factor = 1});
  }
  RETURN_IF_ERROR(kafka::EnsureTopics(brokers, specs, std::chrono::seconds(30)));
  return StartOn(brokers, topics,
                 (std::filesystem::temp_directory_path() / (prefix + ".serve.log")).string(),
                 extra_args);
}

StatusOr<std::unique_ptr<ServeProcess>> ServeProcess::StartOn(
    const std::string& brokers, const std::array<std::string, 3>& topics,
    const std::string& log_path, const std::vector<std::string>& extra_args) {
  const std::string bin = EnvOrEmpty("PINPIPE_TEST_PINPIPE_BIN");
  if (bin.empty()) return FailedPrecondition("PINPIPE_TEST_PINPIPE_BIN is not set");
  std::unique_ptr<ServeProcess> p(new ServeProcess());
  p->topics_ = topics;
  p->log_path_ = log_path;
  std::filesystem::remove(p->log_path_);
  std::vector<std::string> argv = {
      bin,           "serve",       "--port",      "0",           "--kafka-brokers", brokers,
      "--topic-pin", p->topics_[0], "--topic-geo", p->topics_[1], "--topic-user",    p->topics_[2]};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  p->child_ = std::make_unique<ChildProcess>();
  RETURN_IF_ERROR(p->child_->Start(argv, p->log_path_));
  // The port comes from its log line "listening on http://127.0.0.1:<port> (".
  constexpr std::string_view kListening = "listening on http://";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(p->log_path_);
    std::stringstream text;
    text << in.rdbuf();
    const std::string log = text.str();
    if (size_t at = log.find(kListening); at != std::string::npos) {
      size_t colon = log.find(':', at + kListening.size());
      size_t end = log.find(' ', colon);
      if (colon != std::string::npos && end != std::string::npos) {
        p->port_ = static_cast<uint16_t>(std::stoi(log.substr(colon + 1, end - colon - 1)));
        break;
      }
    }
    if (p->child_->Wait(std::chrono::milliseconds(50)) != -1) {
      return Internal("pinpipe serve exited at start; log: " + log);
    }
  }
  if (p->port_ == 0) {
    return DeadlineExceeded("pinpipe serve did not listen within 30 s; see " + p->log_path_);
  }
  // Ready once its producer has a broker connection (records before that get 503).
  http::Client client = p->NewClient();
  while (std::chrono::steady_clock::now() < deadline) {
    auto ready = client.Get("/readyz");
    if (ready.ok() && ready->status == 200) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return DeadlineExceeded("pinpipe serve not ready within 30 s; see " + p->log_path_);
}

ServeProcess::~ServeProcess() {
  if (child_ && child_->running()) {
    child_->Signal(SIGTERM);
    if (child_->Wait(std::chrono::seconds(20)) == -1) child_->Signal(SIGKILL);
  }
}

pid_t ServeProcess::pid() const { return child_ ? child_->pid() : -1; }

http::Client ServeProcess::NewClient() const {
  http::ClientOptions o;
  o.port = port_;
  return http::Client(o);
}

StatusOr<int64_t> ServeProcess::StatusField(const std::string& field) const {
  std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoll(line.substr(field.size() + 1)) * 1024;  // "VmRSS:   15400 kB"
    }
  }
  return NotFound(field + " not in /proc/" + std::to_string(pid()) + "/status");
}

StatusOr<int64_t> ServeProcess::PeakRss() const { return StatusField("VmHWM"); }
StatusOr<int64_t> ServeProcess::Rss() const { return StatusField("VmRSS"); }

std::string PinRecord(int i) {
  return fmt::format(
      R"j({{"index": {0}, "unique_id": "{0:08x}-0000-4000-8000-{0:012x}", "title": "Title {0} – Привет 🎄", "description": "Line with \\ backslash and \"quotes\"…{1}", "poster_name": " Poster {0} ", "follower_count": "{2}k", "tag_list": "a,b,c", "is_image_or_video": "image", "image_src": "https://i.pinimg.com/originals/{0}.jpg", "downloaded": 1, "save_location": "Local save in /data/art", "category": "art"}})j",
      i, "\u00a0", i % 1000);
}

}  // namespace pinpipe::testing
