// ArchiveCodec: how the archiver compresses its record objects, and everything that depends on
// it: the object name's extension, the frame compressor and the decompressor that reads an object
// back. zstd is the default (fastest for pinpipe: ZstdLineReader decodes it as a stream); gzip
// (`pinpipe archive --codec gzip`, objects *.jsonl.gz) is for readers that know no zstd, e.g.
// Hadoop/Spark without the native libhadoop. Readers pick the codec by the key's extension
// (CodecOfKey), so a lake may hold both.
//
// Both write an object as a sequence of independent members, one per frame of whole lines, each
// made with every parameter pinned, so the same chunk gives the same bytes every time with the
// same library (the archiver's exactly-once redo relies on it; see SegmentWriter): zstd frames
// (ZstdCompressor) or gzip members (RFC 1952 by zlib's deflate: no file name, mtime 0).
// Pure functions; a FrameCompressor is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pinpipe::archive {

enum class ArchiveCodec : uint8_t { kZstd, kGzip };

std::string_view CodecName(ArchiveCodec codec);  // "zstd", "gzip"
std::optional<ArchiveCodec> ParseCodec(std::string_view name);
std::string_view CodecExtension(ArchiveCodec codec);  // ".jsonl.zst", ".jsonl.gz"
// The codec of a record object's key by its extension; nullopt for any other name.
std::optional<ArchiveCodec> CodecOfKey(std::string_view key);
std::string_view CodecContentType(ArchiveCodec codec);  // "application/zstd", "application/gzip"

class FrameCompressor {
 public:
  virtual ~FrameCompressor() = default;
  // Appends one complete, independent frame (member) holding `input` to `out`.
  virtual Status CompressFrame(std::string_view input, std::string* out) = 0;
};

// Errors: InvalidArgument for a level outside the codec's range (zstd: its own; gzip: 1..9).
StatusOr<std::unique_ptr<FrameCompressor>> MakeFrameCompressor(ArchiveCodec codec, int level);

// The concatenated content of every frame (member) of `data`. DataLoss for anything that is not
// complete, valid data of the codec (truncated, corrupt, checksum mismatch).
StatusOr<std::string> DecompressObject(ArchiveCodec codec, std::string_view data);

}  // namespace pinpipe::archive
