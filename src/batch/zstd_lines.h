// ZstdLineReader: the lines of one zstd-compressed JSONL archive object. Concatenated frames (how
// the archiver writes objects) read as one stream. A frame whose header gives its size (the
// archiver's do, ~1 MiB each) and that is at most kMaxDirectFrameBytes is decompressed in one
// call straight into a frame buffer (ZSTD_decompressDCtx: no copy out of zstd's own buffers,
// which the profile showed); any other frame, and a frame that fails that way (corrupt,
// truncated), is decompressed as a stream (ZSTD_decompressStream) into a fixed window, so an
// object of any size needs only the compressed bytes plus kWindowBytes plus one frame buffer
// (and, for a line that spans two windows or frames, a copy of that one line). Both ways give
// the same lines and the same errors.
//
// Lines end at '\n'; the last line may lack it. An empty line is returned as an empty line (it
// is a record: an empty Kafka value, which the transform rejects as invalid JSON).
//
// Errors name what is wrong but not the object (the caller adds the key): DataLoss for bytes
// that are not zstd, a corrupt frame or checksum, and input that ends inside a frame
// (truncated); InvalidArgument for a line longer than kMaxLineBytes (not a Kafka record).
// Not thread-safe: one reader per worker thread, reused across objects (it keeps its ZSTD_DCtx).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct ZSTD_DCtx_s;

namespace pinpipe::batch {

class ZstdLineReader {
 public:
  static constexpr size_t kWindowBytes = 256 << 10;
  // Frames up to this (decompressed) size are decoded in one call into a buffer of their size.
  static constexpr size_t kMaxDirectFrameBytes = 8 << 20;
  // Kafka's message.max.bytes is 1 MiB by default; anything this long is not a record.
  static constexpr size_t kMaxLineBytes = 64 << 20;

  ZstdLineReader();
  ~ZstdLineReader();
  ZstdLineReader(const ZstdLineReader&) = delete;
  ZstdLineReader& operator=(const ZstdLineReader&) = delete;

  // Starts on a new object. `compressed` must stay valid until Next() returns false or an error.
  void Reset(std::string_view compressed);

  // The next line, without its '\n', in `*line` (valid until the next call). false at the end.
  StatusOr<bool> Next(std::string_view* line);

  // Compressed bytes consumed so far in this object (for progress).
  uint64_t compressed_consumed() const { return in_pos_; }
  // Decompressed bytes produced so far in this object.
  uint64_t decompressed_bytes() const { return decompressed_; }
  // 1-based number of the line last returned by Next() (0 before the first).
  int64_t line_number() const { return line_number_; }

 private:
  struct DCtxDeleter {
    void operator()(ZSTD_DCtx_s* ctx) const;
  };
  // Decompresses more into the window or the frame buffer. false at the clean end of the input.
  StatusOr<bool> Fill();
  // At a frame boundary: decodes the next frame whole into frame_ when its header gives a size
  // up to kMaxDirectFrameBytes and it decodes cleanly; true then (in_pos_ moved past it, its
  // bytes in frame_[0, *size)). false: nothing consumed, the caller streams the frame instead.
  bool DecodeWholeFrame(size_t* size);

  std::unique_ptr<ZSTD_DCtx_s, DCtxDeleter> dctx_;
  std::string_view input_;
  size_t in_pos_ = 0;
  bool in_frame_ = false;  // the last ZSTD_decompressStream call ended inside a frame
  std::unique_ptr<char[]> window_;
  std::unique_ptr<char[]> frame_;  // kept across objects, grown to the largest frame seen
  size_t frame_capacity_ = 0;
  const char* data_ = nullptr;  // window_ or frame_: holds [begin_, end_)
  size_t begin_ = 0;            // unread part of data_: [begin_, end_)
  size_t end_ = 0;
  std::string carry_;  // start of a line that continues in the next window or frame
  bool carry_returned_ = false;
  uint64_t decompressed_ = 0;
  int64_t line_number_ = 0;
  bool done_ = false;
};

}  // namespace pinpipe::batch
