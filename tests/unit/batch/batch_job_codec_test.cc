// The batch job reading a day whose archive objects are gzip, zstd or both
// (archive/archive_codec.h).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>
#include <tuple>

#include "archive/archive_codec.h"
#include "archive/archive_layout.h"
#include "batch/batch_job.h"
#include "testing/batch_lake.h"
#include "testing/fake_object_store.h"

namespace pinpipe::batch {
namespace {

// The batch job (and so the scheduler, which runs it) reads a day whose objects are gzip, zstd
// or both, by extension: the same rows, dead letters and counts either way.
TEST(ArchiveCodecBatchTest, BatchJobReadsGzipAndZstdObjectsAlike) {
  auto run = [](bool gzip_hours) {
    testing::FakeObjectStore store;
    for (int hour = 0; hour < 3; ++hour) {
      std::string text;
      for (int i = hour * 10; i < hour * 10 + 12; ++i) {  // 2 duplicates across hours
        text += testing::PinJson(i, fmt::format("00000000-0000-4000-8000-{:012d}", i), "P",
                                 fmt::format("{}k", i), "art") +
                "\n";
      }
      text += "{broken\n";
      const archive::ArchiveCodec codec =
          gzip_hours && hour != 1 ? archive::ArchiveCodec::kGzip : archive::ArchiveCodec::kZstd;
      auto z = archive::MakeFrameCompressor(codec, 3);
      std::string bytes;
      EXPECT_TRUE((*z)->CompressFrame(text, &bytes).ok());
      const int64_t first_hour = core::HourOf(1704067200000);  // 2024-01-01T00
      EXPECT_TRUE(
          store
              .Put(archive::SegmentObjectKey("pinterest", first_hour + hour, kafka::Partition{0},
                                             kafka::Offset{100 * hour}, codec),
                   bytes, {})
              .ok());
    }
    EXPECT_TRUE(testing::PutSuccess(&store, "pinterest", "2024-01-01").ok());
    BatchJobOptions o;
    o.write_pg = false;
    o.threads = 2;
    BatchJob job(o, transform::Transform::Default(), &store, [](std::string_view) {});
    BatchRunResult r = job.Run(*core::ParseDate("2024-01-01"), *core::ParseDate("2024-01-01"));
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    std::string rows = *store.Get("clean/experimental_data/dt=2024-01-01/part-00000.csv");
    std::string dead = *store.Get("clean/_rejected/dt=2024-01-01/pin.jsonl");
    // The dead letters name the objects: the same but for the extension.
    for (const char* ext : {".jsonl.gz"}) {
      for (size_t p = dead.find(ext); p != std::string::npos; p = dead.find(ext)) {
        dead.replace(p, std::string_view(ext).size(), ".jsonl.zst");
      }
    }
    return std::make_tuple(r.days.at(0).rows(), r.days.at(0).dead(), r.days.at(0).duplicates(),
                           rows, dead);
  };
  const auto zstd = run(false);
  const auto mixed = run(true);
  EXPECT_EQ(std::get<0>(zstd), 32);
  EXPECT_EQ(std::get<1>(zstd), 3);
  EXPECT_EQ(std::get<2>(zstd), 4);
  EXPECT_EQ(zstd, mixed);
}

}  // namespace
}  // namespace pinpipe::batch
