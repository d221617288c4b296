#include "stream/chunk_builder.h"

#include <ctime>

#include <fmt/format.h>

#include "core/hex.h"
#include "pg/copy_in.h"

namespace pinpipe::stream {
namespace {

// The dedup key of a cell; empty for NULL (NULLs never conflict in a unique index).
bool DedupKey(const transform::Cell& cell, std::string* key) {
  if (const auto* s = std::get_if<std::string>(&cell)) {
    *key = *s;
    return true;
  }
  if (const auto* i = std::get_if<int64_t>(&cell)) {
    *key = std::to_string(*i);
    return true;
  }
  return false;
}

}  // namespace

void AppendTimestampField(int64_t timestamp_ms, std::string* out) {
  if (timestamp_ms < 0) {
    out->append("\\N");
    return;
  }
  time_t seconds = static_cast<time_t>(timestamp_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  fmt::format_to(std::back_inserter(*out), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}+00",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 timestamp_ms % 1000);
}

void AppendByteaField(std::string_view bytes, std::string* out) {
  out->append("\\\\x");  // COPY text escapes the bytea hex prefix's backslash
  core::AppendHex(bytes, out);
}

ChunkBuilder::ChunkBuilder(std::shared_ptr<const transform::Transform> transform,
                           core::EventTimePolicy event_time)
    : transform_(std::move(transform)), event_time_(event_time) {}

void ChunkBuilder::Add(core::RecordKind kind, std::string_view topic, kafka::Partition partition,
                       kafka::Offset offset, std::string_view value, int64_t timestamp_ms) {
  ++chunk_.records;
  const size_t k = static_cast<size_t>(kind);
  transform::Outcome outcome =
      transform_->ApplyToTally(kind, value, &scratch_, &row_, &reason_, &errors_, &tally_);
  switch (outcome) {
    case transform::Outcome::kDropped: ++chunk_.dropped; return;
    case transform::Outcome::kInvalid: {
      ++chunk_.dead;
      std::string& out = chunk_.dead_letters;
      pg::AppendCopyField(out, topic);
      fmt::format_to(std::back_inserter(out), "\t{}\t{}\t", partition.value, offset.value);
      AppendByteaField(value, &out);
      out.push_back('\t');
      std::string reason = core::FieldErrorsText(errors_, reason_);
      std::erase(reason, '\0');
      pg::AppendCopyField(out, reason);
      out.push_back('\n');
      return;
    }
    case transform::Outcome::kRow: break;
  }
  const transform::TableDef& table = transform_->table(kind);
  if (table.dedup_column && *table.dedup_column < row_.cells.size()) {
    std::string key;
    if (DedupKey(row_.cells[*table.dedup_column], &key) &&
        !seen_[k].insert(std::move(key)).second) {
      ++chunk_.dedup_in_chunk;
      return;
    }
  }
  PreparedTable& t = chunk_.tables[k];
  const size_t before = t.copy_data.size();
  transform::Transform::AppendCopyLine(row_, &t.copy_data);
  if (t.copy_data.size() > before && t.copy_data.back() == '\n') t.copy_data.pop_back();
  t.copy_data.push_back('\t');
  // kafka_ts: the formatted second is cached, most records of a chunk share it.
  if (timestamp_ms >= 0 && timestamp_ms / 1000 == ts_second_) {
    t.copy_data.append(ts_prefix_);
    fmt::format_to(std::back_inserter(t.copy_data), "{:03}+00", timestamp_ms % 1000);
  } else {
    const size_t at = t.copy_data.size();
    AppendTimestampField(timestamp_ms, &t.copy_data);
    if (timestamp_ms >= 0) {
      ts_second_ = timestamp_ms / 1000;
      ts_prefix_.assign(t.copy_data, at, 20);  // "YYYY-MM-DD HH:MM:SS."
    }
  }
  // dt: only rows pay for it (one On-Demand lookup of geo `timestamp` / user `date_joined`;
  // nothing for pins), and most rows of a chunk share the day.
  const int64_t day = event_time_.Day(kind, value, timestamp_ms);
  if (day != dt_day_) {
    dt_day_ = day;
    dt_text_ = core::DateOfDay(day);
  }
  t.copy_data.push_back('\t');
  t.copy_data.append(dt_text_);
  fmt::format_to(std::back_inserter(t.copy_data), "\t{}\t{}\n", partition.value, offset.value);
  if (t.topic.empty()) t.topic.assign(topic);
  t.origins.push_back({partition.value, offset.value});
  ++t.rows;
  ++chunk_.rows;
}

PreparedChunk ChunkBuilder::Take() {
  transform_->FoldTally(&tally_, &chunk_.quality);
  PreparedChunk out = std::move(chunk_);
  Discard();
  // The next chunk is likely about as large: grow its buffers once instead of by doubling.
  for (size_t k = 0; k < kKinds; ++k) {
    chunk_.tables[k].copy_data.reserve(out.tables[k].copy_data.size() +
                                       out.tables[k].copy_data.size() / 8);
  }
  return out;
}

void ChunkBuilder::Discard() {
  chunk_ = PreparedChunk{};
  tally_.Clear();
  for (auto& s : seen_) s.clear();
}

}  // namespace pinpipe::stream
