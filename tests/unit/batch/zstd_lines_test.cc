#include "batch/zstd_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/batch_lake.h"

namespace pinpipe::batch {
namespace {

// Every line of `compressed`; the first error (if any) goes to `*error`.
std::vector<std::string> ReadLines(ZstdLineReader& reader, std::string_view compressed,
                                   Status* error = nullptr) {
  reader.Reset(compressed);
  std::vector<std::string> out;
  std::string_view line;
  while (true) {
    StatusOr<bool> more = reader.Next(&line);
    if (!more.ok()) {
      if (error != nullptr) *error = more.status();
      return out;
    }
    if (!*more) return out;
    out.emplace_back(line);
  }
}

TEST(ZstdLineReaderTest, ReadsTheLinesOfConcatenatedFrames) {
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) lines.push_back("{\"n\": " + std::to_string(i) + "}");
  ZstdLineReader reader;
  const std::string compressed = testing::ZstdJsonl(lines, /*lines_per_frame=*/7);
  EXPECT_EQ(ReadLines(reader, compressed), lines);
  EXPECT_EQ(reader.line_number(), 100);
  EXPECT_EQ(reader.compressed_consumed(), compressed.size());
  EXPECT_EQ(reader.decompressed_bytes(), 10 * 9 + 90 * 10);  // "{"n": i}\n"
}

TEST(ZstdLineReaderTest, LinesAroundAndAcrossTheWindowEdge) {
  // Sizes around the 256 KiB window: some lines end exactly at its edge, some span two or three
  // windows, and short and empty lines sit in between.
  const size_t w = ZstdLineReader::kWindowBytes;
  std::vector<std::string> lines;
  for (size_t n : {size_t{1}, w - 1, w, w + 1, 3 * w + 5, size_t{10}, size_t{0}, size_t{77}}) {
    lines.push_back(std::string(n, static_cast<char>('a' + lines.size())));
  }
  ZstdLineReader reader;
  EXPECT_EQ(ReadLines(reader, testing::ZstdJsonl(lines, 3)), lines);
  // The reader is reused for the next object.
  EXPECT_EQ(ReadLines(reader, testing::ZstdJsonl({"x", "y"})),
            (std::vector<std::string>{"x", "y"}));
}

TEST(ZstdLineReaderTest, EmptyLinesAreRecordsAndTheLastNewlineIsOptional) {
  ZstdLineReader reader;
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame("a\n\nb\n\nc")),
            (std::vector<std::string>{"a", "", "b", "", "c"}));
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame("a\n")), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame("\n")), (std::vector<std::string>{""}));
  EXPECT_TRUE(ReadLines(reader, testing::ZstdFrame("")).empty());
  EXPECT_TRUE(ReadLines(reader, "").empty());  // an empty object holds no frame and no line
}

TEST(ZstdLineReaderTest, BytesThatAreNotZstdAreDataLoss) {
  ZstdLineReader reader;
  Status error;
  EXPECT_TRUE(ReadLines(reader, "{\"index\": 1}\n", &error).empty());
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("corrupt zstd data near compressed byte"), std::string::npos)
      << error.ToString();
  EXPECT_NE(error.message().find("Unknown frame descriptor"), std::string::npos)
      << error.ToString();
}

TEST(ZstdLineReaderTest, TruncatedObjectIsDataLossAfterTheLinesBeforeIt) {
  std::vector<std::string> lines;
  for (int i = 0; i < 50; ++i) lines.push_back("line " + std::to_string(i));
  const std::string whole = testing::ZstdJsonl(lines, 10);
  // Cut inside the last frame: the first 40 lines are whole frames and still come out.
  const std::string cut = whole.substr(0, whole.size() - 5);
  ZstdLineReader reader;
  Status error;
  const std::vector<std::string> got = ReadLines(reader, cut, &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss) << error.ToString();
  EXPECT_NE(error.message().find("truncated zstd data"), std::string::npos) << error.ToString();
  EXPECT_GE(got.size(), 40u);
  EXPECT_LT(got.size(), 50u);
}

TEST(ZstdLineReaderTest, FlippedByteFailsTheChecksumOrTheFrame) {
  const std::string whole = testing::ZstdFrame(std::string(5000, 'x') + "\n");
  std::string bad = whole;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
  ZstdLineReader reader;
  Status error;
  ReadLines(reader, bad, &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss) << error.ToString();
}

TEST(ZstdLineReaderTest, OverlongLineIsInvalidArgument) {
  const std::string line(ZstdLineReader::kMaxLineBytes + 1, 'z');
  ZstdLineReader reader;
  Status error;
  EXPECT_TRUE(ReadLines(reader, testing::ZstdFrame("ok\n" + line + "\n"), &error).size() == 1);
  EXPECT_EQ(error.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error.message().find("line 2 is longer than"), std::string::npos) << error.ToString();
}

}  // namespace
}  // namespace pinpipe::batch
