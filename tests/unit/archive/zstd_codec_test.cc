#include "archive/zstd_codec.h"
#include "testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace pinpipe::archive {
namespace {

std::string Lines(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"ind\":" + std::to_string(rng() % 100000) + ",\"country\":\"Cote d'Ivoire\"}\n";
  }
  return out;
}

TEST(ZstdCodecTest, SameInputSameLevelSameBytes) {
  const std::string input = Lines(5000, 1);
  auto a = ZstdCompressor::Create(3);
  auto b = ZstdCompressor::Create(3);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string out_a, out_b, out_a_again;
  ASSERT_TRUE((*a)->CompressFrame(input, &out_a).ok());
  ASSERT_TRUE((*b)->CompressFrame(input, &out_b).ok());
  // A used context (state from an unrelated frame) must not change the next frame either.
  std::string scratch;
  ASSERT_TRUE((*a)->CompressFrame(Lines(300, 2), &scratch).ok());
  ASSERT_TRUE((*a)->CompressFrame(input, &out_a_again).ok());
  EXPECT_EQ(out_a, out_b);
  EXPECT_EQ(out_a, out_a_again);
  EXPECT_LT(out_a.size(), input.size() / 3);
}

TEST(ZstdCodecTest, ConcatenatedFramesDecompressAsOneStream) {
  auto z = ZstdCompressor::Create(1);
  ASSERT_TRUE(z.ok());
  std::string stream;
  std::string expected;
  for (uint32_t i = 0; i < 5; ++i) {
    const std::string part = Lines(1000, i);
    expected += part;
    ASSERT_TRUE((*z)->CompressFrame(part, &stream).ok());
  }
  auto back = ZstdDecompress(stream);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, expected);
  auto empty = ZstdDecompress("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST(ZstdCodecTest, CorruptOrTruncatedDataIsDataLoss) {
  auto z = ZstdCompressor::Create(3);
  ASSERT_TRUE(z.ok());
  std::string frame;
  ASSERT_TRUE((*z)->CompressFrame(Lines(2000, 7), &frame).ok());
  EXPECT_EQ(ZstdDecompress(frame.substr(0, frame.size() / 2)).status().code(),
            StatusCode::kDataLoss);
  std::string flipped = frame;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  EXPECT_THAT(ZstdDecompress(flipped), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(ZstdDecompress("not zstd at all"), StatusIs(StatusCode::kDataLoss));
}

TEST(ZstdCodecTest, RejectsLevelsOutsideZstdsRange) {
  EXPECT_THAT(ZstdCompressor::Create(0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ZstdCompressor::Create(1000), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ZstdCompressor::Create(-1).ok());
  EXPECT_TRUE(ZstdCompressor::Create(19).ok());
}

}  // namespace
}  // namespace pinpipe::archive
