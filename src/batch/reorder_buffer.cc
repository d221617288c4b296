#include "batch/reorder_buffer.h"
#include "core/mutex.h"

#include <algorithm>

namespace pinpipe::batch {

ReorderBuffer::ReorderBuffer(size_t objects, size_t window, size_t max_bytes)
    : objects_(objects), window_(std::max<size_t>(window, 1)), max_bytes_(max_bytes) {}

std::optional<size_t> ReorderBuffer::Claim() {
  core::MutexLock lock(mu_);
  lock.Wait(workers_cv_, [&]() REQUIRES(mu_) {
    return cancelled_ || next_claim_ >= objects_ || next_claim_ < head_ + window_;
  });
  if (cancelled_ || next_claim_ >= objects_) return std::nullopt;
  const size_t claimed = next_claim_++;
  peak_in_flight_ = std::max(peak_in_flight_, next_claim_ - head_);
  return claimed;
}

bool ReorderBuffer::Push(CleanChunk chunk) {
  core::MutexLock lock(mu_);
  const size_t object = chunk.object;
  // Over the budget only a chunk of the head is accepted, and only while the head has nothing
  // buffered (the committer is waiting for it). A head chunk that finds earlier head chunks
  // still buffered waits too: the committer is taking those, so it cannot deadlock, and a slow
  // committer no longer lets the head's worker run ahead without bound.
  lock.Wait(workers_cv_, [&]() REQUIRES(mu_) {
    if (cancelled_ || bytes_ < max_bytes_) return true;
    if (object != head_) return false;
    auto it = pending_.find(head_);
    return it == pending_.end() || it->second.empty();
  });
  if (cancelled_) return false;
  bytes_ += chunk.ByteSize();
  peak_bytes_ = std::max(peak_bytes_, bytes_);
  pending_[object].push_back(std::move(chunk));
  if (object == head_) committer_cv_.notify_one();
  return true;
}

std::optional<CleanChunk> ReorderBuffer::Pop() {
  core::MutexLock lock(mu_);
  lock.Wait(committer_cv_, [&]() REQUIRES(mu_) {
    if (cancelled_ || head_ >= objects_) return true;
    auto it = pending_.find(head_);
    return it != pending_.end() && !it->second.empty();
  });
  if (cancelled_ || head_ >= objects_) return std::nullopt;
  auto it = pending_.find(head_);
  CleanChunk chunk = std::move(it->second.front());
  it->second.pop_front();
  bytes_ -= chunk.ByteSize();
  if (chunk.last) {
    pending_.erase(it);
    ++head_;
    // The new head may have chunks waiting already; its worker (blocked in Push) may go on.
  }
  workers_cv_.notify_all();
  return chunk;
}

void ReorderBuffer::Cancel() {
  core::MutexLock lock(mu_);
  cancelled_ = true;
  workers_cv_.notify_all();
  committer_cv_.notify_all();
}

size_t ReorderBuffer::peak_bytes() const {
  core::MutexLock lock(mu_);
  return peak_bytes_;
}

size_t ReorderBuffer::peak_objects_in_flight() const {
  core::MutexLock lock(mu_);
  return peak_in_flight_;
}

}  // namespace pinpipe::batch
