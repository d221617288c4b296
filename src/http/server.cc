#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

// Asio's scheduler trips GCC's -Wnull-dereference once inlined at -O2 (a false positive in
// boost/asio/detail/impl/scheduler.ipp); the CI preset builds with -Werror.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#pragma GCC diagnostic pop

#include "core/check.h"
#include "core/mutex.h"
#include "http/request_parser.h"
#include "log/logger.h"

namespace pinpipe::http {
namespace {

const log::Logger kHttpLog("http");

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// Minimum free buffer space offered to each read.
constexpr size_t kReadSize = 4096;
// Upper bound on how long a closing connection keeps draining what the client still sends.
constexpr std::chrono::milliseconds kMaxLinger{2000};
// Pause before accepting again after accept() failed (EMFILE etc.), instead of spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

// Shared by the server and every Responder it hands out. A shared_ptr because a Responder may
// outlive the Server (the Kafka delivery thread can hold one past shutdown): the flag, read
// under the mutex, stops late calls from touching io_contexts that no longer exist.
struct Gate {
  core::Mutex mu;
  bool open GUARDED_BY(mu) = true;
};

// Shared by a streaming connection and its sink: whether the stream ended, and how many bytes
// are queued for writing (Send() counts them in, the writes out).
struct StreamState {
  std::atomic<bool> closed{false};
  std::atomic<size_t> queued{0};
};

class Connection;

// One I/O thread: its io_context and the connections living on it. The list is touched only
// on that thread, so it needs no lock.
struct Slot {
  asio::io_context context{1};  // concurrency hint: one thread runs it
  Connection* head = nullptr;
  bool stopping = false;
};

// What connections need from the server. Outlives every connection (see Server::Impl::~Impl).
struct ServerState {
  ServerOptions options;
  Handler handler;
  HeadHandler head_handler;  // may be empty
  ParserLimits limits;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::atomic<size_t> open_connections{0};
  std::atomic<size_t> buffered_body_bytes{0};  // reserved by all connections (the budget)
  std::atomic<uint64_t> budget_refusals{0};
  std::atomic<uint64_t> body_bytes_reserved_total{0};
};

std::string EscapeJson(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // our messages have none; be safe
    out += c;
  }
  return out;
}

bool SafeHeaderText(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

void AppendNumber(std::string& out, size_t value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, result.ptr);
}

// One client connection. Runs entirely on its slot's thread, except the Responder, which may be
// called from any thread and only posts to that thread.
//
// Lifetime: shared_ptr, because three independent parties need it alive: pending Asio
// operations (their handlers hold a reference), the slot's list of open connections (through
// self_ref_, so a connection waiting on a slow handler, with no I/O pending, stays alive) and
// Responders (which hold only a weak_ptr, so an answer arriving after Close() finds nothing).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerState& server, Slot& slot, tcp::socket socket, bool rejected)
      : server_(server),
        slot_(slot),
        socket_(std::move(socket)),
        timer_(slot.context),
        parser_(server.limits),
        rejected_(rejected) {
    parser_.PauseAfterHeaders(true);
  }

  // On the slot thread.
  void Start() {
    self_ref_ = shared_from_this();
    next_ = slot_.head;
    if (next_ != nullptr) next_->prev_ = this;
    slot_.head = this;
    if (slot_.stopping) {
      Close();
      return;
    }
    ErrorCode ec;
    socket_.set_option(tcp::no_delay(true), ec);
    // Non-blocking so that responses are first written synchronously (see Write()).
    socket_.non_blocking(true, ec);
    if (rejected_) {
      RespondError(503, "server at its connection limit; retry later", /*retry_after=*/true);
      return;
    }
    Process();
  }

