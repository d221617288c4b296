#include "batch/clean_parts_writer.h"

#include <algorithm>

#include <fmt/format.h>

#include "archive/archive_layout.h"

namespace pinpipe::batch {
namespace {

constexpr std::string_view kSuccess = "_SUCCESS";

}  // namespace

CleanPartsWriter::CleanPartsWriter(lake::ObjectStore* store, const transform::TableDef& table,
                                   int64_t day, PartsOptions options)
    : store_(store),
      table_(table),
      options_(std::move(options)),
      day_prefix_(fmt::format("{}{}/dt={}/", options_.prefix, table.table, core::DateOfDay(day))) {
  // Column names are plain lowercase SQL identifiers (the transform checks), so the header needs
  // no quoting.
  for (size_t i = 0; i < table_.columns.size(); ++i) {
    if (i > 0) header_.push_back(',');
    header_.append(table_.columns[i].name);
  }
  header_.push_back('\n');
}

CleanPartsWriter::~CleanPartsWriter() = default;

Status CleanPartsWriter::Begin() {
  RETURN_IF_ERROR(store_->Delete(day_prefix_ + std::string(kSuccess)));
  return OpenPart();
}

Status CleanPartsWriter::OpenPart() {
  const std::string base = fmt::format("{}part-{:05d}", day_prefix_, part_);
  if (options_.csv) {
    lake::PutOptions o;
    o.content_type = "text/csv; charset=utf-8";
    ASSIGN_OR_RETURN(csv_writer_, store_->NewWriter(base + ".csv", o));
    csv_buf_.append(header_);
  }
  if (options_.json) {
    lake::PutOptions o;
    o.content_type = "application/x-ndjson";
    ASSIGN_OR_RETURN(json_writer_, store_->NewWriter(base + ".jsonl", o));
  }
  csv_part_bytes_ = csv_buf_.size();
  json_part_bytes_ = 0;
  open_ = true;
  return Status::Ok();
}

Status CleanPartsWriter::Flush(bool force) {
  if (csv_writer_ && (force || csv_buf_.size() >= options_.flush_bytes) && !csv_buf_.empty()) {
    RETURN_IF_ERROR(csv_writer_->Append(csv_buf_));
    csv_buf_.clear();
  }
  if (json_writer_ && (force || json_buf_.size() >= options_.flush_bytes) && !json_buf_.empty()) {
    RETURN_IF_ERROR(json_writer_->Append(json_buf_));
    json_buf_.clear();
  }
  return Status::Ok();
}

Status CleanPartsWriter::ClosePart() {
  const std::string base = fmt::format("{}part-{:05d}", day_prefix_, part_);
  RETURN_IF_ERROR(Flush(/*force=*/true));
  if (csv_writer_) {
    RETURN_IF_ERROR(csv_writer_->Close());
    csv_writer_.reset();
    written_.push_back(base + ".csv");
  }
  if (json_writer_) {
    RETURN_IF_ERROR(json_writer_->Close());
    json_writer_.reset();
    written_.push_back(base + ".jsonl");
  }
  open_ = false;
  ++part_;
  return Status::Ok();
}

Status CleanPartsWriter::AddRow(std::string_view csv_line, std::string_view json_line) {
  if (!open_) RETURN_IF_ERROR(OpenPart());
  if (options_.csv) {
    csv_buf_.append(csv_line);
    csv_part_bytes_ += csv_line.size();
  }
  if (options_.json) {
    json_buf_.append(json_line);
    json_part_bytes_ += json_line.size();
  }
  if (std::max(csv_part_bytes_, json_part_bytes_) >= options_.part_bytes) {
    // The next row opens the next part, so a day never ends with an empty part.
    return ClosePart();
  }
  return Flush(/*force=*/false);
}

Status CleanPartsWriter::Finish() {
  // A day without rows still gets part 0 (a CSV with only the header): readers see the columns
  // and that the day was processed.
  if (open_ || part_ == 0) {
    if (!open_) RETURN_IF_ERROR(OpenPart());
    RETURN_IF_ERROR(ClosePart());
  }
  ASSIGN_OR_RETURN(std::vector<lake::ObjectInfo> listed, store_->List(day_prefix_));
  for (const lake::ObjectInfo& info : listed) {
    if (std::find(written_.begin(), written_.end(), info.key) != written_.end()) continue;
    RETURN_IF_ERROR(store_->Delete(info.key));
  }
  return Status::Ok();
}

Status CleanPartsWriter::Seal() {
  lake::PutOptions o;
  o.content_type = "text/plain";
  return store_->Put(day_prefix_ + std::string(kSuccess), "", o);
}

void CleanPartsWriter::Abandon() {
  csv_writer_.reset();
  json_writer_.reset();
  open_ = false;
  auto listed = store_->List(day_prefix_);
  if (!listed.ok()) return;
  for (const lake::ObjectInfo& info : *listed) store_->Delete(info.key).IgnoreError();
}

}  // namespace pinpipe::batch
