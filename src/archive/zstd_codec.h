// ZstdCompressor: deterministic zstd frames for archive objects, and ZstdDecompress to read them.
//
// An archive object is a sequence of independent zstd frames, one per chunk of about
// `frame_bytes` of whole JSONL lines (any zstd reader, e.g. `zstd -dc` or ZSTD_decompressStream,
// reads concatenated frames as one stream). Each frame is made by a one-shot ZSTD_compress2 with
// every parameter pinned (level, content size and checksum flags, no worker threads), so the
// same chunk gives the same bytes every time with the same libzstd: a re-run after a crash
// rebuilds byte-identical objects. A different libzstd version may compress differently; the
// archiver then compares decompressed content instead (see SegmentWriter). Frames also bound
// memory: only one chunk per open object is kept uncompressed.
//
// Thread-safety: a ZstdCompressor is used by one thread at a time; ZstdDecompress is free.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "archive/archive_codec.h"
#include "core/status.h"

namespace pinpipe::archive {

class ZstdCompressor final : public FrameCompressor {
 public:
  // Errors: InvalidArgument for a level outside zstd's range.
  static StatusOr<std::unique_ptr<ZstdCompressor>> Create(int level);
  ~ZstdCompressor() override;
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends one complete frame holding `input` to `out`. Errors: Internal (zstd failed).
  Status CompressFrame(std::string_view input, std::string* out) override;

  int level() const { return level_; }

 private:
  struct Ctx;
  ZstdCompressor(std::unique_ptr<Ctx> ctx, int level);
  std::unique_ptr<Ctx> ctx_;
  int level_;
};

// The concatenated content of every frame in `data`. DataLoss for anything that is not complete,
// valid zstd (truncated, corrupt, checksum mismatch).
StatusOr<std::string> ZstdDecompress(std::string_view data);

}  // namespace pinpipe::archive