  // On the slot thread. The caller must hold a reference: this drops the list's one.
  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    if (stream_) stream_->closed.store(true);
    ReleaseBudget();
    ErrorCode ec;
    timer_.cancel();
    socket_.close(ec);
    if (prev_ != nullptr) prev_->next_ = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    if (slot_.head == this) slot_.head = next_;
    prev_ = next_ = nullptr;
    if (!rejected_) server_.open_connections.fetch_sub(1);
    self_ref_.reset();
  }

  Connection* next() const { return next_; }

  // On the slot thread: a piece of a streaming response, queued by a StreamSink.
  void StreamBytes(std::string bytes) {
    if (phase_ != Phase::kStreaming) return;
    stream_queue_.push_back(std::move(bytes));
    if (!stream_writing_) WriteNextPiece();
  }
  // On the slot thread: the sink was closed; end once the queue is written.
  void EndStream() {
    if (phase_ != Phase::kStreaming) return;
    stream_ending_ = true;
    if (!stream_writing_) Close();
  }
  Slot& slot() { return slot_; }

 private:
  enum class Phase { kReading, kHandling, kWriting, kLingering, kStreaming, kClosed };

  // Parses what is buffered and acts on it: dispatches complete requests (looping through
  // pipelined ones answered synchronously), answers protocol errors, or reads more.
  void Process() {
    while (phase_ == Phase::kReading) {
      switch (parser_.Parse()) {
        case RequestParser::Result::kHeaders:
          if (!OnHeaders()) return;
          break;
        case RequestParser::Result::kComplete:
          if (!Dispatch()) return;
          break;
        case RequestParser::Result::kError:
          if (parser_.error_status() == 413) {
            // Say which limit: it may be the route's, not the server's.
            RespondError(413, "request body larger than the limit of " +
                                  std::to_string(parser_.body_limit()) + " bytes for this request");
          } else {
            RespondError(parser_.error_status(), parser_.error_detail());
          }
          return;
        case RequestParser::Result::kNeedMore:
          if (!request_started_ && parser_.started()) {
            request_started_ = true;
            request_deadline_ = Clock::now() + server_.options.request_timeout;
          }
          if (parser_.expects_continue() && parser_.headers_complete() && !continue_sent_) {
            // The body limit was checked with the headers, so the client may send it now.
            continue_sent_ = true;
            writing_continue_ = true;
            out_.assign("HTTP/1.1 100 Continue\r\n\r\n");
            body_.clear();
            if (!Write(/*close=*/false)) return;
            break;
          }
          SetDeadline(request_started_ ? request_deadline_
                                       : Clock::now() + server_.options.idle_timeout);
          Read();
          return;
      }
    }
  }

  void Read() {
    std::span<char> space = parser_.PrepareWrite(kReadSize);
    // A chunked body's size is unknown up front: its buffer is reserved as it grows.
    if (parser_.headers_complete() && parser_.chunked() && parser_.capacity() > reserved_ &&
        !Reserve(parser_.capacity() - reserved_)) {
      RefuseOverBudget();
      return;
    }
    socket_.async_read_some(
        asio::buffer(space.data(), space.size()),
        [self = shared_from_this()](const ErrorCode& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const ErrorCode& ec, size_t n) {
    if (ec == asio::error::operation_aborted || phase_ != Phase::kReading) return;
    if (ec) {
      // EOF or reset: nobody is left to read an answer to a half-received request.
      Close();
      return;
    }
    parser_.Commit(n);
    Process();
  }

  // The header block is complete and no body byte has been looked at: the head handler decides
  // the body limit or answers; then the body is reserved against the server-wide budget.
  // Returns true when parsing may go on.
  bool OnHeaders() {
    size_t limit = server_.options.max_body_bytes;
    if (server_.head_handler) {
      HeadDecision decision;
      try {
        decision = server_.head_handler(parser_.request());
      } catch (const std::exception& e) {
        kHttpLog.Log(log::Level::kError, "head handler threw", {{"what", e.what()}});
        RespondError(500, "internal error while handling the request");
        return false;
      }
      if (decision.answer) return AnswerHead(std::move(*decision.answer));
      limit = std::min(limit, decision.max_body_bytes);
    }
    parser_.SetBodyLimit(limit);
    // Over the limit: the next Parse() answers 413. Within it: the whole body is reserved now,
    // before it is read, so a burst of large bodies is refused instead of buffered.
    const size_t length = parser_.content_length();
    if (length > 0 && length <= limit && !Reserve(length)) {
      RefuseOverBudget();
      return false;
    }
    return true;
  }

  // Sends the head handler's answer. Without a body the request is complete and the connection
  // goes on as after any answer; with one, the body is not read and the connection closes.
  bool AnswerHead(Response response) {
    phase_ = Phase::kHandling;
    ++seq_;  // a Responder of an earlier request can never answer this one
    TakeRequestFlags();
    if (parser_.has_body()) {
      response.close = true;
      Respond(std::move(response));
      return false;
    }
    // No body: the request completes at once (nothing can exceed a limit).
    RequestParser::Result r = parser_.Parse();
    PINPIPE_CHECK(r == RequestParser::Result::kComplete) << "bodiless request not complete";
    return Respond(std::move(response));
  }

  // Reserves `n` body bytes against the server-wide budget. False (nothing reserved) if over.
  bool Reserve(size_t n) {
    const size_t budget = server_.options.max_buffered_body_bytes;
    size_t current = server_.buffered_body_bytes.load(std::memory_order_relaxed);
    do {
      if (n > budget || current > budget - n) return false;
    } while (!server_.buffered_body_bytes.compare_exchange_weak(current, current + n,
                                                                std::memory_order_relaxed));
    server_.body_bytes_reserved_total.fetch_add(n, std::memory_order_relaxed);
    reserved_ += n;
    return true;
  }

  void ReleaseBudget() {
    if (reserved_ == 0) return;
    server_.buffered_body_bytes.fetch_sub(reserved_, std::memory_order_relaxed);
    reserved_ = 0;
  }

  void RefuseOverBudget() {
    server_.budget_refusals.fetch_add(1, std::memory_order_relaxed);
    RespondError(503, "the server is buffering too many request bodies; retry later",
                 /*retry_after=*/true);
  }

  void TakeRequestFlags() {
    const Request& request = parser_.request();
    head_request_ = request.method == "HEAD";
    keep_alive_ = request.keep_alive;
    http10_ = parser_.version_minor() == 0;
  }

  // Hands the complete request to the handler. Returns true when the response has already
  // been written and the caller may go on with the next buffered request.
  bool Dispatch() {
    phase_ = Phase::kHandling;
    const uint64_t seq = ++seq_;
    const Request& request = parser_.request();
    TakeRequestFlags();
    bool threw = false;
    in_handler_ = true;
    try {
      server_.handler(request, MakeResponder(seq));
    } catch (const std::exception& e) {
      kHttpLog.Log(log::Level::kError, "handler threw", {{"what", e.what()}});
      threw = true;
    } catch (...) {
      kHttpLog.Error("handler threw a non-exception");
      threw = true;
    }
    in_handler_ = false;
    if (threw && phase_ == Phase::kHandling && !inline_response_) {
      RespondError(500, "internal error while handling the request");
      return false;
    }
    if (inline_response_) {
      Response response = std::move(*inline_response_);
      inline_response_.reset();
      return Respond(std::move(response));
    }
    return false;
  }

  Responder MakeResponder(uint64_t seq) {
    return [gate = server_.gate, weak = weak_from_this(), seq](Response response) {
      core::MutexLock lock(gate->mu);
      if (!gate->open) return;
      std::shared_ptr<Connection> self = weak.lock();
      if (self == nullptr) return;
      Connection& connection = *self;
      // Answered from inside the handler call: hand the response back to Dispatch() instead
      // of posting, which saves a queue round trip per request and cannot recurse.
      if (connection.slot_.context.get_executor().running_in_this_thread() &&
          connection.in_handler_ && connection.seq_ == seq) {
        connection.inline_response_ = std::move(response);
        return;
      }
      // The posted handler holds the only new reference, so the connection is never destroyed
      // on this (foreign) thread.
      asio::post(connection.slot_.context,
                 [self = std::move(self), seq, response = std::move(response)]() mutable {
                   self->OnResponse(seq, std::move(response));
                 });
    };
  }

  void OnResponse(uint64_t seq, Response response) {
    // A second call of one Responder, or an answer after an error/close, is dropped.
    if (phase_ != Phase::kHandling || seq != seq_) return;
    if (Respond(std::move(response))) Process();
  }

  void RespondError(int status, std::string_view detail, bool retry_after = false) {
    Response response;
    response.status = status;
    response.body = "{\"detail\":\"" + EscapeJson(detail) + "\"}";
    if (retry_after) {
      response.headers.emplace_back("Retry-After",
                                    std::to_string(server_.options.retry_after_seconds));
    }
    response.close = true;
    head_request_ = false;
    Respond(std::move(response));
  }

  // Serializes and writes `response`. Returns true if it was written synchronously and the
  // connection stays open for the next request.
  bool Respond(Response response) {
    bool close = response.close || !keep_alive_;
    // 1xx, 204 and 304 have no body (RFC 9110 6.4.1); HEAD gets the length but no body.
    bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
    // A streaming body has no length: it ends when the connection closes.
    const bool streaming = response.on_stream && !bodiless && !head_request_;
    if (streaming) {
      stream_start_ = std::move(response.on_stream);
      response.body.clear();
      close = true;
    }
    out_.clear();
    out_.append("HTTP/1.1 ");
    AppendNumber(out_, static_cast<size_t>(std::clamp(response.status, 100, 999)));
    out_.push_back(' ');
    out_.append(ReasonPhrase(response.status));
    out_.append("\r\n");
    if (!bodiless) {
      if (!response.content_type.empty() && SafeHeaderText(response.content_type)) {
        out_.append("Content-Type: ").append(response.content_type).append("\r\n");
      }
      if (!streaming) {
        out_.append("Content-Length: ");
        AppendNumber(out_, response.body.size());
        out_.append("\r\n");
      }
    }
    if (close) {
      out_.append("Connection: close\r\n");
    } else if (http10_) {
      out_.append("Connection: keep-alive\r\n");
    }
    for (const auto& [name, value] : response.headers) {
      // A CR or LF from a handler would let it inject headers; such a header is dropped.
      if (name.empty() || !SafeHeaderText(name) || !SafeHeaderText(value)) continue;
      out_.append(name).append(": ").append(value).append("\r\n");
    }
    out_.append("\r\n");
    body_ = std::move(response.body);
    if (bodiless || head_request_) body_.clear();
    return Write(close);
  }

  // Remaining bytes of out_ (head) then body_, skipping the `written_` already sent.
  std::array<asio::const_buffer, 2> Pending() const {
    if (written_ < out_.size()) {
      return {asio::buffer(out_.data() + written_, out_.size() - written_), asio::buffer(body_)};
    }
    size_t skip = written_ - out_.size();
    return {asio::buffer(body_.data() + skip, body_.size() - skip), asio::const_buffer()};
  }

  // Writes out_ + body_. Returns what FinishWrite() returns if done synchronously, else false.
  bool Write(bool close) {
    close_after_write_ = close;
    phase_ = Phase::kWriting;
    written_ = 0;
    // Try a synchronous non-blocking writev first: a small response fits the socket buffer,
    // and finishing here saves a reactor round trip per request.
    ErrorCode ec;
    written_ = socket_.write_some(Pending(), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec.clear();
    }
    if (ec) {
      Close();
      return false;
    }
    if (written_ == out_.size() + body_.size()) return FinishWrite();
    SetDeadline(Clock::now() + server_.options.request_timeout);
    asio::async_write(
        socket_, Pending(),
        [self = shared_from_this()](const ErrorCode& error, size_t) { self->OnWrite(error); });
    return false;
  }

  void OnWrite(const ErrorCode& ec) {
    if (phase_ != Phase::kWriting) return;
    if (ec) {
      Close();
      return;
    }
    written_ = out_.size() + body_.size();
    if (FinishWrite()) Process();
  }

  // Returns true if the connection is ready to parse the next request.
  bool FinishWrite() {
    if (writing_continue_) {
      writing_continue_ = false;
      phase_ = Phase::kReading;
      return true;
    }
    if (stream_start_) {
      BeginStream();
      return false;
    }
    if (close_after_write_) {
      GracefulClose();
      return false;
    }
    parser_.NextRequest();  // also releases a receive buffer this request grew
    ReleaseBudget();
    // A large response (a batch's result list) is not kept for the next one.
    if (body_.capacity() > RequestParser::kKeepBytes) std::string().swap(body_);
    request_started_ = false;
    continue_sent_ = false;
    phase_ = Phase::kReading;
    return true;
  }

  // The head of a streaming response is written: hand the application its sink, and read on
  // only to notice the client going away (what it sends is dropped).
  void BeginStream();

  void ReadWhileStreaming() {
    parser_.Reset();
    std::span<char> space = parser_.PrepareWrite(kReadSize);
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this()](const ErrorCode& ec, size_t) {
                              if (self->phase_ != Phase::kStreaming) return;
                              if (ec) {
                                self->Close();
                              } else {
                                self->ReadWhileStreaming();
                              }
                            });
  }

  void WriteNextPiece() {
    if (stream_queue_.empty()) {
      stream_writing_ = false;
      if (stream_ending_) Close();
      return;
    }
    stream_writing_ = true;
    SetDeadline(Clock::now() + server_.options.request_timeout);
    asio::async_write(socket_, asio::buffer(stream_queue_.front()),
                      [self = shared_from_this()](const ErrorCode& ec, size_t) {
                        if (self->phase_ != Phase::kStreaming) return;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->stream_->queued.fetch_sub(self->stream_queue_.front().size());
                        self->stream_queue_.pop_front();
                        self->WriteNextPiece();
                      });
  }

  // Half-closes and drains: closing a socket with unread input makes the kernel send RST,
  // which can destroy the response (e.g. a 413) before the client reads it.
  void GracefulClose() {
    phase_ = Phase::kLingering;
    ReleaseBudget();  // the drain below drops the buffered body (RequestParser::Reset)
    std::string().swap(body_);
    ErrorCode ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    SetDeadline(Clock::now() +
                std::min<std::chrono::milliseconds>(server_.options.request_timeout, kMaxLinger));
    Drain();
  }

  void Drain() {
    parser_.Reset();
    std::span<char> space = parser_.PrepareWrite(kReadSize);
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this()](const ErrorCode& ec, size_t) {
                              if (self->phase_ != Phase::kLingering) return;
                              if (ec) {
                                self->Close();
                              } else {
                                self->Drain();
                              }
                            });
  }

  // Deadlines are lazy: moving one later costs nothing (the timer re-arms itself when it fires
  // early); only moving one earlier touches the timer. Keep-alive traffic thus rarely does.
  void SetDeadline(Clock::time_point deadline) {
    deadline_ = deadline;
    if (timer_armed_ && deadline >= timer_expiry_) return;
    timer_armed_ = true;
    timer_expiry_ = deadline;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_at(deadline);
    timer_.async_wait(
        [self = shared_from_this(), generation](const ErrorCode&) { self->OnTimer(generation); });
  }

  void OnTimer(uint64_t generation) {
    if (generation != timer_generation_ || phase_ == Phase::kClosed) return;
    timer_armed_ = false;
    // No deadline while the handler works (a Kafka delivery may take seconds); reading or
    // writing again sets a new one.
    if (phase_ == Phase::kHandling) return;
    // A stream has a deadline only while a piece is being written (a client that stopped
    // reading); an idle stream waits for the application's next piece.
    if (phase_ == Phase::kStreaming && !stream_writing_) return;
    if (Clock::now() < deadline_) {
      SetDeadline(deadline_);
      return;
    }
    if (phase_ == Phase::kReading && request_started_) {
      ErrorCode ec;
      socket_.cancel(ec);  // the pending read; the 408 and the drain read replace it
      RespondError(408, "request not completed within the request timeout");
      return;
    }
    Close();  // idle keep-alive (silently), stalled writer, or drain time over
  }

  ServerState& server_;
  Slot& slot_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  RequestParser parser_;
  const bool rejected_;  // over max_connections: answer 503, not counted as open
  size_t reserved_ = 0;  // body bytes this connection holds of the server-wide budget

  // Slot list links and the list's reference to this connection (dropped by Close()).
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  std::shared_ptr<Connection> self_ref_;

  Phase phase_ = Phase::kReading;
  bool request_started_ = false;
  Clock::time_point request_deadline_;
  bool continue_sent_ = false;
  bool writing_continue_ = false;

  // The request being handled.
  uint64_t seq_ = 0;
  bool in_handler_ = false;
  std::optional<Response> inline_response_;
  bool head_request_ = false;
  bool keep_alive_ = true;
  bool http10_ = false;

  // The response being written; buffers reused across requests.
  std::string out_;
  std::string body_;
  size_t written_ = 0;
  bool close_after_write_ = false;

  // A streaming response (see BeginStream): the application's callback until the head is
  // written, then the shared state and the pieces waiting to be written.
  std::function<void(std::shared_ptr<StreamSink>)> stream_start_;
  std::shared_ptr<StreamState> stream_;
  std::deque<std::string> stream_queue_;
  bool stream_writing_ = false;
  bool stream_ending_ = false;

  // Timer state (see SetDeadline).
  Clock::time_point deadline_;
  Clock::time_point timer_expiry_;
  bool timer_armed_ = false;
  uint64_t timer_generation_ = 0;
};

