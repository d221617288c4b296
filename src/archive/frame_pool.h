// FramePool: compresses the archiver's frames (zstd or gzip: archive_codec.h) on worker threads, so
// that the thread consuming Kafka only appends lines while another core compresses.
//
// Each frame is compressed on its own with the pool's fixed level (ZSTD_compress2 starts a fresh
// frame every time), so a frame's bytes do not depend on which worker made it or when: callers
// keep the futures in order and concatenate the results, and the object is byte-identical to a
// synchronous build. With 0 threads, Submit compresses inline (tests, tiny deployments).
// Memory is bounded: Submit blocks while `max_pending` frames wait for a worker.
//
// Thread-safety: Submit may be called from any thread; the destructor finishes queued frames
// and joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "archive/zstd_codec.h"
#include "core/mutex.h"
#include "core/status.h"

namespace pinpipe::archive {

class FramePool {
 public:
  // Errors: InvalidArgument for a bad level.
  static StatusOr<std::unique_ptr<FramePool>> Create(int level, int threads, size_t max_pending = 8,
                                                     ArchiveCodec codec = ArchiveCodec::kZstd);
  ~FramePool();
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;

  // The compressed frame of `raw`, when ready.
  std::future<StatusOr<std::string>> Submit(std::string raw);

  int level() const { return level_; }
  ArchiveCodec codec() const { return codec_; }

 private:
  struct Job {
    std::string raw;
    std::promise<StatusOr<std::string>> done;
  };
  FramePool(int level, size_t max_pending, ArchiveCodec codec)
      : level_(level), codec_(codec), max_pending_(max_pending) {}
  void Work(std::stop_token stop, FrameCompressor* compressor);
  static void Compress(FrameCompressor* compressor, Job* job);

  int level_;
  ArchiveCodec codec_;
  size_t max_pending_;
  core::Mutex inline_mu_;
  // 0 threads: set by Create, then used by Submit, one caller at a time (the compressor, not the
  // pointer, is what inline_mu_ guards).
  std::unique_ptr<FrameCompressor> inline_ PT_GUARDED_BY(inline_mu_);
  std::vector<std::unique_ptr<FrameCompressor>> compressors_;  // one per worker

  core::Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Job> queue_ GUARDED_BY(mu_);
  std::vector<std::jthread> workers_;  // last: stopped and joined first
};

}  // namespace pinpipe::archive
