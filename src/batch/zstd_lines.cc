#include "batch/zstd_lines.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace pinpipe::batch {

void ZstdLineReader::DCtxDeleter::operator()(ZSTD_DCtx_s* ctx) const { ZSTD_freeDCtx(ctx); }

ZstdLineReader::ZstdLineReader() : dctx_(ZSTD_createDCtx()), window_(new char[kWindowBytes]) {
  PINPIPE_CHECK(dctx_ != nullptr) << "ZSTD_createDCtx failed (out of memory)";
}

ZstdLineReader::~ZstdLineReader() = default;

void ZstdLineReader::Reset(std::string_view compressed) {
  // A reset session drops any frame state left by an object that failed half-way.
  ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
  input_ = compressed;
  in_pos_ = 0;
  in_frame_ = false;
  begin_ = end_ = 0;
  carry_.clear();
  carry_returned_ = false;
  decompressed_ = 0;
  line_number_ = 0;
  done_ = false;
}

bool ZstdLineReader::DecodeWholeFrame(size_t* size) {
  const char* src = input_.data() + in_pos_;
  const size_t available = input_.size() - in_pos_;
  // Only a regular frame with Single_Segment_flag (bit 5 of the descriptor after the magic): its
  // window is its content size, so the stream would accept it too (the stream refuses windows
  // above its limit, and both ways must agree). ZSTD_compress2 writes such frames.
  if (available < 5 || (static_cast<unsigned char>(src[4]) & 0x20) == 0) return false;
  uint32_t magic = 0;  // little-endian in the format
  for (int i = 3; i >= 0; --i) magic = (magic << 8) | static_cast<unsigned char>(src[i]);
  if (magic != ZSTD_MAGICNUMBER) return false;
  const unsigned long long content = ZSTD_getFrameContentSize(src, available);
  if (content == ZSTD_CONTENTSIZE_UNKNOWN || content == ZSTD_CONTENTSIZE_ERROR ||
      content > kMaxDirectFrameBytes) {
    return false;
  }
  const size_t compressed = ZSTD_findFrameCompressedSize(src, available);
  if (ZSTD_isError(compressed)) return false;  // truncated: the stream reports it
  const auto bytes = static_cast<size_t>(content);
  if (frame_ == nullptr || frame_capacity_ < bytes) {
    frame_capacity_ = std::max({bytes, frame_capacity_ * 2, size_t{1} << 16});
    frame_.reset(new char[frame_capacity_]);
  }
  const size_t n = ZSTD_decompressDCtx(dctx_.get(), frame_.get(), bytes, src, compressed);
  if (ZSTD_isError(n) || n != bytes) {
    // Corrupt: stream the frame instead, which returns the lines before the damage and the
    // error exactly as for any other frame.
    ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
    return false;
  }
  in_pos_ += compressed;
  *size = n;
  return true;
}

StatusOr<bool> ZstdLineReader::Fill() {
  // Loop because a call may consume input (a frame header, a skippable frame) without output.
  while (true) {
    if (in_pos_ == input_.size()) {
      if (in_frame_) {
        return DataLoss(fmt::format(
            "truncated zstd data: the input ends inside a frame after {} compressed bytes",
            input_.size()));
      }
      return false;
    }
    if (size_t n = 0; !in_frame_ && DecodeWholeFrame(&n)) {
      if (n == 0) continue;  // an empty or skippable frame
      data_ = frame_.get();
      begin_ = 0;
      end_ = n;
      decompressed_ += n;
      return true;
    }
    ZSTD_inBuffer in{input_.data(), input_.size(), in_pos_};
    ZSTD_outBuffer out{window_.get(), kWindowBytes, 0};
    const size_t ret = ZSTD_decompressStream(dctx_.get(), &out, &in);
    if (ZSTD_isError(ret)) {
      return DataLoss(fmt::format("corrupt zstd data near compressed byte {} of {}: {}", in.pos,
                                  input_.size(), ZSTD_getErrorName(ret)));
    }
    in_pos_ = in.pos;
    in_frame_ = ret != 0;  // 0: a frame was completed and flushed
    if (out.pos > 0) {
      data_ = window_.get();
      begin_ = 0;
      end_ = out.pos;
      decompressed_ += out.pos;
      return true;
    }
  }
}

StatusOr<bool> ZstdLineReader::Next(std::string_view* line) {
  if (carry_returned_) {
    carry_.clear();
    carry_returned_ = false;
  }
  if (done_) return false;
  while (true) {
    if (begin_ < end_) {
      const char* start = data_ + begin_;
      const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
      if (nl != nullptr) {
        const size_t len = static_cast<size_t>(nl - start);
        if (carry_.size() + len > kMaxLineBytes) {
          return InvalidArgument(
              fmt::format("line {} is longer than {} bytes", line_number_ + 1, kMaxLineBytes));
        }
        begin_ += len + 1;
        ++line_number_;
        if (carry_.empty()) {
          *line = std::string_view(start, len);
        } else {
          carry_.append(start, len);
          carry_returned_ = true;
          *line = carry_;
        }
        return true;
      }
      // The line continues in the next window: keep its start.
      if (carry_.size() + (end_ - begin_) > kMaxLineBytes) {
        return InvalidArgument(
            fmt::format("line {} is longer than {} bytes", line_number_ + 1, kMaxLineBytes));
      }
      carry_.append(start, end_ - begin_);
      begin_ = end_;
    }
    ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      done_ = true;
      if (carry_.empty()) return false;
      // The last line without a final '\n'.
      ++line_number_;
      carry_returned_ = true;
      *line = carry_;
      return true;
    }
  }
}

}  // namespace pinpipe::batch