// The StreamSink of one streaming connection: hands pieces to the connection's I/O thread.
class ConnectionSink final : public StreamSink {
 public:
  ConnectionSink(std::shared_ptr<Gate> gate, std::weak_ptr<Connection> connection,
                 std::shared_ptr<StreamState> state, size_t max_queued)
      : gate_(std::move(gate)),
        connection_(std::move(connection)),
        state_(std::move(state)),
        max_queued_(max_queued) {}

  bool Send(std::string bytes) override {
    core::MutexLock lock(gate_->mu);
    if (!gate_->open || state_->closed.load()) return false;
    std::shared_ptr<Connection> self = connection_.lock();
    if (self == nullptr) return false;
    const size_t size = bytes.size();
    if (state_->queued.load() + size > max_queued_) {
      // The client does not read: give up on it rather than buffer without end.
      state_->closed.store(true);
      asio::post(self->slot().context, [self] { self->EndStream(); });
      return false;
    }
    state_->queued.fetch_add(size);
    asio::post(self->slot().context,
               [self, bytes = std::move(bytes)]() mutable { self->StreamBytes(std::move(bytes)); });
    return true;
  }

  void Close() override {
    core::MutexLock lock(gate_->mu);
    if (!gate_->open || state_->closed.exchange(true)) return;
    if (std::shared_ptr<Connection> self = connection_.lock()) {
      asio::post(self->slot().context, [self] { self->EndStream(); });
    }
  }

