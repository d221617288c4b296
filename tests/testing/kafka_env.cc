#include "testing/kafka_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "kafka/admin.h"

namespace pinpipe::testing {

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("{}-{}-{}-{}", prefix, ::getpid(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(now).count(),
                     counter.fetch_add(1));
}

StatusOr<std::vector<kafka::Message>> ReadTopic(const std::string& brokers,
                                                const std::string& topic,
                                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  ASSIGN_OR_RETURN(kafka::ClusterInfo cluster, kafka::Describe(brokers, timeout));
  auto it = std::find_if(cluster.topics.begin(), cluster.topics.end(),
                         [&](const kafka::TopicInfo& t) { return t.name == topic; });
  if (it == cluster.topics.end() || it->partitions == 0) {
    return NotFound(fmt::format("topic '{}' does not exist", topic));
  }
  kafka::ConsumerOptions options;
  options.brokers = brokers;
  options.group_id = UniqueName("pinpipe-test-reader");
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Consumer> consumer, kafka::Consumer::Create(options));

  std::map<int32_t, int64_t> high;  // partition -> end offset still to reach
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (int32_t p = 0; p < it->partitions; ++p) {
    ASSIGN_OR_RETURN(auto marks, consumer->WatermarkOffsets(topic, p, timeout));
    if (marks.second > marks.first) high[p] = marks.second;
    assignment.push_back({topic, p, kafka::kOffsetBeginning});
  }
  RETURN_IF_ERROR(consumer->Assign(assignment));

  std::vector<kafka::Message> messages;
  std::map<int32_t, int64_t> next;  // partition -> next offset expected
  auto done = [&] {
    return std::all_of(high.begin(), high.end(),
                       [&](const auto& ph) { return next[ph.first] >= ph.second; });
  };
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return DeadlineExceeded(fmt::format("read only {} messages of '{}' within {} ms",
                                          messages.size(), topic, timeout.count()));
    }
    std::optional<kafka::Message> m = consumer->Poll(std::chrono::milliseconds(200));
    if (!m || m->end_of_partition) continue;
    if (!m->error.ok()) {
      if (m->error.retriable()) continue;
      return m->error;
    }
    next[m->partition] = m->offset + 1;
    messages.push_back(std::move(*m));
  }
  consumer->Close().IgnoreError();
  std::stable_sort(
      messages.begin(), messages.end(), [](const kafka::Message& a, const kafka::Message& b) {
        return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
      });
  return messages;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace pinpipe::testing
