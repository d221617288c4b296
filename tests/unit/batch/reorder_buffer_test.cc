#include "batch/reorder_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

namespace pinpipe::batch {
namespace {

// A chunk of `bytes` texts whose first byte names the object and chunk, so order is checkable.
CleanChunk MakeChunk(size_t object, int index, bool last, size_t bytes) {
  CleanChunk c;
  c.object = object;
  c.last = last;
  c.csv = std::string(bytes, 'x');
  c.records = index;
  return c;
}

struct PipelineRun {
  std::vector<std::pair<size_t, int64_t>> order;  // (object, chunk index) as popped
  size_t peak_bytes = 0;
  size_t peak_in_flight = 0;
};

// `workers` threads clean `objects` objects of `chunks_per_object` chunks each, sleeping a
// random time between chunks so that objects finish out of order.
PipelineRun RunPipeline(size_t objects, int chunks_per_object, size_t chunk_bytes, size_t workers,
                        size_t window, size_t max_bytes, uint32_t seed) {
  ReorderBuffer buffer(objects, window, max_bytes);
  std::vector<std::jthread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(seed + static_cast<uint32_t>(w));
      while (std::optional<size_t> i = buffer.Claim()) {
        for (int c = 0; c < chunks_per_object; ++c) {
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
          if (!buffer.Push(MakeChunk(*i, c, c + 1 == chunks_per_object, chunk_bytes))) return;
        }
      }
    });
  }
  PipelineRun run;
  while (std::optional<CleanChunk> c = buffer.Pop()) run.order.emplace_back(c->object, c->records);
  threads.clear();
  run.peak_bytes = buffer.peak_bytes();
  run.peak_in_flight = buffer.peak_objects_in_flight();
  return run;
}

TEST(ReorderBufferTest, ChunksComeOutInObjectThenChunkOrder) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const PipelineRun run = RunPipeline(/*objects=*/40, /*chunks=*/5, /*bytes=*/100, /*workers=*/4,
                                        /*window=*/8, /*max_bytes=*/1 << 20, seed);
    ASSERT_EQ(run.order.size(), 200u);
    for (size_t i = 0; i < run.order.size(); ++i) {
      EXPECT_EQ(run.order[i], std::make_pair(i / 5, static_cast<int64_t>(i % 5))) << i;
    }
  }
}

TEST(ReorderBufferTest, BufferedBytesStayBoundedWhileWorkersRunAhead) {
  // 1 KiB chunks, a 4 KiB budget, 4 workers: without the bound the workers would buffer whole
  // objects (20 KiB each) while the head's worker is slow.
  const PipelineRun run = RunPipeline(/*objects=*/30, /*chunks=*/20, /*bytes=*/1024, /*workers=*/4,
                                      /*window=*/8, /*max_bytes=*/4096, /*seed=*/7);
  ASSERT_EQ(run.order.size(), 600u);
  // The budget plus at most one chunk per worker (a Push that passed the check) plus the head's.
  EXPECT_LE(run.peak_bytes, 4096u + 5 * (1024 + 64));
  EXPECT_LE(run.peak_in_flight, 8u);
}

TEST(ReorderBufferTest, WindowLimitsObjectsInFlight) {
  const PipelineRun run = RunPipeline(/*objects=*/20, /*chunks=*/2, /*bytes=*/10, /*workers=*/6,
                                      /*window=*/3, /*max_bytes=*/1 << 20, /*seed=*/11);
  ASSERT_EQ(run.order.size(), 40u);
  EXPECT_LE(run.peak_in_flight, 3u);
}

TEST(ReorderBufferTest, CancelReleasesBlockedWorkersAndTheCommitter) {
  ReorderBuffer buffer(/*objects=*/10, /*window=*/2, /*max_bytes=*/10);
  ASSERT_EQ(buffer.Claim(), 0u);
  ASSERT_EQ(buffer.Claim(), 1u);
  std::atomic<int> released{0};
  std::jthread claimer([&] {
    EXPECT_EQ(buffer.Claim(), std::nullopt);  // beyond the window until cancelled
    ++released;
  });
  ASSERT_TRUE(buffer.Push(MakeChunk(1, 0, false, 100)));  // over budget, accepted (was < max)
  std::jthread pusher([&] {
    EXPECT_FALSE(buffer.Push(MakeChunk(1, 1, true, 100)));  // object 1 is not the head: waits
    ++released;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(released.load(), 0);
  buffer.Cancel();
  claimer.join();
  pusher.join();
  EXPECT_EQ(released.load(), 2);
  EXPECT_FALSE(buffer.Pop().has_value());
}

TEST(ReorderBufferTest, NoObjectsMeansNothingToPop) {
  ReorderBuffer buffer(0, 4, 100);
  EXPECT_EQ(buffer.Claim(), std::nullopt);
  EXPECT_FALSE(buffer.Pop().has_value());
}

}  // namespace
}  // namespace pinpipe::batch