  bool closed() const override { return state_->closed.load(); }

 private:
  std::shared_ptr<Gate> gate_;
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<StreamState> state_;
  const size_t max_queued_;
};

void Connection::BeginStream() {
  phase_ = Phase::kStreaming;
  ReleaseBudget();
  std::string().swap(body_);
  stream_ = std::make_shared<StreamState>();
  auto start = std::move(stream_start_);
  stream_start_ = nullptr;
  ReadWhileStreaming();
  auto sink = std::make_shared<ConnectionSink>(server_.gate, weak_from_this(), stream_,
                                               server_.options.max_stream_queue_bytes);
  try {
    start(std::move(sink));
  } catch (const std::exception& e) {
    kHttpLog.Log(log::Level::kError, "stream handler threw", {{"what", e.what()}});
    Close();
  }
}

void CloseAll(Slot& slot) {
  slot.stopping = true;
  for (Connection* c = slot.head; c != nullptr;) {
    Connection* next = c->next();
    std::shared_ptr<Connection> hold = c->shared_from_this();  // Close() drops the list's ref
    c->Close();
    c = next;
  }
}

void RunLoop(asio::io_context& context) {
  for (;;) {
    try {
      context.run();
      return;
    } catch (const std::exception& e) {
      // Handler exceptions are caught in Dispatch(); this is a last resort so one bad
      // callback does not take the I/O thread down with every connection on it.
      kHttpLog.Log(log::Level::kError, "I/O thread caught an exception", {{"what", e.what()}});
    }
  }
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, Handler handler, HeadHandler head_handler) {
    state.options = std::move(options);
    state.handler = std::move(handler);
    state.head_handler = std::move(head_handler);
    state.limits.max_body_bytes = state.options.max_body_bytes;
    state.limits.max_header_bytes = state.options.max_header_bytes;
  }

  ~Impl() {
    // Explicit order: I/O objects before their io_contexts, and the io_contexts (whose pending
    // handlers may own the last references to connections) before the state those use.
    accept_backoff.reset();
    acceptor.reset();
    slots.clear();
  }

  // On slot 0's thread.
  void Accept() {
    Slot& target = *slots[next_slot];
    next_slot = (next_slot + 1) % slots.size();
    acceptor->async_accept(target.context, [this, &target](const ErrorCode& ec,
                                                           tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        accept_backoff->expires_after(kAcceptBackoff);
        accept_backoff->async_wait([this](const ErrorCode& error) {
          if (!error) Accept();
        });
        return;
      }
      bool rejected = state.open_connections.load() >= state.options.max_connections;
      if (!rejected) state.open_connections.fetch_add(1);
      auto connection = std::make_shared<Connection>(state, target, std::move(socket), rejected);
      asio::post(target.context, [connection = std::move(connection)] { connection->Start(); });
      Accept();
    });
  }

  ServerState state;
  std::vector<std::unique_ptr<Slot>> slots;
  std::optional<tcp::acceptor> acceptor;  // on slot 0
  std::optional<asio::steady_timer> accept_backoff;
  size_t next_slot = 0;  // slot 0's thread only
  uint16_t port = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::jthread> threads;  // joined by Stop(); io_context::stop() ends them

  core::Mutex lifecycle_mu;
  bool started GUARDED_BY(lifecycle_mu) = false;
  bool stopped GUARDED_BY(lifecycle_mu) = false;
};

