#include "archive/frame_pool.h"
#include "core/mutex.h"

namespace pinpipe::archive {

StatusOr<std::unique_ptr<FramePool>> FramePool::Create(int level, int threads, size_t max_pending,
                                                       ArchiveCodec codec) {
  std::unique_ptr<FramePool> pool(new FramePool(level, max_pending < 1 ? 1 : max_pending, codec));
  if (threads <= 0) {
    ASSIGN_OR_RETURN(pool->inline_, MakeFrameCompressor(codec, level));
    return pool;
  }
  for (int i = 0; i < threads; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<FrameCompressor> z, MakeFrameCompressor(codec, level));
    pool->compressors_.push_back(std::move(z));
  }
  for (auto& z : pool->compressors_) {
    FrameCompressor* zstd = z.get();
    FramePool* self = pool.get();
    pool->workers_.emplace_back([self, zstd](std::stop_token stop) { self->Work(stop, zstd); });
  }
  return pool;
}

FramePool::~FramePool() {
  {
    core::MutexLock lock(mu_);
    for (std::jthread& w : workers_) w.request_stop();
  }
  cv_.notify_all();
  workers_.clear();  // joins; the workers finish the queue first
}

void FramePool::Compress(FrameCompressor* zstd, Job* job) {
  std::string out;
  Status s = zstd->CompressFrame(job->raw, &out);
  if (s.ok()) {
    job->done.set_value(std::move(out));
  } else {
    job->done.set_value(s);
  }
}

std::future<StatusOr<std::string>> FramePool::Submit(std::string raw) {
  Job job{std::move(raw), {}};
  std::future<StatusOr<std::string>> result = job.done.get_future();
  if (inline_ != nullptr) {
    core::MutexLock lock(inline_mu_);
    Compress(inline_.get(), &job);
    return result;
  }
  core::MutexLock lock(mu_);
  lock.Wait(cv_, [this]() REQUIRES(mu_) { return queue_.size() < max_pending_; });
  queue_.push_back(std::move(job));
  cv_.notify_all();
  return result;
}

void FramePool::Work(std::stop_token stop, FrameCompressor* zstd) {
  while (true) {
    Job job;
    {
      core::MutexLock lock(mu_);
      // Stop only once the queue is empty: every submitted frame gets its result.
      lock.Wait(cv_, [&]() REQUIRES(mu_) { return !queue_.empty() || stop.stop_requested(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();  // room for Submit
    }
    Compress(zstd, &job);
  }
}

}  // namespace pinpipe::archive
