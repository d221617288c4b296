#include "testing/stream_env.h"

#include <signal.h>

#include <atomic>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "pg/connection.h"

namespace pinpipe::testing {

StatusOr<std::array<std::string, 3>> CreateStreamTopics(const std::string& brokers,
                                                        const std::string& prefix, int partitions) {
  std::array<std::string, 3> names = {prefix + "-pin", prefix + "-geo", prefix + "-user"};
  std::vector<kafka::TopicSpec> specs;
  for (const std::string& n : names) specs.push_back({n, partitions, 1, {}});
  RETURN_IF_ERROR(kafka::EnsureTopics(brokers, specs, std::chrono::seconds(30)));
  return names;
}

Status ProduceAll(const std::string& brokers, const std::string& topic,
                  const std::vector<std::pair<std::string, std::string>>& records) {
  kafka::ProducerOptions po;
  po.brokers = brokers;
  po.client_id = "pinpipe-test-producer";
  po.delivery_timeout = std::chrono::seconds(30);
  po.linger = std::chrono::milliseconds(5);
  po.queue_max_messages = 1000000;
  po.queue_max_kbytes = 1024 * 1024;
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Producer> producer, kafka::Producer::Create(po));
  std::atomic<int64_t> failed{0};
  std::mutex mu;
  Status first;
  for (const auto& [key, value] : records) {
    Status s;
    do {
      s = producer->Produce(topic, key, value, [&](const kafka::DeliveryResult& r) {
        if (!r.status.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (failed++ == 0) first = r.status;
        }
      });
      if (s.code() == StatusCode::kResourceExhausted) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    } while (s.code() == StatusCode::kResourceExhausted);
    RETURN_IF_ERROR(s);
  }
  RETURN_IF_ERROR(producer->Flush(std::chrono::seconds(60)));
  producer->Close(std::chrono::seconds(5));
  std::lock_guard<std::mutex> lock(mu);
  return first;
}

StatusOr<int64_t> QueryInt(const std::string& dsn, const std::string& sql) {
  ASSIGN_OR_RETURN(pg::Connection conn, pg::Connection::Open(dsn));
  ASSIGN_OR_RETURN(pg::Result r, conn.Exec(sql));
  if (r.rows() == 0 || r.IsNull(0, 0)) return int64_t{0};
  return std::stoll(std::string(r.GetValue(0, 0)));
}

StatusOr<int64_t> HighWatermarkSum(const std::string& brokers,
                                   const std::vector<std::string>& topics) {
  kafka::ConsumerOptions co;
  co.brokers = brokers;
  co.group_id = "pinpipe-test-watermarks";
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> c, kafka::Consumer::Create(co));
  int64_t sum = 0;
  for (const std::string& t : topics) {
    for (int32_t p = 0;; ++p) {
      auto w = c->WatermarkOffsets(t, p, std::chrono::seconds(10));
      if (!w.ok()) {
        if (p == 0) return w.status();
        break;  // past the last partition
      }
      sum += w->second;
    }
  }
  return sum;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ChildProcess::~ChildProcess() = default;  // process::Child kills and reaps a running child

Status ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  if (running()) return FailedPrecondition("child already running");
  process::SpawnOptions options;
  options.argv = argv;
  options.output_file = log_path;
  ASSIGN_OR_RETURN(process::Child child, process::Child::Spawn(options));
  child_.emplace(std::move(child));
  return Status::Ok();
}

void ChildProcess::Signal(int sig) {
  if (running()) kill(child_->pid(), sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (!running()) return -1;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const std::optional<process::ExitStatus> status = child_->Poll()) {
      child_.reset();
      return status->ShellCode();
    }
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace pinpipe::testing
