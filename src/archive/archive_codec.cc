#include "archive/archive_codec.h"

#include <zlib.h>

#include <fmt/format.h>

#include "archive/zstd_codec.h"

namespace pinpipe::archive {
namespace {

constexpr std::string_view kZstdExtension = ".jsonl.zst";
constexpr std::string_view kGzipExtension = ".jsonl.gz";

// One gzip member per frame: zlib's deflate with a gzip wrapper (windowBits 15 + 16), the level
// given, memLevel 8, the default strategy. zlib writes a header without name or time (mtime 0,
// OS byte fixed at build), so the bytes depend on the input, the level and zlib alone.
class GzipCompressor final : public FrameCompressor {
 public:
  explicit GzipCompressor(int level) : level_(level) {}
  Status CompressFrame(std::string_view input, std::string* out) override {
    z_stream z{};
    if (deflateInit2(&z, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Internal("gzip: deflateInit2 failed");
    }
    const size_t start = out->size();
    out->resize(start + deflateBound(&z, static_cast<uLong>(input.size())) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out->data() + start);
    z.avail_out = static_cast<uInt>(out->size() - start);
    const int rc = deflate(&z, Z_FINISH);
    const size_t written = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
      out->resize(start);
      return Internal(fmt::format("gzip: deflate failed ({})", rc));
    }
    out->resize(start + written);
    return Status::Ok();
  }

 private:
  int level_;
};

StatusOr<std::string> GunzipMembers(std::string_view data) {
  std::string out;
  size_t pos = 0;
  char buf[1 << 16];
  while (pos < data.size()) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return Internal("gzip: inflateInit2 failed");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + pos));
    z.avail_in = static_cast<uInt>(data.size() - pos);
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof(buf) - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended inside the member
    }
    const size_t used = data.size() - pos - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
      return DataLoss(fmt::format("not valid gzip at byte {} (zlib: {}): corrupt or truncated", pos,
                                  rc == Z_BUF_ERROR ? "truncated" : std::to_string(rc)));
    }
    pos += used;
  }
  return out;
}

}  // namespace

std::string_view CodecName(ArchiveCodec codec) {
  return codec == ArchiveCodec::kGzip ? "gzip" : "zstd";
}

std::optional<ArchiveCodec> ParseCodec(std::string_view name) {
  if (name == "zstd") return ArchiveCodec::kZstd;
  if (name == "gzip") return ArchiveCodec::kGzip;
  return std::nullopt;
}

std::string_view CodecExtension(ArchiveCodec codec) {
  return codec == ArchiveCodec::kGzip ? kGzipExtension : kZstdExtension;
}

std::optional<ArchiveCodec> CodecOfKey(std::string_view key) {
  if (key.ends_with(kZstdExtension)) return ArchiveCodec::kZstd;
  if (key.ends_with(kGzipExtension)) return ArchiveCodec::kGzip;
  return std::nullopt;
}

std::string_view CodecContentType(ArchiveCodec codec) {
  return codec == ArchiveCodec::kGzip ? "application/gzip" : "application/zstd";
}

StatusOr<std::unique_ptr<FrameCompressor>> MakeFrameCompressor(ArchiveCodec codec, int level) {
  if (codec == ArchiveCodec::kGzip) {
    if (level < 1 || level > 9) {
      return InvalidArgument(fmt::format("gzip level {} outside 1..9", level));
    }
    return std::unique_ptr<FrameCompressor>(new GzipCompressor(level));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ZstdCompressor> z, ZstdCompressor::Create(level));
  return std::unique_ptr<FrameCompressor>(std::move(z));
}

StatusOr<std::string> DecompressObject(ArchiveCodec codec, std::string_view data) {
  return codec == ArchiveCodec::kGzip ? GunzipMembers(data) : ZstdDecompress(data);
}

}  // namespace pinpipe::archive
