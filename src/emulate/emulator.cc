#include "emulate/emulator.h"

#include <simdjson.h>
#include <algorithm>
#include <array>
#include <bit>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

#include "core/check.h"
#include "core/mutex.h"
#include "core/stop_sleep.h"
#include "emulate/distinct_ids.h"
#include "emulate/prng.h"

namespace pinpipe::emulate {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

size_t PickPost(uint64_t seed, uint64_t n, size_t post_count) {
  // A hash of (seed, n) rather than one sequential generator: load-mode sessions draw
  // concurrently and out of order, yet the post for draw n stays the same.
  uint64_t state = seed * 0x9e3779b97f4a7c15ULL + n;
  const uint64_t mixed = SplitMix64(state);
  return static_cast<size_t>((static_cast<unsigned __int128>(mixed) * post_count) >> 64);
}

namespace {

constexpr std::array<const char*, 3> kKindNames = {"pin", "geo", "user"};

const std::string& KindJson(const SourcePost& post, size_t kind) {
  return kind == 0 ? post.pin_json : kind == 1 ? post.geo_json : post.user_json;
}

// Appends the record of `kind` of post number `n` (the n-th draw): the source post's record, or
// with --distinct-from its distinct-id version.
void AppendRecord(const std::vector<SourcePost>& posts, uint64_t seed, int64_t distinct_from,
                  uint64_t n, size_t kind, std::string* out) {
  const std::string& json = KindJson(posts[PickPost(seed, n, posts.size())], kind);
  if (distinct_from < 0) {
    out->append(json);
    return;
  }
  PINPIPE_CHECK(AppendWithDistinctIds(json, distinct_from + static_cast<int64_t>(n), out))
      << "source record not in record_json's layout: " << json.substr(0, 40);
}

std::string Preview(std::string_view json, size_t limit) {
  if (json.size() <= limit) return std::string(json);
  // Do not cut inside a UTF-8 sequence.
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) --cut;
  return std::string(json.substr(0, cut)) + "...";
}

// Log-linear latency histogram in microseconds: exact below 64 us, then 32 buckets per power of
// two (about 3% resolution), fixed size, mergeable.
class LatencyHistogram {
 public:
  void Record(uint64_t micros) {
    ++buckets_[BucketOf(micros)];
    ++total_;
  }
  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    total_ += other.total_;
  }
  // Lower bound of the bucket holding quantile q, in milliseconds.
  double QuantileMs(double q) const {
    if (total_ == 0) return 0;
    const auto target = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= target) return static_cast<double>(LowerBound(i)) / 1000.0;
    }
    return 0;
  }

 private:
  static constexpr size_t kBuckets = 64 * 32;
  static size_t BucketOf(uint64_t v) {
    const int width = static_cast<int>(std::bit_width(v));
    const int shift = width > 6 ? width - 6 : 0;
    return std::min(kBuckets - 1, static_cast<size_t>(shift) * 32 + (v >> shift));
  }
  static uint64_t LowerBound(size_t bucket) {
    const size_t shift = bucket < 64 ? 0 : (bucket - 32) / 32;
    return static_cast<uint64_t>(bucket - shift * 32) << shift;
  }
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t total_ = 0;
};

struct LoadShared {
  LoadShared(const std::vector<SourcePost>& p, const LoadOptions& o) : posts(p), options(o) {}
  const std::vector<SourcePost>& posts;
  const LoadOptions& options;
  tcp::resolver::results_type endpoints;
  std::string host_header;
  std::string auth_header;
  Clock::time_point start;
  std::stop_source halt;  // requested when the run ends: sessions close
  std::atomic<uint64_t> next_ticket{0};
  std::atomic<int64_t> sent{0}, accepted{0}, rejected{0}, failed{0}, requests{0};
  std::atomic<int64_t> retried{0}, gave_up{0};

  core::Mutex error_mutex;
  std::string first_error;

  void NoteError(const std::string& error) {
    core::MutexLock lock(error_mutex);
    if (first_error.empty()) first_error = error;
  }
  // A final answer (retriable ones are decided by the session first).
  void Count(int status, int64_t n) {
    if (status >= 200 && status < 300) {
      accepted.fetch_add(n, std::memory_order_relaxed);
    } else if (status >= 400 && status < 500 && !IsRetriableStatus(status)) {
      rejected.fetch_add(n, std::memory_order_relaxed);
    } else {
      failed.fetch_add(n, std::memory_order_relaxed);
    }
  }
};

