#include "batch/object_cleaner.h"

#include <simdjson.h>

#include <algorithm>

#include <fmt/format.h>

#include "archive/archive_codec.h"
#include "core/hex.h"
#include "core/record_validator.h"

namespace pinpipe::batch {
namespace {

uint32_t End(const std::string& text) { return static_cast<uint32_t>(text.size()); }

}  // namespace

ObjectCleaner::ObjectCleaner(std::shared_ptr<const transform::Transform> transform,
                             core::RecordKind kind, CleanerOutputs outputs, DuplicateHints* hints)
    : transform_(std::move(transform)),
      kind_(kind),
      outputs_(outputs),
      hints_(hints),
      table_(transform_->table(kind)) {}

void ObjectCleaner::StartChunk(size_t object) {
  // Moved-from strings and vectors are empty; the next chunk grows them again. Reserving the
  // usual size up front saves the doubling copies.
  chunk_ = CleanChunk{};
  chunk_.object = object;
  const size_t n = outputs_.chunk_bytes;
  if (outputs_.csv) chunk_.csv.reserve(n / 3 + 4096);
  if (outputs_.json) chunk_.json.reserve(n / 2 + 4096);
  if (outputs_.copy) chunk_.copy.reserve(n / 3 + 4096);
}

void ObjectCleaner::AddDeadLetter(std::string_view key, int64_t line, std::string_view raw) {
  std::string& out = chunk_.rejected;
  out.append("{\"object\":");
  core::AppendJsonString(key, &out);
  fmt::format_to(std::back_inserter(out), ",\"line\":{},\"reason\":", line);
  core::AppendJsonString(core::FieldErrorsText(errors_, reason_), &out);
  if (simdjson::validate_utf8(raw.data(), raw.size())) {
    out.append(",\"raw\":");
    core::AppendJsonString(raw, &out);
  } else {
    out.append(",\"raw_hex\":\"");
    core::AppendHex(raw, &out);
    out.push_back('"');
  }
  out.append("}\n");
}

Status ObjectCleaner::Clean(std::string_view key, size_t object, std::string_view compressed,
                            const Emit& emit) {
  // A gzip object (`pinpipe archive --codec gzip`) is decompressed whole (objects are a segment's
  // hour: bounded by the archiver's rotation); zstd ones stream through ZstdLineReader.
  const bool gzip = archive::CodecOfKey(key) == archive::ArchiveCodec::kGzip;
  std::string_view text;
  size_t text_pos = 0;
  int64_t text_line = 0;
  if (gzip) {
    StatusOr<std::string> decompressed =
        archive::DecompressObject(archive::ArchiveCodec::kGzip, compressed);
    if (!decompressed.ok()) {
      return Status(decompressed.status().code(),
                    fmt::format("{}: {}", key, decompressed.status().message()));
    }
    text_ = std::move(decompressed).value();
    text = text_;
  } else {
    reader_.Reset(compressed);
  }
  auto next_line = [&](std::string_view* line) -> StatusOr<bool> {
    if (!gzip) return reader_.Next(line);
    if (text_pos >= text.size()) return false;
    size_t end = text.find('\n', text_pos);
    if (end == std::string_view::npos) end = text.size();
    if (end - text_pos > ZstdLineReader::kMaxLineBytes) {
      return InvalidArgument(
          fmt::format("line longer than {} bytes", ZstdLineReader::kMaxLineBytes));
    }
    *line = text.substr(text_pos, end - text_pos);
    text_pos = end + 1;
    ++text_line;
    return true;
  };
  auto line_number = [&] { return gzip ? text_line : reader_.line_number(); };
  auto consumed = [&]() -> uint64_t {
    if (!gzip) return reader_.compressed_consumed();
    return text.empty() ? compressed.size()
                        : compressed.size() * std::min(text_pos, text.size()) / text.size();
  };
  StartChunk(object);
  transform::QualityStats quality;
  tally_.Clear();  // a previous object that failed half-way may have left counts
  uint64_t reported_input = 0;
  const bool has_key = table_.dedup_column.has_value();
  const size_t key_column = table_.dedup_column.value_or(0);
  std::string_view line;
  while (true) {
    StatusOr<bool> more = next_line(&line);
    if (!more.ok()) {
      return Status(more.status().code(), fmt::format("{}: after line {}: {}", key, line_number(),
                                                      more.status().message()));
    }
    if (!*more) break;
    ++chunk_.records;
    const transform::Outcome outcome =
        transform_->ApplyToTally(kind_, line, &scratch_, &row_, &reason_, &errors_, &tally_);
    if (outcome == transform::Outcome::kDropped) {
      ++chunk_.dropped;
    } else if (outcome == transform::Outcome::kInvalid) {
      ++chunk_.dead;
      AddDeadLetter(key, line_number(), line);
    } else {
      ChunkRow r;
      DedupKey k;
      if (has_key && key_column < row_.cells.size()) {
        k = DedupKey::Of(row_.cells[key_column], &key_scratch_);
      }
      if (hints_ != nullptr && hints_->SeenBefore(k)) {
        ++chunk_.duplicates;
        continue;  // certainly not the first occurrence: no need to format it
      }
      r.key_type = k.type;
      r.key_hi = k.hi;
      r.key_lo = k.lo;
      if (k.type == DedupKeyType::kText) chunk_.key_text.append(k.text);
      if (outputs_.csv) transform_->AppendCsvLine(kind_, row_, &chunk_.csv);
      if (outputs_.json) transform_->AppendJsonLine(kind_, row_, &chunk_.json);
      if (outputs_.copy) transform::Transform::AppendCopyLine(row_, &chunk_.copy);
      r.csv_end = End(chunk_.csv);
      r.json_end = End(chunk_.json);
      r.copy_end = End(chunk_.copy);
      r.key_text_end = End(chunk_.key_text);
      chunk_.rows.push_back(r);
    }
    if (chunk_.ByteSize() >= outputs_.chunk_bytes) {
      chunk_.input_bytes = consumed() - reported_input;
      reported_input = consumed();
      RETURN_IF_ERROR(emit(std::move(chunk_)));
      StartChunk(object);
    }
  }
  chunk_.input_bytes = compressed.size() - reported_input;
  transform_->FoldTally(&tally_, &quality);
  chunk_.quality = std::move(quality);
  chunk_.last = true;
  return emit(std::move(chunk_));
}

}  // namespace pinpipe::batch
