#include "batch/zstd_lines.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "testing/batch_lake.h"
#include "testing/status_matchers.h"

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

// `text` as one frame that does not record its size (as a streaming compressor writes it), so
// the reader cannot decode it whole and streams it through its window; `flush_every` > 0 also
// ends a block every that many bytes, so blocks do not line up with the window.
std::string StreamedFrame(std::string_view text, size_t flush_every = 0) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  const size_t step = flush_every == 0 ? text.size() : flush_every;
  size_t at = 0;
  do {
    const size_t n = std::min(step, text.size() - at);
    const bool last = at + n == text.size();
    ZSTD_inBuffer in{text.data() + at, n, 0};
    size_t remaining = 0;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      remaining = ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_flush);
      EXPECT_FALSE(ZSTD_isError(remaining));
      out.append(buf.data(), o.pos);
    } while (remaining != 0 || in.pos < in.size);
    at += n;
  } while (at < text.size());
  return out;
}

// `text` as one frame that records its size and a checksum, as the archiver writes them.
std::string SizedFrame(std::string_view text) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), text.data(), text.size());
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return text;
}

TEST(ZstdLineReaderTest, SizedAndStreamedFramesGiveTheSameLines) {
  // The same lines as frames that record their size (decoded whole) and as frames that do not,
  // or are larger than kMaxDirectFrameBytes (streamed through the window, blocks cut anywhere).
  const size_t w = ZstdLineReader::kWindowBytes;
  std::vector<std::string> lines;
  for (size_t n : {size_t{1}, w - 1, w, w + 1, 3 * w + 5, size_t{10}, size_t{0}, size_t{77}}) {
    lines.push_back(std::string(n, static_cast<char>('a' + lines.size())));
  }
  for (int i = 0; i < 2000; ++i) lines.push_back("{\"n\": " + std::to_string(i * 7919) + "}");
  const std::string text = Joined(lines);
  ZstdLineReader reader;
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame(text)), lines);
  EXPECT_EQ(ReadLines(reader, SizedFrame(text)), lines);
  EXPECT_EQ(ReadLines(reader, StreamedFrame(text)), lines);
  EXPECT_EQ(ReadLines(reader, StreamedFrame(text, 100003)), lines);
  // Mixed in one object, in both orders.
  EXPECT_EQ(ReadLines(reader, StreamedFrame(text) + testing::ZstdFrame(text)).size(),
            2 * lines.size());
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame(text) + StreamedFrame(text, 4096)).size(),
            2 * lines.size());
  EXPECT_EQ(reader.decompressed_bytes(), 2 * text.size());

  // A sized frame above kMaxDirectFrameBytes is streamed.
  std::vector<std::string> big;
  std::string big_text;
  while (big_text.size() <= ZstdLineReader::kMaxDirectFrameBytes) {
    big.push_back(std::string(1000 + big.size() % 5000, static_cast<char>('A' + big.size() % 26)));
    big_text += big.back() + "\n";
  }
  EXPECT_EQ(ReadLines(reader, testing::ZstdFrame(big_text, 1)), big);
}

TEST(ZstdLineReaderTest, ACorruptSizedFrameIsReportedAsByTheStream) {
  // A damaged frame that records its size fails its one-call decode; the reader then streams it,
  // so the error reads as for any other frame, and the frames before it still come out.
  std::vector<std::string> lines;
  for (int i = 0; i < 30000; ++i) lines.push_back("record number " + std::to_string(i));
  const std::string good = SizedFrame(Joined(lines));
  std::string bad = good;
  bad[bad.size() * 3 / 4] = static_cast<char>(bad[bad.size() * 3 / 4] ^ 0x21);
  ZstdLineReader reader;
  Status error;
  const std::vector<std::string> got = ReadLines(reader, good + bad, &error);
  EXPECT_THAT(error, StatusIs(StatusCode::kDataLoss)) << error.ToString();
  EXPECT_NE(error.message().find("corrupt zstd data near compressed byte"), std::string::npos)
      << error.ToString();
  ASSERT_GE(got.size(), lines.size());
  EXPECT_TRUE(std::equal(lines.begin(), lines.end(), got.begin()));
  // The reader is fine for the next object.
  EXPECT_EQ(ReadLines(reader, good), lines);
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
  EXPECT_THAT(error, StatusIs(StatusCode::kDataLoss));
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
  EXPECT_THAT(error, StatusIs(StatusCode::kDataLoss)) << error.ToString();
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
  EXPECT_THAT(error, StatusIs(StatusCode::kDataLoss)) << error.ToString();
}

TEST(ZstdLineReaderTest, OverlongLineIsInvalidArgument) {
  const std::string line(ZstdLineReader::kMaxLineBytes + 1, 'z');
  ZstdLineReader reader;
  Status error;
  EXPECT_TRUE(ReadLines(reader, testing::ZstdFrame("ok\n" + line + "\n"), &error).size() == 1);
  EXPECT_THAT(error, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(error.message().find("line 2 is longer than"), std::string::npos) << error.ToString();
}

}  // namespace
}  // namespace pinpipe::batch