Server::Server(ServerOptions options, Handler handler, HeadHandler head_handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler),
                                   std::move(head_handler))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  Impl& impl = *impl_;
  core::MutexLock lock(impl.lifecycle_mu);
  if (impl.started) return FailedPrecondition("http server already started");
  impl.started = true;
  const ServerOptions& options = impl.state.options;
  size_t threads = static_cast<size_t>(std::max(1, options.threads));
  for (size_t i = 0; i < threads; ++i) impl.slots.push_back(std::make_unique<Slot>());
  asio::io_context& context = impl.slots[0]->context;

  const std::string where = options.host + ":" + std::to_string(options.port);
  ErrorCode ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(context);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return Unavailable("cannot resolve http listen address " + where + ": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  impl.acceptor.emplace(context);
  tcp::acceptor& acceptor = *impl.acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) impl.port = acceptor.local_endpoint(ec).port();
  if (ec) return Unavailable("cannot listen on " + where + ": " + ec.message());
  impl.accept_backoff.emplace(context);

  impl.Accept();
  for (auto& slot : impl.slots) {
    impl.work.push_back(asio::make_work_guard(slot->context));
    impl.threads.emplace_back([&context = slot->context] { RunLoop(context); });
  }
  return Status::Ok();
}

void Server::Stop() {
  Impl& impl = *impl_;
  core::MutexLock lock(impl.lifecycle_mu);
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  {
    // From now on Responders do nothing; pending answers are dropped with their connections.
    core::MutexLock gate_lock(impl.state.gate->mu);
    impl.state.gate->open = false;
  }
  if (impl.acceptor) {
    asio::post(impl.slots[0]->context, [&impl] {
      ErrorCode ec;
      impl.acceptor->close(ec);
      impl.accept_backoff->cancel();
    });
  }
  // Each slot closes its connections, then stops without running the aborted completions
  // (their handlers are destroyed with the io_context). Posted after the acceptor close, so
  // slot 0 accepts nothing more.
  for (auto& slot : impl.slots) {
    asio::post(slot->context, [&slot = *slot] {
      CloseAll(slot);
      slot.context.stop();
    });
  }
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  impl.work.clear();
}

uint16_t Server::port() const { return impl_->port; }

size_t Server::connections() const { return impl_->state.open_connections.load(); }

size_t Server::buffered_body_bytes() const {
  return impl_->state.buffered_body_bytes.load(std::memory_order_relaxed);
}

uint64_t Server::budget_refusals() const {
  return impl_->state.budget_refusals.load(std::memory_order_relaxed);
}

uint64_t Server::body_bytes_reserved_total() const {
  return impl_->state.body_bytes_reserved_total.load(std::memory_order_relaxed);
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace pinpipe::http
