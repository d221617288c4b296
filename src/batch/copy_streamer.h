// CopyStreamer: one `COPY ... FROM STDIN` (text format) fed with ready-made COPY lines through
// a bounded queue and sent by its own thread, so the batch job's committer keeps cleaning and
// writing the lake while PostgreSQL parses and stores the previous megabytes.
//
// The connection is borrowed: between Start() and Finish() (or destruction) only the streamer
// may use it. Memory: at most `max_queued` buffers wait (plus the one being sent).
// Thread-safety: Write() and Finish() are called by one thread (the owner); the sender thread is
// internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "pg/connection.h"

namespace pinpipe::batch {

class CopyStreamer {
 public:
  // Issues `copy_sql` and starts the sender. Errors: per the SQLSTATE table (NotFound for a
  // missing table, ...), Unavailable for a lost connection.
  static StatusOr<std::unique_ptr<CopyStreamer>> Start(pg::Connection* conn,
                                                       const std::string& copy_sql,
                                                       size_t max_queued = 4);
  // Aborts an unfinished COPY (the server discards its rows) and joins the sender.
  ~CopyStreamer();
  CopyStreamer(const CopyStreamer&) = delete;
  CopyStreamer& operator=(const CopyStreamer&) = delete;

  // Queues whole COPY lines; waits while the queue is full. Errors: the sender's first error
  // (Unavailable: the connection broke), after which nothing more is sent.
  Status Write(std::string data);
  // Sends what is queued, ends the COPY and returns the rows the server stored. Errors: the
  // server's verdict on the data (InvalidArgument for a value a column rejects, ...) or the
  // sender's.
  StatusOr<int64_t> Finish();

 private:
  CopyStreamer(pg::Connection* conn, size_t max_queued);
  void SendLoop();
  void Abort();

  pg::Connection* conn_;
  const size_t max_queued_;
  std::thread sender_;
  bool finished_ = false;  // owner thread only

  std::mutex mu_;
  // Guarded by mu_:
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool closing_ = false;  // no more Write(); the sender drains and exits
  Status error_;          // the sender's first error
};

}  // namespace pinpipe::batch
