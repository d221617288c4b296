// libFuzzer target for ZstdLineReader (src/batch/zstd_lines.h), the batch job's reader of zstd
// JSONL archive objects. One reader lives across all inputs, as a worker's reader lives across
// objects, so Reset() after a failed object is exercised too. Input, by its first byte's low two
// bits:
//   * 0-2, round trip: bytes 1-3 pick the compression level, the frame splits (anywhere, also
//     inside a line), empty and skippable frames between them and a damage point; the rest is
//     the text (repeated up to ~700 KiB when byte 0 asks, so lines span the 256 KiB window).
//     Checked: the lines read back are exactly the text's lines (the last may lack '\n'), the
//     counters agree; the stream cut at a frame boundary reads the lines of that prefix, cut
//     inside a frame gives DataLoss after a prefix of the lines; a damaged byte gives lines or
//     DataLoss, never anything else; and then the intact stream still reads back exactly.
//   * 3, arbitrary bytes: compared with a reference (whole-stream decompression, split at '\n'):
//     the same lines when it succeeds, DataLoss when it fails, InvalidArgument only for a line
//     over kMaxLineBytes.
// A failed property is a PINPIPE_CHECK (abort). Seed corpus: tests/fuzz/corpus/zstd_lines/.
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/zstd_lines.h"
#include "core/check.h"

namespace {

using pinpipe::Status;
using pinpipe::StatusCode;
using pinpipe::batch::ZstdLineReader;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// The lines of `text` as the reader defines them: split at '\n', a final '\n' ends the last line.
std::vector<std::string_view> LinesOf(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

struct ReadResult {
  size_t lines = 0;     // lines returned
  bool matched = true;  // every one equal to the expected line at its position
  Status status;
  bool exact(const std::vector<std::string_view>& expected) const {
    return status.ok() && matched && lines == expected.size();
  }
};

// Reads `compressed` to the end or the first error, comparing each line with `expected`.
ReadResult ReadAll(ZstdLineReader& reader, std::string_view compressed,
                   const std::vector<std::string_view>& expected) {
  ReadResult r;
  reader.Reset(compressed);
  std::string_view line;
  while (true) {
    pinpipe::StatusOr<bool> more = reader.Next(&line);
    if (!more.ok()) {
      r.status = more.status();
      return r;
    }
    if (!*more) break;
    r.matched = r.matched && r.lines < expected.size() && expected[r.lines] == line;
    ++r.lines;
    PINPIPE_CHECK(reader.line_number() == static_cast<int64_t>(r.lines));
  }
  // The end is sticky.
  pinpipe::StatusOr<bool> again = reader.Next(&line);
  PINPIPE_CHECK(again.ok() && !*again);
  PINPIPE_CHECK(reader.compressed_consumed() == compressed.size());
  return r;
}

// xorshift: the frame splits from a seed byte.
uint64_t Next(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

// One frame of `piece`; `flushes` > 0 ends blocks at that many arbitrary points inside it
// (ZSTD_e_flush), so block sizes do not line up with the reader's window.
std::string Frame(ZSTD_CCtx* cctx, std::string_view piece, size_t flushes, uint64_t* seed) {
  std::vector<size_t> at = {0, piece.size()};
  for (size_t i = 0; i < flushes && !piece.empty(); ++i) at.push_back(Next(seed) % piece.size());
  std::sort(at.begin(), at.end());
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  for (size_t i = 0; i + 1 < at.size(); ++i) {
    const bool last = i + 2 == at.size();
    ZSTD_inBuffer in{piece.data() + at[i], at[i + 1] - at[i], 0};
    size_t remaining = 0;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      remaining = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_flush);
      PINPIPE_CHECK(!ZSTD_isError(remaining)) << ZSTD_getErrorName(remaining);
      out.append(buf.data(), o.pos);
    } while (remaining != 0 || in.pos < in.size);
  }
  return out;
}

std::string SkippableFrame(uint8_t variant) {
  std::string out(8 + (variant & 7), static_cast<char>(variant));
  const uint32_t magic = ZSTD_MAGIC_SKIPPABLE_START | (variant & 0xF);
  const auto size = static_cast<uint32_t>(variant & 7);
  for (int i = 0; i < 4; ++i) {
    out[static_cast<size_t>(i)] = static_cast<char>((magic >> (8 * i)) & 0xFF);
    out[static_cast<size_t>(4 + i)] = static_cast<char>((size >> (8 * i)) & 0xFF);
  }
  return out;
}

void RoundTrip(ZstdLineReader& reader, const uint8_t* data, size_t size) {
  if (size < 4) return;
  const uint8_t flags = data[0];
  const int level = 1 + data[1] % 6 - (data[1] & 0x80 ? 6 : 0);  // -5..6
  uint64_t seed = 0x9E3779B97F4A7C15ULL ^ (static_cast<uint64_t>(data[2]) << 32) ^ size;
  const uint8_t damage = data[3];
  std::string text(reinterpret_cast<const char*>(data + 4), size - 4);
  // Rarely (it is slow under ASan) a text of 300 or 600 KiB: lines across windows.
  if (const int big = (flags >> 2) & 7; big >= 6 && !text.empty()) {
    const size_t target = (big == 6 ? 300 : 600) * size_t{1024};
    while (text.size() < target) text += text;
    text.resize(target + data[1]);
  }
  const std::vector<std::string_view> expected = LinesOf(text);

  // Cut the text into frames at arbitrary points.
  std::vector<size_t> cuts = {0};
  const size_t splits = data[2] % 8;
  for (size_t i = 0; i < splits; ++i) cuts.push_back(text.empty() ? 0 : Next(&seed) % text.size());
  cuts.push_back(text.size());
  std::sort(cuts.begin(), cuts.end());

  static std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, (flags >> 5) & 1);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, (flags >> 6) & 1);

  std::string stream;
  // Frame boundaries: (compressed bytes, text bytes) after each whole frame.
  std::vector<std::pair<size_t, size_t>> boundaries;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    if ((damage & 1) && (Next(&seed) & 1)) {
      stream += SkippableFrame(static_cast<uint8_t>(Next(&seed)));
      boundaries.emplace_back(stream.size(), cuts[i]);
    }
    if ((damage & 2) && (Next(&seed) & 1)) {
      stream += Frame(cctx.get(), "", 0, &seed);
      boundaries.emplace_back(stream.size(), cuts[i]);
    }
    stream += Frame(cctx.get(), std::string_view(text).substr(cuts[i], cuts[i + 1] - cuts[i]),
                    (damage >> 2) & 3, &seed);
    boundaries.emplace_back(stream.size(), cuts[i + 1]);
  }

  ReadResult whole = ReadAll(reader, stream, expected);
  PINPIPE_CHECK(whole.status.ok()) << whole.status.ToString();
  PINPIPE_CHECK(whole.exact(expected)) << whole.lines << " lines vs " << expected.size();
  PINPIPE_CHECK(reader.decompressed_bytes() == text.size());

  // Cut the compressed stream.
  if (!stream.empty()) {
    const size_t cut = Next(&seed) % stream.size();
    size_t text_end = 0;
    bool at_boundary = cut == 0;
    for (const auto& [compressed_end, t] : boundaries) {
      if (compressed_end == cut) {
        at_boundary = true;
        text_end = t;
      }
    }
    const std::vector<std::string_view> prefix_lines =
        LinesOf(std::string_view(text).substr(0, text_end));
    ReadResult part = ReadAll(reader, std::string_view(stream).substr(0, cut),
                              at_boundary ? prefix_lines : expected);
    if (at_boundary) {
      PINPIPE_CHECK(part.exact(prefix_lines)) << part.status.ToString();
    } else {
      PINPIPE_CHECK(part.status.code() == StatusCode::kDataLoss) << part.status.ToString();
      PINPIPE_CHECK(part.matched);
    }

    // Damage one byte: lines or DataLoss, nothing else.
    std::string damaged = stream;
    damaged[Next(&seed) % damaged.size()] ^= static_cast<char>(damage | 1);
    ReadResult bad = ReadAll(reader, damaged, expected);
    PINPIPE_CHECK(bad.status.ok() || bad.status.code() == StatusCode::kDataLoss)
        << bad.status.ToString();
  }

  // The reader recovers from whatever the last object left behind.
  ReadResult again = ReadAll(reader, stream, expected);
  PINPIPE_CHECK(again.exact(expected)) << again.status.ToString();
}

