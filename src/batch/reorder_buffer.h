// ReorderBuffer: the bounded stage between the worker pool and the single committer that makes
// a day's output independent of thread timing: objects are cleaned in parallel, in any order,
// but their chunks come out in object order (the day's key order), and an object's chunks in
// the order its worker made them.
//
// Bounds, so memory does not grow with the day's size:
//   * window: a worker may only claim object i while i < head + window (head = the object the
//     committer is waiting for), so at most `window` objects are in flight;
//   * bytes: a worker waits in Push() while the chunks already buffered reach `max_bytes`,
//     except with a chunk of the head when none of the head's is buffered (the committer is
//     waiting for exactly that one), so the pipeline cannot deadlock: the head always
//     progresses, and when it is done the next object becomes the head.
// Peak buffered bytes are thus about max_bytes + one chunk per worker.
//
// Thread-safety: Claim() and Push() are called by worker threads, Pop() by the one committer
// thread, Cancel() by anyone.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "batch/clean_chunk.h"
#include "core/mutex.h"

namespace pinpipe::batch {

class ReorderBuffer {
 public:
  // `objects`: how many objects the day has (numbered 0..objects-1).
  ReorderBuffer(size_t objects, size_t window, size_t max_bytes);

  // Worker: the next object to clean, waiting while it would be beyond the window; nullopt
  // when every object is claimed or after Cancel().
  std::optional<size_t> Claim();
  // Worker: hands over the next chunk of `chunk.object`; waits while the buffer is full unless
  // that object is the head. false after Cancel() (the chunk is dropped).
  bool Push(CleanChunk chunk);
  // Committer: the next chunk in order, waiting for it; nullopt after the last chunk of the last
  // object, or after Cancel().
  std::optional<CleanChunk> Pop();
  // Wakes and ends every wait; later calls return at once (nullopt / false).
  void Cancel();

  // For tests and the memory documentation.
  size_t peak_bytes() const;
  size_t peak_objects_in_flight() const;

 private:
  const size_t objects_;
  const size_t window_;
  const size_t max_bytes_;

  mutable core::Mutex mu_;
  std::condition_variable workers_cv_;    // Claim/Push waiters: head moved or bytes freed
  std::condition_variable committer_cv_;  // Pop waiter: a chunk of the head arrived
  // Guarded by mu_:
  std::map<size_t, std::deque<CleanChunk>> pending_ GUARDED_BY(mu_);  // by object
  size_t head_ GUARDED_BY(mu_) = 0;        // object the committer is reading
  size_t next_claim_ GUARDED_BY(mu_) = 0;  // next object to hand to a worker
  size_t bytes_ GUARDED_BY(mu_) = 0;       // ByteSize() of the chunks in pending_
  size_t peak_bytes_ GUARDED_BY(mu_) = 0;
  size_t peak_in_flight_ GUARDED_BY(mu_) = 0;
  bool cancelled_ GUARDED_BY(mu_) = false;
};

}  // namespace pinpipe::batch