// One keep-alive connection sending requests back to back. All handlers run on the owning
// thread's io_context (one thread per context), so a Session needs no locking of its own.
// A request whose answer is retriable (503/429, a transport error; emulate/retry_policy.h) is
// sent again on this session after its delay, before the session takes the next ticket; for a
// bulk request only the items still to be stored are sent again.
class Session {
 public:
  Session(asio::io_context& io, LoadShared& shared, uint64_t id)
      : shared_(shared),
        stream_(io),
        timer_(io),
        bulk_(shared.options.bulk_size > 0),
        retry_(shared.options.retry,
               shared.options.seed ^ (0x7265747279ULL + id * 0x9e3779b97f4a7c15ULL)) {
    request_.version(11);
    request_.method(bhttp::verb::post);
    request_.set(bhttp::field::host, shared.host_header);
    request_.set(bhttp::field::content_type, bulk_ ? "application/x-ndjson" : "application/json");
    if (!shared.auth_header.empty()) request_.set(bhttp::field::authorization, shared.auth_header);
  }

  void Start() { Connect(); }
  // Cuts short a wait for the rate schedule, a retry or a reconnect back-off (on this session's
  // thread).
  void Wake() { timer_.cancel(); }
  const LatencyHistogram& latencies() const { return latencies_; }

