#include "testing/stream_env.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "pg/connection.h"

namespace pinpipe::testing {

StatusOr<std::array<std::string, 3>> CreateStreamTopics(const std::string& brokers,
                                                        const std::string& prefix,
                                                        int partitions) {
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

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

Status ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  if (pid_ > 0) return FailedPrecondition("child already running");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
  return Status::Ok();
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace pinpipe::testing
