#include "archive/zstd_codec.h"

#include <zstd.h>

#include <fmt/format.h>

namespace pinpipe::archive {

struct ZstdCompressor::Ctx {
  ZSTD_CCtx* cctx = nullptr;
  ~Ctx() { ZSTD_freeCCtx(cctx); }
};

ZstdCompressor::ZstdCompressor(std::unique_ptr<Ctx> ctx, int level)
    : ctx_(std::move(ctx)), level_(level) {}
ZstdCompressor::~ZstdCompressor() = default;

StatusOr<std::unique_ptr<ZstdCompressor>> ZstdCompressor::Create(int level) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel() || level == 0) {
    return InvalidArgument(fmt::format("zstd level {} is outside {}..{} (0 excluded)", level,
                                       ZSTD_minCLevel(), ZSTD_maxCLevel()));
  }
  auto ctx = std::make_unique<Ctx>();
  ctx->cctx = ZSTD_createCCtx();
  if (ctx->cctx == nullptr) return Internal("ZSTD_createCCtx failed");
  // Every parameter that shapes the output is set explicitly (not left to defaults that a build
  // could change): the bytes must be a function of the input alone.
  const std::pair<ZSTD_cParameter, int> params[] = {
      {ZSTD_c_compressionLevel, level}, {ZSTD_c_contentSizeFlag, 1}, {ZSTD_c_checksumFlag, 1},
      {ZSTD_c_dictIDFlag, 0},           {ZSTD_c_nbWorkers, 0},
  };
  for (const auto& [param, value] : params) {
    const size_t r = ZSTD_CCtx_setParameter(ctx->cctx, param, value);
    if (ZSTD_isError(r)) {
      return Internal(
          fmt::format("zstd parameter {}: {}", static_cast<int>(param), ZSTD_getErrorName(r)));
    }
  }
  return std::unique_ptr<ZstdCompressor>(new ZstdCompressor(std::move(ctx), level));
}

Status ZstdCompressor::CompressFrame(std::string_view input, std::string* out) {
  const size_t bound = ZSTD_compressBound(input.size());
  const size_t start = out->size();
  out->resize(start + bound);
  const size_t n =
      ZSTD_compress2(ctx_->cctx, out->data() + start, bound, input.data(), input.size());
  if (ZSTD_isError(n)) {
    out->resize(start);
    return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out->resize(start + n);
  return Status::Ok();
}

StatusOr<std::string> ZstdDecompress(std::string_view data) {
  struct DCtx {
    ZSTD_DCtx* d = ZSTD_createDCtx();
    ~DCtx() { ZSTD_freeDCtx(d); }
  } dctx;
  if (dctx.d == nullptr) return Internal("ZSTD_createDCtx failed");
  std::string out;
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t last = 0;  // 0 after a complete frame
  while (in.pos < in.size) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(dctx.d, &o, &in);
    if (ZSTD_isError(last)) {
      return DataLoss(std::string("invalid zstd data: ") + ZSTD_getErrorName(last));
    }
    out.append(chunk.data(), o.pos);
  }
  // Flush what the decoder still holds for the last frame.
  while (last != 0) {
    ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(dctx.d, &o, &in);
    if (ZSTD_isError(last)) {
      return DataLoss(std::string("invalid zstd data: ") + ZSTD_getErrorName(last));
    }
    out.append(chunk.data(), o.pos);
    if (o.pos == 0 && last != 0) return DataLoss("truncated zstd data (incomplete frame)");
  }
  return out;
}

}  // namespace pinpipe::archive