// Whole-stream decompression as the reference; false when the data is not valid zstd (or would
// decompress to more than `cap` bytes: then *capped).
bool Reference(std::string_view compressed, size_t cap, std::string* out, bool* capped) {
  static std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  ZSTD_DCtx_reset(dctx.get(), ZSTD_reset_session_only);
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  std::string buf(1 << 16, '\0');
  size_t ret = 0;
  *capped = false;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(ret)) return false;
    out->append(buf.data(), o.pos);
    if (out->size() > cap) {
      *capped = true;
      return false;
    }
    if (o.pos == 0 && in.pos == in.size) break;
  }
  // Flush whatever the last input left buffered.
  while (ret != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(ret)) return false;
    out->append(buf.data(), o.pos);
    if (out->size() > cap) {
      *capped = true;
      return false;
    }
    if (o.pos == 0) break;  // needs more input: truncated
  }
  return ret == 0;
}

void Arbitrary(ZstdLineReader& reader, std::string_view compressed) {
  std::string text;
  bool capped = false;
  const bool valid = Reference(compressed, 2 * ZstdLineReader::kMaxLineBytes, &text, &capped);
  const std::vector<std::string_view> expected = LinesOf(text);
  ReadResult got = ReadAll(reader, compressed, expected);
  PINPIPE_CHECK(got.status.ok() || got.status.code() == StatusCode::kDataLoss ||
                got.status.code() == StatusCode::kInvalidArgument)
      << got.status.ToString();
  if (capped) return;
  size_t longest = 0;
  for (std::string_view l : expected) longest = std::max(longest, l.size());
  if (got.status.ok()) {
    PINPIPE_CHECK(valid) << "the reader accepted data the reference rejects";
    PINPIPE_CHECK(got.exact(expected)) << got.lines << " lines vs " << expected.size();
    PINPIPE_CHECK(reader.decompressed_bytes() == text.size());
  } else if (got.status.code() == StatusCode::kInvalidArgument) {
    PINPIPE_CHECK(longest > ZstdLineReader::kMaxLineBytes) << got.status.ToString();
  } else {
    PINPIPE_CHECK(!valid) << "the reader rejected valid data: " << got.status.ToString();
    PINPIPE_CHECK(got.matched);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ZstdLineReader* reader = new ZstdLineReader();
  if (size == 0) return 0;
  if ((data[0] & 3) == 3) {
    Arbitrary(*reader, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    RoundTrip(*reader, data, size);
  }
  return 0;
}
