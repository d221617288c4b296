// The archive codecs (archive_codec.h), data-driven over both: deterministic frames, concatenated
// frames read as one stream, corrupt and truncated input refused; object names by codec; the
// manifest's codec field (the batch job reading both: tests/unit/batch/batch_job_codec_test.cc).
#include "archive/archive_codec.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "archive/frame_pool.h"
#include "archive/segment_manifest.h"
#include "testing/fake_object_store.h"

namespace pinpipe::archive {
namespace {

struct CodecCase {
  ArchiveCodec codec;
  int level;
  const char* extension;
};

class ArchiveCodecTest : public ::testing::TestWithParam<CodecCase> {};

INSTANTIATE_TEST_SUITE_P(Codecs, ArchiveCodecTest,
                         ::testing::Values(CodecCase{ArchiveCodec::kZstd, 3, ".jsonl.zst"},
                                           CodecCase{ArchiveCodec::kGzip, 6, ".jsonl.gz"}),
                         [](const ::testing::TestParamInfo<CodecCase>& param_info) {
                           return std::string(CodecName(param_info.param.codec));
                         });

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += fmt::format("{{\"ind\": {}, \"x\": \"{}\"}}\n", i, i * 7);
  return s;
}

TEST_P(ArchiveCodecTest, SameFrameSameBytesAndConcatenatedFramesReadAsOne) {
  const CodecCase c = GetParam();
  auto a = MakeFrameCompressor(c.codec, c.level);
  auto b = MakeFrameCompressor(c.codec, c.level);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string one, two, three;
  ASSERT_TRUE((*a)->CompressFrame(Lines(0, 500), &one).ok());
  ASSERT_TRUE((*b)->CompressFrame(Lines(0, 500), &two).ok());
  EXPECT_EQ(one, two);  // the redo of a segment rebuilds identical bytes
  ASSERT_TRUE((*a)->CompressFrame(Lines(500, 900), &three).ok());
  auto whole = DecompressObject(c.codec, one + three);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, Lines(0, 900));
  auto empty = DecompressObject(c.codec, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST_P(ArchiveCodecTest, CorruptOrTruncatedIsDataLoss) {
  const CodecCase c = GetParam();
  auto z = MakeFrameCompressor(c.codec, c.level);
  ASSERT_TRUE(z.ok());
  std::string bytes;
  ASSERT_TRUE((*z)->CompressFrame(Lines(0, 300), &bytes).ok());
  EXPECT_EQ(DecompressObject(c.codec, bytes.substr(0, bytes.size() / 2)).status().code(),
            StatusCode::kDataLoss);
  std::string flipped = bytes;
  flipped[flipped.size() - 6] = static_cast<char>(flipped[flipped.size() - 6] ^ 0x55);
  EXPECT_EQ(DecompressObject(c.codec, flipped).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecompressObject(c.codec, "not compressed at all").status().code(),
            StatusCode::kDataLoss);
}

TEST_P(ArchiveCodecTest, ObjectNamesCarryTheCodec) {
  const CodecCase c = GetParam();
  const std::string key = SegmentObjectKey("pinterest", HourOf(1704067200000), kafka::Partition{2},
                                           kafka::Offset{42}, c.codec);
  EXPECT_EQ(key, std::string("pinterest/dt=2024-01-01/hr=00/2-00000000000000000042") + c.extension);
  EXPECT_EQ(CodecOfKey(key), c.codec);
  auto name = ParseSegmentObjectKey(key);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->codec, c.codec);
  EXPECT_EQ(name->partition, 2);
  EXPECT_EQ(name->first, 42);
  EXPECT_EQ(ParseCodec(CodecName(c.codec)), c.codec);
}

TEST_P(ArchiveCodecTest, FramePoolCompressesWithTheCodec) {
  const CodecCase c = GetParam();
  auto pool = FramePool::Create(c.level, 2, 4, c.codec);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ((*pool)->codec(), c.codec);
  auto frame = (*pool)->Submit(Lines(0, 100)).get();
  ASSERT_TRUE(frame.ok());
  auto text = DecompressObject(c.codec, *frame);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, Lines(0, 100));
}

TEST_P(ArchiveCodecTest, ManifestKeepsTheCodecAndZstdManifestsAreUnchanged) {
  const CodecCase c = GetParam();
  SegmentManifest m;
  m.group = "g";
  m.topic = "pinterest";
  m.kind = "pin";
  m.first = 10;
  m.end = 20;
  m.records = 10;
  m.zstd_level = c.level;
  m.codec = c.codec;
  m.objects = {
      {SegmentObjectKey("pinterest", 473000, kafka::Partition{0}, kafka::Offset{10}, c.codec), 10,
       1000}};
  m.object_count = 1;
  const std::string json = m.ToJson();
  EXPECT_EQ(json.find("\"codec\"") != std::string::npos, c.codec != ArchiveCodec::kZstd) << json;
  auto parsed = SegmentManifest::Parse(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, m);
}

TEST(ArchiveCodecErrorsTest, LevelsAndNames) {
  EXPECT_EQ(MakeFrameCompressor(ArchiveCodec::kGzip, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeFrameCompressor(ArchiveCodec::kGzip, 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseCodec("lz4").has_value());
  EXPECT_FALSE(CodecOfKey("pinterest/dt=2024-01-01/_SUCCESS").has_value());
  EXPECT_FALSE(ParseSegmentObjectKey("t/dt=2024-01-01/hr=00/0-00000000000000000000.jsonl.bz2"));
  auto bad =
      SegmentManifest::Parse(SegmentManifest{}.ToJson().replace(0, 1, "{\"codec\":\"lz4\","));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinpipe::archive