 private:
  void Connect() {
    if (shared_.halt.stop_requested()) return;
    stream_.expires_after(shared_.options.request_timeout);
    stream_.async_connect(shared_.endpoints,
                          [this](beast::error_code ec, const tcp::endpoint&) { OnConnect(ec); });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) {
      shared_.NoteError("connect: " + ec.message());
      Close();
      // A record waiting to be sent again spends its retry budget (an API restarting refuses
      // connections for a while); otherwise back off a little so a refused connection does not
      // spin a core.
      if (has_record_) return RetryLater(std::nullopt);
      timer_.expires_after(std::chrono::milliseconds(100));
      timer_.async_wait([this](beast::error_code) { Connect(); });
      return;
    }
    stream_.socket().set_option(tcp::no_delay(true), ec);
    if (has_record_) return Send();
    Next();
  }

  // Takes the next ticket (one record, or one bulk request) and sends it when due.
  void Next() {
    const LoadOptions& options = shared_.options;
    if (shared_.halt.stop_requested()) return Close();
    const uint64_t ticket = shared_.next_ticket.fetch_add(1, std::memory_order_relaxed);
    const uint64_t per_ticket = bulk_ ? static_cast<uint64_t>(options.bulk_size) : 1;
    const uint64_t first_record = ticket * per_ticket;
    const auto count = static_cast<uint64_t>(options.count);
    if (options.count > 0 && first_record >= count) return Close();
    const uint64_t records =
        options.count > 0 ? std::min(per_ticket, count - first_record) : per_ticket;
    ticket_ = ticket;
    has_record_ = true;
    first_send_ = true;
    retry_.Reset();
    pending_.resize(records);
    for (uint64_t j = 0; j < records; ++j) pending_[j] = static_cast<uint32_t>(j);
    BuildRequest();
    if (options.rate > 0) {
      const auto due =
          shared_.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                              static_cast<double>(first_record) / options.rate));
      if (due > Clock::now()) {
        timer_.expires_at(due);
        timer_.async_wait([this](beast::error_code) { Send(); });
        return;
      }
    }
    Send();
  }

  // The request for ticket_'s records still pending. Single records cycle pin, geo, user over
  // consecutive posts (as the original posted all three for each post). Bulk requests cycle the
  // kind per ticket: three consecutive bulk requests carry the pin, geo and user records of the
  // same posts.
  void BuildRequest() {
    const auto& posts = shared_.posts;
    const uint64_t seed = shared_.options.seed;
    std::string& body = request_.body();
    body.clear();
    const size_t kind = ticket_ % 3;
    const int64_t distinct_from = shared_.options.distinct_from;
    if (!bulk_) {
      AppendRecord(posts, seed, distinct_from, ticket_ / 3, kind, &body);
    } else {
      const uint64_t first_post = (ticket_ / 3) * static_cast<uint64_t>(shared_.options.bulk_size);
      for (const uint32_t j : pending_) {
        AppendRecord(posts, seed, distinct_from, first_post + j, kind, &body);
        body += '\n';
      }
    }
    records_ = static_cast<int64_t>(pending_.size());
    target_ = shared_.options.api.base_path + (bulk_ ? "/batch/" : "/") + kKindNames[kind] +
              (bulk_ ? "" : "/");
    request_.target(target_);
    request_.prepare_payload();
  }

  void Send() {
    if (shared_.halt.stop_requested()) return Close();
    (first_send_ ? shared_.sent : shared_.retried).fetch_add(records_, std::memory_order_relaxed);
    first_send_ = false;
    sent_at_ = Clock::now();
    stream_.expires_after(shared_.options.request_timeout);
    bhttp::async_write(stream_, request_, [this](beast::error_code ec, size_t) {
      if (ec) return OnTransportError(ec, "write");
      parser_.emplace();
      parser_->body_limit(64 * 1024 * 1024);
      bhttp::async_read(stream_, buffer_, *parser_,
                        [this](beast::error_code read_ec, size_t) { OnRead(read_ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnTransportError(ec, "read");
    latencies_.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at_).count()));
    shared_.requests.fetch_add(1, std::memory_order_relaxed);
    auto& response = parser_->get();
    const int status = static_cast<int>(response.result_int());
    const auto retry_after_header = response[bhttp::field::retry_after];
    const std::optional<std::chrono::seconds> retry_after =
        ParseRetryAfter(std::string_view(retry_after_header.data(), retry_after_header.size()));
    bool retry = false;
    if (bulk_ && status == 200) {
      retry = CountBulkItems(response.body());
    } else if (IsRetriableStatus(status)) {
      retry = true;
    } else {
      shared_.Count(status, records_);
    }
    if (!response.keep_alive()) Close();
    if (retry) return RetryLater(retry_after);
    Done();
  }

  // The bulk endpoint answers 200 with {"results":[{"position":i,"status":s,...},...]}; each item
  // counts by its own status, except retriable ones, which stay in pending_ (returns whether
  // there are any). Items the body does not account for count as failed.
  bool CountBulkItems(const std::string& body) {
    int64_t counted = 0;
    retry_positions_.clear();
    simdjson::dom::element doc;
    simdjson::dom::array results;
    if (json_.parse(body).get(doc) == simdjson::SUCCESS &&
        doc["results"].get_array().get(results) == simdjson::SUCCESS) {
      size_t order = 0;
      for (simdjson::dom::element item : results) {
        // "position" is the item's line in the request; without it, the order of the results.
        uint64_t position = 0;
        if (item["position"].get_uint64().get(position) != simdjson::SUCCESS) position = order;
        ++order;
        int64_t status = 0;
        if (item["status"].get_int64().get(status) != simdjson::SUCCESS ||
            position >= pending_.size()) {
          continue;
        }
        if (IsRetriableStatus(static_cast<int>(status))) {
          retry_positions_.push_back(pending_[position]);
        } else {
          shared_.Count(static_cast<int>(status), 1);
        }
        ++counted;
      }
    }
    if (counted < records_) {
      if (counted == 0)
        shared_.NoteError("bulk response without a results array: " + Preview(body, 200));
      shared_.failed.fetch_add(records_ - counted, std::memory_order_relaxed);
    }
    pending_.swap(retry_positions_);
    records_ = static_cast<int64_t>(pending_.size());
    return !pending_.empty();
  }

  void OnTransportError(beast::error_code ec, const char* what) {
    shared_.requests.fetch_add(1, std::memory_order_relaxed);
    shared_.NoteError(std::string(what) + ": " + ec.message());
    Close();
    RetryLater(std::nullopt);
  }

  // The records of the request in flight (records_) got a retriable answer: send them again
  // after the policy's delay, or give them up.
  void RetryLater(std::optional<std::chrono::seconds> retry_after) {
    const std::optional<std::chrono::milliseconds> delay = retry_.Next(retry_after);
    if (!delay) {
      shared_.failed.fetch_add(records_, std::memory_order_relaxed);
      if (shared_.options.retry.enabled) {
        shared_.gave_up.fetch_add(records_, std::memory_order_relaxed);
      }
      return Done();
    }
    timer_.expires_after(*delay);
    timer_.async_wait([this](beast::error_code) {
      if (shared_.halt.stop_requested()) return Close();
      BuildRequest();
      if (!stream_.socket().is_open()) return Connect();
      Send();
    });
  }

  // The ticket is settled: on to the next one (over a new connection if this one is closed).
  void Done() {
    has_record_ = false;
    if (!stream_.socket().is_open()) return Connect();
    Next();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    // Bytes of a half-read answer must not be parsed as the start of the next connection's.
    buffer_.consume(buffer_.size());
  }

  LoadShared& shared_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  const bool bulk_;
  RetryBudget retry_;
  bhttp::request<bhttp::string_body> request_;
  std::string target_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  beast::flat_buffer buffer_;
  simdjson::dom::parser json_;
  // The ticket in hand: set by Next(), cleared by Done().
  bool has_record_ = false;
  bool first_send_ = false;  // its next Send() is the first (counts as sent, not retried)
  uint64_t ticket_ = 0;
  std::vector<uint32_t> pending_;          // its records not settled yet (indexes in the ticket)
  std::vector<uint32_t> retry_positions_;  // scratch for CountBulkItems
  int64_t records_ = 0;                    // records in the request in flight (= pending_.size())
  Clock::time_point sent_at_;
  LatencyHistogram latencies_;
};

std::string ProgressLine(const LoadShared& shared, double rate) {
  char line[256];
  std::snprintf(
      line, sizeof(line),
      "sent %lld  accepted %lld  rejected %lld  failed %lld  retried %lld  gave up %lld  "
      "%.0f rec/s",
      static_cast<long long>(shared.sent.load()), static_cast<long long>(shared.accepted.load()),
      static_cast<long long>(shared.rejected.load()), static_cast<long long>(shared.failed.load()),
      static_cast<long long>(shared.retried.load()), static_cast<long long>(shared.gave_up.load()),
      rate);
  return line;
}

// Whether a failed exchange of http::Client may succeed when tried again: it could not connect,
// lost the connection or timed out (not: a malformed answer).
bool IsRetriableTransportError(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

ReplayStats RunReplay(const std::vector<SourcePost>& posts, const ReplayOptions& options,
                      std::stop_token stop, std::ostream& out) {
  ReplayStats stats;
  if (posts.empty()) return stats;
  http::ClientOptions client_options;
  client_options.host = options.api.host;
  client_options.port = options.api.port;
  http::Client client(client_options);
  http::HeaderList headers;
  if (!options.bearer_token.empty()) {
    headers.emplace_back("Authorization", "Bearer " + options.bearer_token);
  }
  Prng sleeps(options.seed ^ 0x736c656570ULL);
  RetryBudget retry(options.retry, options.seed ^ 0x7265747279ULL);
  for (uint64_t n = 0; !stop.stop_requested(); ++n) {
    if (options.count > 0 && stats.posts >= options.count) break;
    // Wakes at once on SIGINT.
    const int64_t sleep_ms =
        options.max_sleep_ms > 0 ? sleeps.Uniform(0, options.max_sleep_ms - 1) : 0;
    if (!core::SleepUnlessStopped(stop, std::chrono::milliseconds(sleep_ms))) break;
    const int64_t index = options.distinct_from >= 0
                              ? options.distinct_from + static_cast<int64_t>(n)
                              : posts[PickPost(options.seed, n, posts.size())].index;
    ++stats.posts;
    for (size_t kind = 0; kind < 3; ++kind) {
      std::string body;
      AppendRecord(posts, options.seed, options.distinct_from, n, kind, &body);
      retry.Reset();
      while (true) {
        auto response = client.Post(options.api.base_path + "/" + kKindNames[kind] + "/", body,
                                    "application/json", headers);
        std::string outcome;
        bool ok = false;
        bool retriable = false;
        std::optional<std::chrono::seconds> retry_after;
        if (!response.ok()) {
          outcome = response.status().ToString();
          retriable = IsRetriableTransportError(response.status());
        } else {
          ok = response->status >= 200 && response->status < 300;
          retriable = IsRetriableStatus(response->status);
          retry_after = ParseRetryAfter(response->Header("Retry-After"));
          outcome = std::to_string(response->status);
          if (!ok) outcome += " " + Preview(response->body, 160);
        }
        out << kKindNames[kind] << " " << index << " -> " << outcome;
        std::optional<std::chrono::milliseconds> delay;
        if (retriable) delay = retry.Next(retry_after);
        if (delay) {
          char line[96];
          std::snprintf(line, sizeof(line), "; retry %d in %.2f s\n", retry.retries(),
                        std::chrono::duration<double>(*delay).count());
          out << line;
          out.flush();
          ++stats.retried;
          if (core::SleepUnlessStopped(stop, *delay)) continue;
          ++stats.records_failed;  // stopped while waiting
          break;
        }
        if (retriable && options.retry.enabled) {
          ++stats.gave_up;
          out << "; gave up after " << retry.retries() << " retries";
        }
        ++(ok ? stats.records_ok : stats.records_failed);
        out << "  " << Preview(body, 120) << "\n";
        break;
      }
      if (stop.stop_requested()) break;
    }
    out.flush();
  }
  return stats;
}

LoadSummary RunLoad(const std::vector<SourcePost>& posts, const LoadOptions& options,
                    std::stop_token stop, std::ostream& progress) {
  LoadSummary summary;
  if (posts.empty()) return summary;
  LoadShared shared(posts, options);
  shared.host_header = options.api.host + ":" + std::to_string(options.api.port);
  if (!options.bearer_token.empty()) shared.auth_header = "Bearer " + options.bearer_token;
  {
    asio::io_context resolver_io;
    tcp::resolver resolver(resolver_io);
    beast::error_code ec;
    shared.endpoints = resolver.resolve(options.api.host, std::to_string(options.api.port), ec);
    if (ec) {
      summary.first_error = "resolve " + options.api.host + ": " + ec.message();
      return summary;
    }
  }

  // Two I/O threads at most: the machine is shared with the API and Kafka, and one thread
  // already drives tens of thousands of small requests per second.
  const int connections = std::max(1, options.concurrency);
  const int thread_count = std::min(connections, 2);
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::vector<std::unique_ptr<Session>>> sessions(static_cast<size_t>(thread_count));
  for (int t = 0; t < thread_count; ++t) contexts.push_back(std::make_unique<asio::io_context>(1));
  for (int c = 0; c < connections; ++c) {
    const auto t = static_cast<size_t>(c % thread_count);
    sessions[t].push_back(
        std::make_unique<Session>(*contexts[t], shared, static_cast<uint64_t>(c)));
  }
  shared.start = Clock::now();
  for (auto& thread_sessions : sessions) {
    for (auto& session : thread_sessions) session->Start();
  }
  std::atomic<int> running{thread_count};
  std::vector<std::jthread> threads;  // the I/O threads, owned: joined below
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      contexts[static_cast<size_t>(t)]->run();
      running.fetch_sub(1);
    });
  }

  // Main thread: progress once per second, stop on SIGINT or when the duration is over.
  const auto deadline = options.duration_s > 0
                            ? shared.start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.duration_s))
                            : Clock::time_point::max();
  auto last_report = shared.start;
  int64_t last_sent = 0;
  std::optional<Clock::time_point> halted_at;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = Clock::now();
    if (!halted_at && (stop.stop_requested() || now >= deadline)) {
      shared.halt.request_stop();
      halted_at = now;
      // Wake sessions parked on a rate timer; in-flight requests get a short grace period.
      for (size_t t = 0; t < contexts.size(); ++t) {
        asio::post(*contexts[t], [&thread_sessions = sessions[t]] {
          for (auto& session : thread_sessions) session->Wake();
        });
      }
    }
    if (halted_at && now - *halted_at > std::chrono::seconds(2)) {
      for (auto& context : contexts) context->stop();
    }
    if (options.progress && now - last_report >= std::chrono::seconds(1)) {
      const int64_t sent = shared.sent.load();
      const double rate = static_cast<double>(sent - last_sent) /
                          std::chrono::duration<double>(now - last_report).count();
      progress << ProgressLine(shared, rate) << "\n";
      progress.flush();
      last_report = now;
      last_sent = sent;
    }
  }
  for (auto& thread : threads) thread.join();

  summary.seconds = std::chrono::duration<double>(Clock::now() - shared.start).count();
  LatencyHistogram latencies;
  for (auto& thread_sessions : sessions) {
    for (auto& session : thread_sessions) latencies.Merge(session->latencies());
  }
  summary.sent = shared.sent.load();
  summary.accepted = shared.accepted.load();
  summary.rejected = shared.rejected.load();
  // Records sent but cut off by the stop (no answer) count as failed.
  summary.failed = summary.sent - summary.accepted - summary.rejected;
  summary.retried = shared.retried.load();
  summary.gave_up = shared.gave_up.load();
  summary.requests = shared.requests.load();
  summary.rate = summary.seconds > 0 ? static_cast<double>(summary.sent) / summary.seconds : 0;
  summary.latency_p50_ms = latencies.QuantileMs(0.50);
  summary.latency_p99_ms = latencies.QuantileMs(0.99);
  summary.first_error = shared.first_error;
  return summary;
}

std::string FormatSummary(const LoadSummary& summary) {
  char line[512];
  std::snprintf(line, sizeof(line),
                "sent %lld records in %.2f s (%.0f rec/s, %lld requests): accepted %lld, "
                "rejected %lld, failed %lld (gave up %lld); retried %lld; latency p50 %.2f ms, "
                "p99 %.2f ms",
                static_cast<long long>(summary.sent), summary.seconds, summary.rate,
                static_cast<long long>(summary.requests), static_cast<long long>(summary.accepted),
                static_cast<long long>(summary.rejected), static_cast<long long>(summary.failed),
                static_cast<long long>(summary.gave_up), static_cast<long long>(summary.retried),
                summary.latency_p50_ms, summary.latency_p99_ms);
  std::string out = line;
  if (!summary.first_error.empty()) out += "; first error: " + summary.first_error;
  return out;
}

}  // namespace pinpipe::emulate
